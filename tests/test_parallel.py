"""Parallel grading: the same verdicts as `nbgrader autograde`, locally and on a Dask cluster."""

from __future__ import annotations

import re

import pytest

from autograder import parallel
from conftest import ASSIGNMENT, FULL_MARKS, ROOT, Course

STUDENTS = {"correct": set(), "sign_flipped": {"test_dloss_dw", "test_training_curve", "test_seed_run"}}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Course:
    course = Course(tmp_path_factory.mktemp("parallel"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    for student in STUDENTS:
        course.submit_answer(student, (ROOT / "examples" / ASSIGNMENT / f"{student}.py").read_text())
    course.submit("o'brien “ü” x", course.release_notebook())  # an odd id, handing in the release as it is
    return course


def _expected(student: str) -> dict[str, float]:
    lost = STUDENTS.get(student, set(FULL_MARKS))
    return {test: 0 if test in lost else points for test, points in FULL_MARKS.items()}


def _autograded_scores(course: Course, student: str) -> dict[str, float]:
    return {k: v for k, v in course.scores(student).items() if k in FULL_MARKS}


def test_local_workers_grade_like_nbgrader_and_skip_unchanged(batch: Course, monkeypatch) -> None:
    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    summary = parallel.grade(ASSIGNMENT, root=batch.root, workers=2, force=True, progress=False)
    assert not summary.failed, summary.failed
    assert len(summary.graded) == 3
    for student in [*STUDENTS, "o'brien “ü” x"]:
        assert _autograded_scores(batch, student) == _expected(student)
    assert (batch.root / "autograded" / "correct" / ASSIGNMENT / "shallow_narrow.ipynb").exists()

    again = parallel.grade(ASSIGNMENT, root=batch.root, workers=2, progress=False)
    assert again.graded == [] and len(again.skipped) == 3


def test_dask_cluster_gives_the_same_grades(batch: Course, monkeypatch) -> None:
    from dask.distributed import LocalCluster

    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        summary = parallel.grade(
            ASSIGNMENT, root=batch.root, scheduler=cluster.scheduler_address, force=True, progress=False
        )
    assert not summary.failed, summary.failed
    for student in STUDENTS:
        assert _autograded_scores(batch, student) == _expected(student)


def test_a_corrupt_notebook_fails_alone(batch: Course, monkeypatch) -> None:
    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    broken = batch.submit("broken", batch.release_notebook())
    (broken / "shallow_narrow.ipynb").write_text('{"cells": [')  # truncated JSON
    summary = parallel.grade(ASSIGNMENT, root=batch.root, workers=2, force=True, progress=False)
    assert "broken" in summary.failed and "shallow_narrow.ipynb" in summary.failed["broken"]
    assert _autograded_scores(batch, "correct") == _expected("correct")


def _recorded(course: Course, student: str) -> tuple[dict, str]:
    """What grading left behind for `student`: gradebook scores and comments, and the autograded cells."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, student)
        book = {
            "scores": {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
            "comments": {c.name: c.auto_comment for c in nb.comments},
        }
    cells = [(c.cell_type, c.source, c.get("outputs", [])) for c in course.autograded(student).cells]
    # Warnings name the kernel's scratch folder after its PID, which differs between the
    # plain sandbox (bwrap is PID 1) and a forked kernel (PID 1 itself).
    return book, re.sub(r"/tmp/ipykernel_\d+/", "/tmp/ipykernel_N/", repr(cells))


def test_the_parallel_run_records_exactly_what_nbgrader_autograde_records(tmp_path, monkeypatch) -> None:
    # Same secure path, so the same scores, comments and autograded notebook (verdict details
    # included), cell for cell: recording replays what was sanitized and executed once.
    student = "sign_flipped"
    answer = (ROOT / "examples" / ASSIGNMENT / f"{student}.py").read_text()
    (tmp_path / "nbgrader").mkdir()
    (tmp_path / "parallel").mkdir()
    by_nbgrader, by_us = Course(tmp_path / "nbgrader"), Course(tmp_path / "parallel")
    for course in (by_nbgrader, by_us):
        course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
        course.submit_answer(student, answer)
    by_nbgrader.autograde()
    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", by_us.db_url)
    summary = parallel.grade(ASSIGNMENT, root=by_us.root, workers=1, progress=False)
    assert summary.graded == [student], summary.failed
    expected = _recorded(by_nbgrader, student)
    assert _recorded(by_us, student) == expected
    assert any(expected[0]["comments"].values())  # the comparison covers written feedback too
    assert parallel.ReplaySanitize.sanitized == {} and parallel.ReplayExecute.executed == {}


def _images_and_notes(nb) -> tuple[int, int]:
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    notes = [c for c in nb.cells if "no figure in the graded copy" in str(c.get("outputs", []))]
    return len(images), len(notes)


def test_figures_are_left_out_while_grading_unless_the_instructor_keeps_them(batch: Course) -> None:
    # No verdict reads a figure, and the feedback draws the run against the reference itself.
    batch.autograde("--student", "correct")
    assert _images_and_notes(batch.autograded("correct")) == (0, 2)  # draw_network(), the training plot
    batch.autograde("--student", "correct", "--SecureExecute.draw_figures=True")
    assert _images_and_notes(batch.autograded("correct")) == (2, 0)


def test_a_changed_submission_is_sanitized_again_when_recorded() -> None:
    from nbformat.v4 import new_code_cell, new_notebook

    calls = []

    class Step:
        def __init__(self, parent=None) -> None:
            pass

        def preprocess(self, nb, resources):
            calls.append(nb)
            return nb, resources

    key = ("ann", "a1", "nb")
    resources = {"nbgrader": {"student": "ann", "assignment": "a1", "notebook": "nb"}}
    kept = new_notebook(cells=[new_code_cell("kept")])
    steps_before = parallel.ReplaySanitize.steps
    parallel.ReplaySanitize.steps = [Step]
    try:
        parallel.ReplaySanitize.sanitized[key] = (["x = 1"], kept)
        same, _ = parallel.ReplaySanitize().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), resources)
        assert same is kept and calls == []

        parallel.ReplaySanitize.sanitized[key] = (["x = 1"], kept)
        changed = new_notebook(cells=[new_code_cell("x = 2")])
        again, _ = parallel.ReplaySanitize().preprocess(changed, resources)
        assert again is changed and calls == [changed]
        assert key not in parallel.ReplaySanitize.sanitized
    finally:
        parallel.ReplaySanitize.steps = steps_before
        parallel.ReplaySanitize.sanitized.pop(key, None)


def test_preparing_a_run_leaves_the_course_config_sanitizing_for_real() -> None:
    config = parallel.course_config()
    before = list(config.Autograde.sanitize_preprocessors)
    api = parallel._recording_api(config)
    assert api.config.Autograde.sanitize_preprocessors == [parallel.ReplaySanitize]
    assert list(config.Autograde.sanitize_preprocessors) == before
