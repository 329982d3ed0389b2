"""Parallel grading: the same verdicts as `nbgrader autograde`, locally and on a Dask cluster."""

from __future__ import annotations

import json
import re

import pytest

from autograder.batch import parallel
from autograder.course.submissions import example_answer
from conftest import ASSIGNMENT, FULL_MARKS, ROOT, Course, in_the_instructor_run

STUDENTS = {"correct": set(), "sign_flipped": {"test_dloss_dw", "test_training_curve", "test_seed_run"}}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Course:
    course = Course(tmp_path_factory.mktemp("parallel"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    for student in STUDENTS:
        course.submit_answer(student, example_answer(ASSIGNMENT, student))
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


def _submissions(course: Course) -> set[str]:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        return {s.student_id for s in gb.assignment_submissions(ASSIGNMENT)}


def test_bad_submissions_fail_alone_with_a_message_and_are_recorded_as_nbgrader_would(
    batch: Course, monkeypatch
) -> None:
    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    broken = batch.submit("broken", batch.release_notebook())
    (broken / "shallow_narrow.ipynb").write_text('{"cells": [')  # truncated JSON
    renamed = batch.submit("renamed", batch.release_notebook())
    (renamed / "shallow_narrow.ipynb").rename(renamed / "my_notebook.ipynb")
    copied = batch.submit_answer("copied", example_answer(ASSIGNMENT, "correct"))
    (copied / "shallow_narrow-Copy1.ipynb").write_text("not even JSON")  # JupyterLab's "Duplicate", then edited
    summary = parallel.grade(ASSIGNMENT, root=batch.root, workers=2, force=True, progress=False)

    # Cannot be graded: no score, and the student's feedback page says why (tests/test_ungradable.py).
    assert summary.ungradable["broken"].startswith("“shallow_narrow.ipynb” is cut off")
    assert "feedback/broken/01_shallow_narrow/shallow_narrow.html" in summary.ungradable["broken"]
    # The only notebook of the assignment, under another name: graded as it (the release as it is: zeros).
    assert "renamed" in summary.graded
    assert summary.repaired["renamed"] == "graded my_notebook.ipynb as shallow_narrow.ipynb"
    assert _autograded_scores(batch, "renamed") == dict.fromkeys(FULL_MARKS, 0.0)
    # An extra notebook is left out, as nbgrader leaves it out, and the real one is graded.
    assert "copied" in summary.graded and "shallow_narrow-Copy1.ipynb" in summary.notes["copied"]
    assert _autograded_scores(batch, "copied") == _expected("correct")
    assert _autograded_scores(batch, "correct") == _expected("correct")
    assert not summary.failed
    # Like `nbgrader autograde --create`: the ungradable submission is in the gradebook (so in the
    # formgrader and the export), without a score.
    assert {"broken", "renamed", "copied"} <= _submissions(batch)
    for student in ("broken", "renamed", "copied"):
        batch.root.joinpath("submitted", student).rename(batch.root / f"gone-{student}")  # out of later tests


def test_a_student_id_nbgrader_would_read_as_a_pattern_is_refused(batch: Course, monkeypatch) -> None:
    # nbgrader globs the id: "correct*" would regrade "correct" too, "br[ab]" would match nobody.
    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    parallel.grade(ASSIGNMENT, root=batch.root, workers=1, progress=False)
    for odd in ("correct*", "br[ab]"):
        batch.submit(odd, batch.release_notebook())
    before = (batch.root / "autograded" / "correct" / ASSIGNMENT / "shallow_narrow.ipynb").stat().st_mtime_ns
    try:
        summary = parallel.grade(ASSIGNMENT, root=batch.root, workers=1, progress=False)
    finally:
        for odd in ("correct*", "br[ab]"):
            batch.root.joinpath("submitted", odd).rename(batch.root / f"gone-{odd.strip('*[]')}")
    assert set(summary.failed) == {"correct*", "br[ab]"}
    assert all("pattern" in why and "rename the folder" in why for why in summary.failed.values())
    assert "correct" in summary.skipped
    assert (batch.root / "autograded" / "correct" / ASSIGNMENT / "shallow_narrow.ipynb").stat().st_mtime_ns == before
    assert not {"correct*", "br[ab]"} & _submissions(batch)


class _DyingPool:
    """Stands for parallel._Workers: the jobs named in `dies` break their pool, once or always."""

    def __init__(self, dies: dict[str, int]) -> None:
        self.dies, self.generation, self.restarts = dict(dies), 0, 0

    def submit(self, job):
        import concurrent.futures as cf

        future: cf.Future = cf.Future()
        if self.dies.get(job.student, 0) > 0:
            self.dies[job.student] -= 1
            future.set_exception(cf.process.BrokenProcessPool("a worker died"))
        else:
            future.set_result(parallel.Outcome(job.student, job.notebook, None, 0.1))
        return future

    def restart(self) -> None:
        self.generation += 1
        self.restarts += 1


def test_a_dead_worker_costs_one_retry_and_a_twice_dead_job_fails_alone() -> None:
    jobs = [parallel.Job(s, ASSIGNMENT, "nb", b"", {}) for s in ("ann", "bob", "cy")]
    pool = _DyingPool({"bob": 1, "cy": 5})
    outcomes = {o.student: o for o in parallel._completed(pool, iter(jobs), window=1)}
    assert set(outcomes) == {"ann", "bob", "cy"}
    assert outcomes["bob"].error is None  # tried again in a fresh pool
    assert outcomes["cy"].infrastructure and "died twice" in (outcomes["cy"].error or "")
    assert pool.restarts == 2


def test_a_submission_the_grader_failed_is_not_recorded_and_is_tried_again(tmp_path) -> None:
    student = parallel._Student("ann", tmp_path, "mark", [], problems=["the worker died"], retry=True)
    summary, state = parallel.Summary(), {}

    class NoRecording:
        def autograde(self, *args, **kwargs):
            raise AssertionError("a submission the grader failed must not be recorded")

    parallel._finish(NoRecording(), ASSIGNMENT, student, summary, state, tmp_path / "state.json")
    assert "the next run tries again" in summary.failed["ann"] and state == {}


def test_ctrl_c_stops_the_workers_and_their_kernels_and_keeps_what_was_recorded(batch: Course, monkeypatch) -> None:
    import psutil

    from autograder.kernels.forkserver import ZYGOTE_MARK

    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    recorded, seen = [], set()

    def record_then_interrupt(api, assignment, student):
        seen.update(zygotes())  # the workers' zygotes, while they run
        if recorded:
            raise KeyboardInterrupt
        recorded.append(student)
        return real_record(api, assignment, student)

    def zygotes() -> set[psutil.Process]:
        found = set()
        for p in psutil.Process().children(recursive=True):
            try:
                if ZYGOTE_MARK in p.cmdline() and not in_the_instructor_run(p):
                    found.add(p)
            except psutil.Error:  # gone, or a zombie, meanwhile
                pass
        return found

    real_record = parallel._record
    monkeypatch.setattr(parallel, "_record", record_then_interrupt)
    before = zygotes()  # e.g. this process's own, from the fork server tests
    with pytest.raises(parallel.GradingInterrupted) as stop:
        parallel.grade(ASSIGNMENT, root=batch.root, workers=2, force=True, progress=False)
    assert stop.value.summary.graded == recorded
    assert seen - before, "the workers started no zygote"
    _, alive = psutil.wait_procs(list(seen - before), timeout=15)  # the workers' die with them
    assert alive == []
    state = json.loads((batch.root / "autograded" / parallel.STATE_FILE).read_text())
    assert f"{ASSIGNMENT}/{recorded[0]}" in state  # the next run skips what this one recorded


def test_a_stop_whose_exception_python_dropped_still_stops_the_run(batch: Course, monkeypatch) -> None:
    # A signal handler's KeyboardInterrupt that lands in a weakref callback is printed and dropped by
    # Python (seen with SIGHUP: the run went on to the end). The stop it asked for must still stop the run.
    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", batch.db_url)
    recorded = []
    real_record = parallel._record

    def record_then_ask_to_stop(api, assignment, student):
        parallel.STOP.set()  # as request_stop() does, minus the exception (dropped)
        recorded.append(student)
        return real_record(api, assignment, student)

    monkeypatch.setattr(parallel, "_record", record_then_ask_to_stop)
    with pytest.raises(parallel.GradingInterrupted) as stop:
        parallel.grade(ASSIGNMENT, root=batch.root, workers=2, force=True, progress=False)
    assert stop.value.summary.graded == recorded and len(recorded) < len(STUDENTS)


def test_a_mistyped_assignment_is_an_error_naming_the_real_ones(batch: Course) -> None:
    with pytest.raises(ValueError, match=r"no assignment '01_shalow_narrow'.*01_shallow_narrow"):
        parallel.grade("01_shalow_narrow", root=batch.root, progress=False)


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
    answer = example_answer(ASSIGNMENT, student)
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


def test_a_worker_runs_the_student_s_code_in_the_sandbox() -> None:
    # nbgrader's Execute forces AsyncKernelManager in through a keyword argument: the batch grader's
    # configured kernel manager (the fork server's) must win, never the stock, unprotected kernel.
    import os
    import pickle

    from nbformat.v4 import new_code_cell, new_notebook

    secret = ROOT / "nbgrader_config.py"
    assert secret.exists()
    code = f"import os\nprint(os.getuid(), os.path.exists({str(secret)!r}))"
    nb = new_notebook(cells=[new_code_cell(code)])
    settings = parallel._execute_settings(parallel.course_config())
    outcome = parallel.execute_job(parallel.Job("ann", ASSIGNMENT, "nb", pickle.dumps(nb), {}, settings))
    assert outcome.executed is not None, outcome.error
    uid, sees_the_course = outcome.executed.cells[0].outputs[0]["text"].split()
    assert sees_the_course == "False" and int(uid) != os.getuid()
