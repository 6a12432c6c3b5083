"""dlkit.atomic_write: the file is either the old one or the whole new one, never half of either."""

import os
import stat
import threading

import pytest

from dlkit.atomic_write import write_atomic


def test_writes_the_text_and_creates_the_folder(tmp_path):
    path = tmp_path / "a" / "b" / "grades.csv"
    write_atomic(str(path), "x,y\r\n1,2\n")
    assert path.read_bytes() == b"x,y\r\n1,2\n"  # newlines kept as given
    assert os.listdir(path.parent) == ["grades.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("old")
    with pytest.raises(TypeError, match="must be str, not bytes"):
        write_atomic(str(path), b"new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["grades.csv"]


def test_new_file_gets_the_umask_permissions(tmp_path):
    umask = os.umask(0o027)
    try:
        write_atomic(str(tmp_path / "f.txt"), "text")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "f.txt").st_mode) == 0o640


def test_threads_writing_side_by_side_each_leave_a_whole_file(tmp_path):
    texts = {f"f{i}.txt": str(i) * 100_000 for i in range(8)}
    threads = [threading.Thread(target=write_atomic, args=(str(tmp_path / n), t)) for n, t in texts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == texts
