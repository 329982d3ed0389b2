"""Parallel grading: the same verdicts as `nbgrader autograde`, locally and on a Dask cluster."""

from __future__ import annotations

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
