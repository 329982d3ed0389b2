"""`make setup` on the Pythons instructors have: a supported one installs, any other stops at once, saying why."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

FAKE_PYTHON = """#!/bin/sh
# Answers like CPython {version} would to the Makefile's two questions.
case "$*" in
  *sys.version_info*) python3 -c "import sys; sys.exit(0 if {tuple} >= (3, 11) and {tuple} <= (3, 13) else 1)" ;;
  *python_version*) echo {version} ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


def _fake_python(tmp_path: Path, version: str) -> Path:
    major, minor, _ = version.split(".")
    path = tmp_path / f"python{version}"
    path.write_text(FAKE_PYTHON.format(version=version, tuple=f"({major}, {minor})"))
    path.chmod(0o755)
    return path


def _check_python(tmp_path: Path, version: str) -> subprocess.CompletedProcess[str]:
    """Run the Makefile's first setup step with a Python that says it is `version`."""
    return subprocess.run(
        ["make", "--no-print-directory", "python-version", f"PYTHON={_fake_python(tmp_path, version)}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("version", ["3.10.13", "3.14.0", "2.7.18"])
def test_an_unsupported_python_stops_setup_at_once_with_what_to_do(tmp_path: Path, version: str) -> None:
    done = _check_python(tmp_path, version)
    assert done.returncode != 0
    assert f"is Python {version}; this course needs CPython 3.11 (3.11.2 or later) to 3.13" in done.stdout
    assert "make setup PYTHON=" in done.stdout


@pytest.mark.parametrize("version", ["3.11.2", "3.12.1", "3.13.0"])
def test_a_supported_python_passes_the_check(tmp_path: Path, version: str) -> None:
    done = _check_python(tmp_path, version)
    assert done.returncode == 0, done.stdout + done.stderr


def test_setup_checks_the_python_before_it_makes_the_environment() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^setup: python-version ", makefile, re.M)
    assert re.search(r"^\$\(STAMP\): requirements.txt pyproject.toml \| python-version$", makefile, re.M)


def test_the_pins_fit_debian_12s_python() -> None:
    # soupsieve 3.x needs Python 3.11.5 (possessive quantifiers in `re`): on Debian 12's 3.11.2 it
    # installed nowhere, and where forced, every feedback file failed (nbconvert selects `img:not([alt])`).
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().split() if "==" in line)
    assert int(pins["soupsieve"].split(".")[0]) < 3


def test_the_autograder_is_an_installed_package_with_a_console_script() -> None:
    import sys
    from importlib.metadata import distribution

    import autograder

    dist = distribution("shallow-narrow-course")
    assert Path(autograder.__file__).resolve().parent == ROOT / "autograder"  # editable: this course's code
    assert {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"} == {
        "autograder": "autograder.cli:main"
    }
    script = Path(sys.executable).parent / "autograder"
    done = subprocess.run([str(script), "grade", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--unsandboxed" in done.stdout
    # Nothing puts the course on the path by hand any more (the kernel builder's own "" aside).
    assert not list(Path(sys.prefix).glob("lib/python*/site-packages/shallow_narrow_course.pth"))
    files = [ROOT / "nbgrader_config.py", *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]
    for path in (p for p in files if p != Path(__file__)):
        assert "sys.path.insert" not in path.read_text(), path
