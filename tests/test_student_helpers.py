"""The student helpers the assignments share: written once (source/course_helpers.py), copied by `make build`.

Each assignment folder whose helpers import it carries a copy, because a notebook (and the grader's
sandbox) sees its own folder only. These tests are quick: the full comparison with a fresh build is
`test_notebooks.py::test_release_and_notebooks_are_in_sync_with_source`.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import build
from conftest import ROOT
from test_notebooks import HELPERS


def _top_level_names(path: Path) -> set[str]:
    """The names a module defines itself: functions, classes and assigned constants (imports left out)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize("assignment", sorted(HELPERS))
def test_every_copy_is_the_shared_file_with_its_generated_line(assignment: str) -> None:
    assert build.needs_shared(ROOT / "source" / assignment)
    assert build.stale_shared_copies(assignment) == [], "a copy differs from source/course_helpers.py: run `make build`"
    copy = ROOT / "source" / assignment / build.SHARED.name
    assert copy.read_text().splitlines()[0] == build.GENERATED.strip()


def test_the_shared_file_is_no_assignment() -> None:
    # nbgrader and `autograder grade` take every folder of source/ for an assignment, never a file.
    assert build.SHARED.is_file() and build.SHARED.parent == ROOT / "source"
    assert build.SHARED.name not in build.assignments()


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch course: a shared file, assignment `a` whose helpers import it, `b` whose do not."""
    for name, folder in [("ROOT", ""), ("SOURCE", "source"), ("RELEASE", "release"), ("NOTEBOOKS", "notebooks")]:
        monkeypatch.setattr(build, name, tmp_path / folder)
    monkeypatch.setattr(build, "SHARED", tmp_path / "source" / "course_helpers.py")
    for assignment, helpers in [("a", "from course_helpers import SEED\n"), ("b", "SEED = 2021\n")]:
        (tmp_path / "source" / assignment).mkdir(parents=True)
        (tmp_path / "source" / assignment / f"{assignment}_helpers.py").write_text(helpers)
    build.SHARED.write_text("SEED = 2021\n")
    return tmp_path


def _build(course: Path, assignment: str) -> None:
    """What `build` does with the shared file: source/ first, then release/ and notebooks/ copy source/."""
    build.sync_shared(course / "source" / assignment)
    for folder in ("release", "notebooks"):
        shutil.rmtree(course / folder / assignment, ignore_errors=True)
        shutil.copytree(course / "source" / assignment, course / folder / assignment)


def test_only_an_assignment_that_imports_the_shared_file_gets_a_copy(course: Path) -> None:
    for assignment in ("a", "b"):
        _build(course, assignment)
    assert (course / "release" / "a" / "course_helpers.py").read_bytes() == build.shared_copy()
    assert not (course / "source" / "b" / "course_helpers.py").exists()
    assert build.stale_shared_copies("a") == build.stale_shared_copies("b") == []


def test_a_copy_that_differs_or_is_missing_is_stale(course: Path) -> None:
    _build(course, "a")
    (course / "release" / "a" / "course_helpers.py").write_text(build.GENERATED + "SEED = 7\n")  # edited in place
    (course / "notebooks" / "a" / "course_helpers.py").unlink()
    assert build.stale_shared_copies("a") == ["release/a/course_helpers.py", "notebooks/a/course_helpers.py"]

    build.SHARED.write_text("SEED = 7\n")  # the shared file edited, no build since
    assert build.stale_shared_copies("a") == ["source/a/course_helpers.py", "notebooks/a/course_helpers.py"]
    _build(course, "a")
    assert build.stale_shared_copies("a") == []


def test_a_copy_no_longer_imported_is_stale_until_the_build_removes_it(course: Path) -> None:
    _build(course, "a")
    (course / "source" / "a" / "a_helpers.py").write_text("SEED = 2021\n")
    left_over = [f"{folder}/a/course_helpers.py" for folder in ("source", "release", "notebooks")]
    assert build.stale_shared_copies("a") == left_over
    _build(course, "a")
    assert build.stale_shared_copies("a") == [] and not (course / "release" / "a" / "course_helpers.py").exists()


@pytest.mark.parametrize("assignment", sorted(HELPERS))
def test_no_helper_module_defines_again_what_is_shared(assignment: str) -> None:
    own = _top_level_names(ROOT / "source" / assignment / f"{HELPERS[assignment]}.py")
    assert not own & _top_level_names(build.SHARED)


@pytest.mark.parametrize("assignment", sorted(HELPERS))
def test_a_released_folder_imports_its_helpers_on_its_own(assignment: str, tmp_path: Path) -> None:
    # What a student's kernel sees: the released folder alone, as its working folder.
    shutil.copytree(ROOT / "release" / assignment, tmp_path, dirs_exist_ok=True)
    name = HELPERS[assignment]
    code = f"import {name}, course_helpers; print(course_helpers.__file__); print({name}.SEED)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    where, seed = done.stdout.split()
    assert Path(where).resolve() == (tmp_path / "course_helpers.py").resolve()
    assert seed == "2021"
