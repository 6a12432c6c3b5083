"""`write_workspace`: the student versions of the labs, for a learner studying alone from a clone.

`make lab` (and `dlkit labs student`) writes each lab's release (`dlkit.grading.release`: solutions blanked,
hidden tests removed; the visible checks work) into a work folder, `workspace/` by default (git-ignored), and
opens that folder; the solutions stay in `labs/` for later. A notebook the learner has changed is never
overwritten: the folder keeps a manifest, `.dlkit-workspace.json`, of the SHA-256 of every notebook it wrote, and

```
for each lab: release = the student version of labs/NN_topic.ipynb
    no file in the workspace                       -> write it                  ("created")
    the file is what dlkit last wrote there        -> replace it if the release changed ("updated"/"unchanged")
    anything else (edited, or not written by dlkit) -> leave it                  ("kept: you changed it")
```
"""

import hashlib
import json
import os

from dlkit.atomic_write import write_atomic
from dlkit.lab_files import lab_name

MANIFEST = ".dlkit-workspace.json"


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_manifest(out_dir):
    """{file name: sha256} of what dlkit wrote; {} when missing or unreadable (then every file counts as the
    learner's: nothing is overwritten on a guess)."""
    try:
        with open(os.path.join(out_dir, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict):
        return {}
    return {k: v for k, v in manifest.items() if isinstance(k, str) and isinstance(v, str)}


def _file_sha256(path):
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return _sha256(f.read())
    except (OSError, UnicodeDecodeError):
        return None


def write_workspace(labs, out_dir="workspace"):
    """Writes the student version of each lab into `out_dir`, keeping the notebooks the learner changed.

    Example:

    >>> write_workspace(find_labs("labs"), "workspace")
    [('workspace/01_initialization.ipynb', 'created'), ...]

    Args:
        labs: List of lab source paths (`NN_topic.ipynb`, with solutions).
        out_dir: String. The work folder (created if needed); must not be a lab's own folder.

    Returns:
        A list of (path, action), one per lab, in order; action is "created", "updated", "unchanged" or
        "kept: you changed it".

    Raises:
        ValueError: if `labs` is empty, `out_dir` is a lab's folder, or a lab breaks the lab format (then
            nothing is written for any lab).
    """
    import nbformat

    from dlkit.grading.release import release_notebook

    if not labs:
        raise ValueError("Argument `labs` must name at least one lab notebook. Received: labs=[]")
    if not isinstance(out_dir, str | os.PathLike) or not str(out_dir):
        raise ValueError(f"Argument `out_dir` must be a folder path. Received: out_dir={out_dir!r}")
    if any(os.path.abspath(os.path.dirname(lab)) == os.path.abspath(out_dir) for lab in labs):
        raise ValueError(
            f"Argument `out_dir` must differ from the labs' folder (it would overwrite the solutions). "
            f"Received: out_dir={out_dir!r}"
        )
    # Every release first: a lab that breaks the format stops the whole call before anything is written.
    releases = []
    for lab in labs:
        notebook = nbformat.read(lab, as_version=4)
        release_notebook(notebook, name=lab_name(lab))
        releases.append((os.path.basename(lab), nbformat.writes(notebook) + "\n"))
    manifest = _read_manifest(out_dir)
    results = []
    for name, text in releases:
        path = os.path.join(out_dir, name)
        current = _file_sha256(path) if os.path.lexists(path) else None
        if current is None and os.path.lexists(path):
            action = "kept: you changed it"  # unreadable, a link or a folder: not ours to replace
        elif current is None:
            action = "created"
        elif current != manifest.get(name):
            action = "kept: you changed it"
        elif current == _sha256(text):
            action = "unchanged"
        else:
            action = "updated"
        if action in ("created", "updated"):
            write_atomic(path, text)
            manifest[name] = _sha256(text)
        results.append((path, action))
    write_atomic(os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return results
