"""Runs the real nbgrader on labs exported by `dlkit export nbgrader` (shared by the nbgrader tests).

One course folder per call: `export_nbgrader` for each lab, `nbgrader generate_assignment`, a submission per
student (the solution, the student release, a wrong answer) in `submitted/<student>/<lab>/`, then one
`nbgrader autograde` per lab; the scores are read back from nbgrader's gradebook database.
"""

import os
import subprocess
import sys

import nbformat

from dlkit.grading.lab_format import nbgrader_meta
from dlkit.grading.nbgrader_export import export_nbgrader
from dlkit.lab_files import lab_name


def _nbgrader(course, *args, timeout=1800):
    # The notebooks' kernel ("python3") must be this environment's Python, with dlkit in it.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    nbgrader = os.path.join(os.path.dirname(sys.executable), "nbgrader")
    result = subprocess.run(
        [nbgrader, *args], cwd=course, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def _with_solutions(release_path, source_path, mutate=None):
    """The release with the source's solution cells put back (`mutate(grade_id, source)` may change one)."""
    source = {
        nbgrader_meta(cell).get("grade_id"): cell.source
        for cell in nbformat.read(source_path, as_version=4).cells
        if nbgrader_meta(cell).get("solution")
    }
    notebook = nbformat.read(release_path, as_version=4)
    for cell in notebook.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in source:
            cell.source = mutate(grade_id, source[grade_id]) if mutate else source[grade_id]
    return notebook


def autograde_course(course, labs, mistakes, *, memory_mb=8192, timeout=900, references=None):
    """Exports `labs`, releases and autogrades three students per lab with the real nbgrader.

    Args:
        course: String. An empty folder for the nbgrader course.
        labs: List of lab source paths.
        mistakes: {lab name: (grade_id, old text, new text)}: the wrong answer's one change.
        references: {lab name: reference values} already computed, or None (each export runs its lab).

    Returns:
        {lab name: {student: (total score, max score, {check grade_id: score})}} for the students "solution",
        "release" and "wrong".
    """
    from nbgrader.api import Gradebook

    for lab in labs:
        reference = (references or {}).get(lab_name(lab))
        export_nbgrader(lab, course, timeout=timeout, memory_mb=memory_mb, reference=reference)
    for lab in labs:
        name = lab_name(lab)
        _nbgrader(course, "generate_assignment", name, "--force")
        release = os.path.join(course, "release", name, f"{name}.ipynb")
        grade_id, old, new = mistakes[name]

        def mutate(cell_id, source, grade_id=grade_id, old=old, new=new, name=name):
            if cell_id != grade_id:
                return source
            if old not in source:
                raise ValueError(f"{name}, {grade_id}: {old!r} is not in the solution")
            return source.replace(old, new, 1)

        students = {
            "solution": _with_solutions(release, lab),
            "release": nbformat.read(release, as_version=4),
            "wrong": _with_solutions(release, lab, mutate),
        }
        for student, notebook in students.items():
            folder = os.path.join(course, "submitted", student, name)
            os.makedirs(folder, exist_ok=True)
            nbformat.write(notebook, os.path.join(folder, f"{name}.ipynb"))
        _nbgrader(course, "autograde", name, "--force", f"--Execute.timeout={timeout}")
    results = {}
    with Gradebook(f"sqlite:///{os.path.join(course, 'gradebook.db')}") as gradebook:
        for lab in labs:
            name = lab_name(lab)
            results[name] = {}
            for student in ("solution", "release", "wrong"):
                submission = gradebook.find_submission(name, student)
                grades = {g.name: g.score for notebook in submission.notebooks for g in notebook.grades}
                results[name][student] = (submission.score, submission.max_score, grades)
    return results
