"""03_depth_and_init's own self-checks: its plots, its training cell, its number formatting.

What every assignment's released notebook must do (checks failing where they should, readable
messages, the gradient check, the slider explorers) is tested in tests/test_student_checks.py,
from this assignment's table (``DEPTH`` in tests/student_checks.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from student_checks import DEPTH, code_cell, errors, executed_release, images, student_helpers

# -- the released notebook, executed ---------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(DEPTH.scenarios))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(answer, executed notebook): the release with `answer` filled in, run top to bottom."""
    return request.param, executed_release(DEPTH, request.param, tmp_path_factory)


def test_the_plots_fail_with_the_stubs_and_draw_with_a_finished_class(executed) -> None:
    # (no empty figure behind an error: tests/test_student_checks.py)
    answer, nb = executed
    plots = [c for c in nb.cells if c.cell_type == "code" and "plot_" in c.source and "import" not in c.source]
    assert len(plots) == 2
    for cell in plots:
        assert bool(errors(cell)) == (answer == "stub") and bool(images(cell)) == (answer != "stub")


def test_the_training_cell_summarizes_each_run_in_words(executed) -> None:
    answer, nb = executed
    training = code_cell(nb, "model.train(")
    text = "".join(o.get("text", "") for o in training.outputs if o.output_type == "stream")
    if answer == "correct":  # the numbers the text after the training test explains
        assert "depth  1: loss 0.2227" in text and "converged at epoch 520" in text
        assert "depth 10: loss 0.4932" in text and "converged at epoch 58" in text
    elif answer == "gradient_sign":
        assert "depth 10:" in text and "not converged" in text
    elif answer == "stub":
        assert "depth" not in text and errors(training)[0].ename == "NotImplementedError"


# -- the helpers, called directly ------------------------------------------------------------------


@pytest.fixture(scope="module")
def helpers():
    return student_helpers(DEPTH)


def test_long_numbers_are_shortened_to_fit_a_line(helpers) -> None:
    values = -np.linspace(1.23456e-5, 9.87654e-5, 6)
    assert len(helpers._numbers(values)) <= 58
    assert len(helpers._numbers(np.full(40, -1.234567e-5))) <= 58


def test_describe_run_says_when_training_exploded(helpers) -> None:
    assert "exploded at epoch 3" in helpers.describe_run(np.ones(3), np.ones((3, 2)), 600)
    assert "stopped before the first update" in helpers.describe_run(np.ones(0), np.ones((0, 2)), 600)
    losses = np.geomspace(1, 1e-4, 600)
    epoch = helpers.convergence_epoch(losses, 600)
    assert helpers.describe_run(losses, np.full((600, 2), 1.5), 600) == (
        f"loss 1.0000 -> 0.0001, slope 2.2500, converged at epoch {epoch}"
    )
