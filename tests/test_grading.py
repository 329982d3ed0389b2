"""The first assignment through stock `nbgrader autograde` with our plug-ins: sandbox, messages, feedback."""

from __future__ import annotations

import nbformat
import pytest

from autograder.course.submissions import example_answer, submission_from_answer
from conftest import ASSIGNMENT, FULL_MARKS, ROOT, verdict_messages


@pytest.fixture(scope="module")
def graded(course):
    # Every example's scores are checked in tests/test_series.py; these are the ones the tests below read.
    for student in ("correct", "sign_flipped"):
        course.submit_answer(student, example_answer(ASSIGNMENT, student))
    # One more correct student who also reports, from an ordinary cell, who the kernel runs as.
    nb = submission_from_answer(course.release_notebook(), example_answer(ASSIGNMENT, "correct"))
    nb.cells.insert(
        2,
        nbformat.v4.new_code_cell(
            f"import os\nprint('uid', os.getuid(), 'repo', os.path.exists({str(ROOT / 'nbgrader_config.py')!r}))"
        ),
    )
    course.submit("who_am_i", nb)
    course.autograde()
    return course


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
    assert 'alt="Plot of your training run against the reference run over' in html  # for a screen reader
    assert '<p class="figure-caption">Figure: Plot of your training run' in html  # and for everyone


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
    answer = example_answer(ASSIGNMENT, "correct")
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
