"""environment.yml stays in step with pyproject.toml, and the project files the README promises exist."""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is in the dev extra there)
    import tomli as tomllib


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment_pip_entries():
    text = (ROOT / "environment.yml").read_text()
    entries = re.findall(r'^\s+- "(.+)"\s*$', text, flags=re.MULTILINE)
    assert entries, "environment.yml lists no pip entries"
    return entries


def test_environment_yml_lists_exactly_the_runtime_packages():
    runtime = _pyproject()["project"]["dependencies"]
    entries = [e for e in _environment_pip_entries() if not e.startswith("-e")]
    assert sorted(entries) == sorted(runtime)


def test_environment_yml_installs_the_package_with_its_dev_extra():
    assert "-e .[dev]" in _environment_pip_entries()
    assert "dev" in _pyproject()["project"]["optional-dependencies"]


def test_environment_yml_python_is_supported():
    text = (ROOT / "environment.yml").read_text()
    version = re.search(r"python=(\d+)\.(\d+)", text)
    assert version and (3, 10) <= (int(version[1]), int(version[2])) <= (3, 12)
    assert _pyproject()["project"]["requires-python"] == ">=3.10"


def test_ci_script_calls_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", script, flags=re.MULTILINE)


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.find("\n## ", readme.find("make test"))]
    assert "make run" in head and "make test" in head
