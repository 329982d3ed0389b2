"""Shared fixtures: a scratch course folder, graded once per test module that asks for it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Callable

import psutil
import pytest
from hypothesis import settings

from autograder.course import build
from autograder.course.submissions import example_answer, submission_from_answer

ROOT = Path(__file__).resolve().parent.parent

settings.register_profile("course", deadline=None, max_examples=60, derandomize=True)
settings.load_profile("course")

ASSIGNMENT = "01_shallow_narrow"

_INSTRUCTOR_TEST = "test_as_instructor.py"
_instructor_run = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The verdict of the run as the instructor comes last: that run goes on meanwhile."""
    late = [item for item in items if item.path.name == _INSTRUCTOR_TEST]
    items[:] = [item for item in items if item.path.name != _INSTRUCTOR_TEST] + late


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the run as the instructor now (as root only), in the background (see tests/test_as_instructor.py)."""
    global _instructor_run
    if os.geteuid() == 0 and any(item.path.name == _INSTRUCTOR_TEST for item in session.items):
        from instructor import BackgroundRun
        from test_as_instructor import MODULES

        _instructor_run = BackgroundRun(MODULES)


def pytest_sessionfinish() -> None:
    if _instructor_run is not None:
        _instructor_run.stop()


def in_the_instructor_run(process: psutil.Process) -> bool:
    """True when `process` belongs to the run as the instructor that goes on beside this suite.

    Tests that look for the processes their grading left must not count (or kill) that run's.
    """
    if _instructor_run is None:
        return False
    try:
        return any(parent.pid == _instructor_run.process.pid for parent in process.parents())
    except Exception:  # noqa: BLE001 - gone meanwhile: not a process to count
        return False


@pytest.fixture(scope="session")
def instructor_run():
    """The run as the instructor started with the suite."""
    assert _instructor_run is not None, "started when the suite starts, as root"
    return _instructor_run


class Course:
    """A scratch copy of the course: its own gradebook, submitted/ and autograded/ folders."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db_url = f"sqlite:///{root / 'gradebook.db'}"
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        shutil.copytree(ROOT / "source", root / "source")
        shutil.copytree(ROOT / "release", root / "release")

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SHALLOW_NARROW_DB_URL": self.db_url}

    def nbgrader(self, *args: str) -> str:
        done = build.nbgrader(*args, root=self.root, env=self.env)
        return done.stdout + done.stderr

    def release_notebook(self, assignment: str = ASSIGNMENT):
        import nbformat

        return nbformat.read(self.root / "release" / assignment / "shallow_narrow.ipynb", as_version=4)

    def submit(self, student: str, nb, assignment: str = ASSIGNMENT) -> Path:
        """Hand in a notebook (and the released helper files) as `student`."""
        import nbformat

        dest = self.root / "submitted" / student / assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(self.root / "release" / assignment, dest)
        nbformat.write(nb, dest / "shallow_narrow.ipynb")
        return dest

    def submit_answer(self, student: str, answer: str, assignment: str = ASSIGNMENT) -> Path:
        """Hand in the release with `answer`'s method bodies filled in."""
        return self.submit(student, submission_from_answer(self.release_notebook(assignment), answer))

    def autograde(self, *extra: str, assignment: str = ASSIGNMENT) -> str:
        return self.nbgrader("autograde", assignment, "--create", "--force", *extra)

    def scores(self, student: str, assignment: str = ASSIGNMENT) -> dict[str, float]:
        """Score per graded cell of one student's submission."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            nb = gb.find_submission_notebook("shallow_narrow", assignment, student)
            return {g.name: g.score for g in nb.grades}

    def autograded(self, student: str, assignment: str = ASSIGNMENT):
        import nbformat

        return nbformat.read(self.root / "autograded" / student / assignment / "shallow_narrow.ipynb", as_version=4)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """A scratch course with the assignment generated into its own gradebook."""
    c = Course(tmp_path_factory.mktemp("course"))
    c.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    return c


def verdict_messages(nb) -> dict[str, str]:
    """The text of each graded test cell's outputs, by grade id."""
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            out[meta["grade_id"]] = " ".join(o.get("text", "") or o.get("evalue", "") for o in cell.outputs)
    return out


def load_student_module(assignment: str, name: str):
    """Import a helper module shipped with an assignment (source/<assignment>/<name>.py)."""
    import importlib.util

    folder = ROOT / "source" / assignment
    shared = folder / "course_helpers.py"
    if name != "course_helpers" and shared.exists():
        # The helpers all assignments share, as the notebook's folder would provide them.
        load_student_module(assignment, "course_helpers")
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


def solution_namespace(nb) -> dict:
    """A notebook's graded code run in a fresh namespace (its solution cells and plain function cells: no plots)."""
    import ast

    namespace: dict = {"__name__": "submission"}
    exec("import numpy as np", namespace)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # Solution cells, and the cells that only define functions the solutions call (01's `loss`).
        defines_only = all(isinstance(node, ast.FunctionDef) for node in ast.parse(cell.source).body)
        if cell.metadata.get("nbgrader", {}).get("solution") or (defines_only and cell.source.strip()):
            exec(cell.source, namespace)
    return namespace


_NOTEBOOK_RUNS: dict = {}
"""The runs :func:`as_if_the_notebook_ran` made, by the caller's key for the code and the run."""


def as_if_the_notebook_ran(request: dict, payload: dict, namespace: dict, key: object = None) -> dict:
    """`payload` with the training cell's run, for a class probed without its notebook.

    :func:`autograder.core.in_process.training_cell_run` stands in for the cell; `key` names the
    code in `namespace`, so that a sweep over many students trains each code once per run.
    """
    import json

    from autograder.core import in_process

    cached = (key, json.dumps(request.get("own_run"), sort_keys=True)) if key is not None else None
    ran = _NOTEBOOK_RUNS.get(cached) if cached else None
    if ran is None:
        ran = in_process.training_cell_run(request, namespace)
        if cached:
            _NOTEBOOK_RUNS[cached] = ran
    return in_process.with_training_cell_run(request, payload, ran)


def example_submission(assignment: str, notebook: str, student: str):
    """An example student's submission: the release with their answer filled in (or as it is)."""
    import nbformat

    from autograder.course.submissions import UNFINISHED

    release = nbformat.read(ROOT / "release" / assignment / notebook, as_version=4)
    if student == UNFINISHED:
        return release
    return submission_from_answer(release, example_answer(assignment, student))


FULL_MARKS = {"test_forward": 2, "test_dloss_dw": 3, "test_training_curve": 2, "test_seed_run": 1}
"""Points of the autograded tests of the first assignment."""

AnswerMaker = Callable[[str], str]
