"""`write_atomic`: the one way dlkit writes a file that someone may read at any moment."""

import os
import tempfile


def write_atomic(path, text):
    """Writes `text` to `path` through a temporary file and `os.replace`, so readers never see half a file.

    The temporary file sits in the same folder (so the rename stays on one file system) and is removed if the
    write fails; the folder is created if missing.

    Example:

    >>> write_atomic("grades/gradebook.csv", csv_text)

    Args:
        path: String. The file to write.
        text: String. Its whole content (UTF-8, newlines as given).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # A unique name per call: threads of one process (`dlkit grade --jobs`) may write side by side.
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        # mkstemp creates the file private (0600); the result gets the usual permissions a new file would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
