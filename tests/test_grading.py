"""Grading the example submissions through stock `nbgrader autograde`, with our plug-ins."""

from __future__ import annotations

import pytest

from autograder.course.submissions import UNFINISHED, example_students
from conftest import ASSIGNMENT, FULL_MARKS, ROOT, verdict_messages

EXPECTED_LOSSES = {
    # example student -> the autograded tests it must lose (all others get full marks)
    "correct": set(),
    "sign_flipped": {"test_dloss_dw", "test_training_curve", "test_seed_run"},
    "missing_factor_2": {"test_dloss_dw", "test_training_curve", "test_seed_run"},
    "sum_not_mean": {"test_dloss_dw", "test_training_curve", "test_seed_run"},
    "forward_adds_weights": {"test_forward", "test_training_curve", "test_seed_run"},
    UNFINISHED: set(FULL_MARKS),
}


@pytest.fixture(scope="module")
def graded(course):
    for student in example_students(ASSIGNMENT):
        if student == UNFINISHED:
            course.submit(student, course.release_notebook())
        else:
            course.submit_answer(student, (ROOT / "examples" / ASSIGNMENT / f"{student}.py").read_text())
    # One more correct student who also reports, from an ordinary cell, who the kernel runs as.
    nb = course.release_notebook()
    import nbformat

    answer = (ROOT / "examples" / ASSIGNMENT / "correct.py").read_text()
    from autograder.course.submissions import submission_from_answer

    nb = submission_from_answer(nb, answer)
    nb.cells.insert(
        2,
        nbformat.v4.new_code_cell(
            "import os\nprint('uid', os.getuid(), 'repo', os.path.exists('/work/main/autograder'))"
        ),
    )
    course.submit("who_am_i", nb)
    course.autograde()
    return course


def test_every_example_has_an_expectation() -> None:
    assert set(example_students(ASSIGNMENT)) == set(EXPECTED_LOSSES)


@pytest.mark.parametrize("student", sorted(EXPECTED_LOSSES))
def test_each_mistake_loses_exactly_the_points_of_its_tests(graded, student: str) -> None:
    scores = graded.scores(student)
    for test, points in FULL_MARKS.items():
        expected = 0 if test in EXPECTED_LOSSES[student] else points
        assert scores[test] == expected, f"{student}/{test}: {verdict_messages(graded.autograded(student))[test]}"


def test_written_answer_is_left_for_the_formgrader(graded) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(graded.db_url) as gb:
        answered = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "correct")
        think = [g for g in answered.grades if g.name == "think_learning_rate"][0]
        assert think.max_score == 2 and think.cell.cell_type == "markdown"
        assert think.needs_manual_grade and think.auto_score is None
        blank = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "sign_flipped")
        unanswered = [g for g in blank.grades if g.name == "think_learning_rate"][0]
        assert unanswered.auto_score == 0 and not unanswered.needs_manual_grade  # nothing written: 0 at once


def test_failed_tests_explain_themselves(graded) -> None:
    messages = verdict_messages(graded.autograded("sign_flipped"))
    assert "wrong sign" in messages["test_dloss_dw"]
    assert "fault is in the gradients" in messages["test_training_curve"]
    assert "✔" in messages["test_forward"]


def test_feedback_hides_hidden_tests_and_shows_the_training_plot(graded) -> None:
    graded.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    html = (graded.root / "feedback" / "sign_flipped" / ASSIGNMENT / "shallow_narrow.html").read_text()
    assert "run_check" not in html and "BEGIN HIDDEN TESTS" not in html
    assert "hidden tests ran here" in html
    assert "wrong sign" in html
    assert "data:image/png;base64" in html


def test_autograde_runs_the_student_kernel_in_the_sandbox(graded) -> None:
    from autograder.kernels.sandbox import SandboxLimits

    nb = graded.autograded("who_am_i")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert f"uid {SandboxLimits().uid} repo False" in text
    assert graded.scores("who_am_i")["test_forward"] == FULL_MARKS["test_forward"]


@pytest.mark.parametrize("flood", ["for _ in range(40):\n    print('x' * 1_000_000)", "print('x' * 40_000_000)"])
def test_a_printed_flood_costs_nothing_but_its_text(flood: str, tmp_path) -> None:
    # ipykernel sends a fifth of a second's printing as one message: 40 MB of it would
    # exceed what the grader's sockets accept, and the cell (with its definitions) was lost.
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.nbgrader_plugins import SecureExecute

    nb = new_notebook(cells=[new_code_cell(f"defined = 41\n{flood}"), new_code_cell("print(defined + 1)")])
    nb, _ = SecureExecute(timeout=60).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    first, second = nb.cells
    assert [o.output_type for o in first.outputs if o.output_type == "error"] == []
    kept = "".join(o.get("text", "") for o in first.outputs)
    assert kept.startswith("x" * 1000) and "truncated by the grader" in kept and len(kept) < 1_100_000
    # print() may reach the grader as one stream message or as two ("42", "\n"): the text is what counts.
    assert [o.output_type for o in second.outputs] in (["stream"], ["stream", "stream"])
    assert "".join(o.get("text", "") for o in second.outputs) == "42\n"


def test_only_a_test_cell_the_student_changed_is_reported_as_changed(course) -> None:
    # Stock nbgrader warns about every test cell with hidden tests (jupyter/nbgrader #1961),
    # which buries the one warning that matters: a student who edited a test.
    answer = (ROOT / "examples" / ASSIGNMENT / "correct.py").read_text()
    from autograder.course.submissions import submission_from_answer

    course.submit("as_released", submission_from_answer(course.release_notebook(), answer))
    edited = submission_from_answer(course.release_notebook(), answer)
    test_cell = next(c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_forward")
    test_cell.source += "\nprint('all good')"
    course.submit("edited_a_test", edited)
    log = course.autograde("--student", "as_released")
    assert "has changed" not in log
    log = course.autograde("--student", "edited_a_test")
    changed = [line for line in log.splitlines() if "has changed" in line]
    assert len(changed) == 1 and "'checksum' for cell test_forward" in changed[0]
    assert course.scores("edited_a_test")["test_forward"] == FULL_MARKS["test_forward"]
