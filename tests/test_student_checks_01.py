"""01_shallow_narrow's own self-checks: the training run's checks and messages.

What every assignment's released notebook must do (checks failing where they should, readable
messages, the gradient check, the slider explorer) is tested in tests/test_student_checks.py,
from this assignment's table (``SHALLOW`` in tests/student_checks.py).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.models import shallow as reference
from student_checks import (
    DIVERGED,
    NO_RUN,
    SHALLOW,
    SHALLOW_DIVERGING,
    SHALLOW_RUN_CHECKS,
    assert_readable,
    code_cell,
    errors,
    executed_release,
    gradient_message,
    grade_id,
    images,
    stdout,
    student_helpers,
)

# -- the released notebook, executed ---------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(SHALLOW.scenarios))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(answer, executed notebook): the release with `answer` filled in, run top to bottom."""
    return request.param, executed_release(SHALLOW, request.param, tmp_path_factory)


def test_a_diverged_run_points_at_the_gradient_test(executed) -> None:
    answer, nb = executed
    for cell in nb.cells:
        if grade_id(cell) in SHALLOW_RUN_CHECKS:
            said = " ".join(e.evalue for e in errors(cell))
            if answer in SHALLOW_DIVERGING:  # these diverge at the seed's learning rate
                assert said.startswith(DIVERGED) and "check dloss_dw with its test above" in said
            else:
                assert DIVERGED not in said


def test_the_training_cell_reports_the_run_in_words_and_without_warnings(executed) -> None:
    # (nothing on stderr: tests/test_student_checks.py)
    answer, nb = executed
    training = code_cell(nb, ".train(")
    text = stdout(training)
    if answer == "correct":  # the seed run, exactly
        assert "final weights: w1 = -1.33116, w2 = -1.52546, final loss 0.0340257" in text
    elif answer in SHALLOW_DIVERGING:
        assert re.search(r"training diverged: the loss became inf at epoch \d+\n", text), text
        assert_readable(text.split("\n", 1)[1], "the training cell")  # after "Random seed ... set."
        assert "RuntimeWarning" not in text
        assert images(training), "a diverged run is still drawn, up to where it broke down"


# -- the checks, called directly -------------------------------------------------------------------


@pytest.fixture(scope="module")
def helpers():
    return student_helpers(SHALLOW)


def test_forgetting_the_mean_is_explained_in_words() -> None:
    message = gradient_message(SHALLOW, SHALLOW.model.gradient_mistakes["no_mean"].bodies)
    assert "one value per sample (20 samples)" in message and "mean gradients" in message
    assert "at w1 = 0.7, w2 = 1.9" in message


@pytest.fixture()
def seed_run() -> tuple[np.ndarray, np.ndarray]:
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], run["a"], run["sigma"])
    return reference.train(run["init"], x, y, run["lr"], run["n_ep"])


@pytest.fixture()
def seed_data(helpers) -> tuple:
    """The worked solution's data and values, as the training cell has them."""
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], run["a"], run["sigma"])
    return x, y, helpers.SeedRun(**helpers._WORKED_SOLUTION)


def run_message(check, *args) -> str:
    with pytest.raises(AssertionError) as failure:
        check(*args)
    message = str(failure.value)
    assert_readable(message, check.__name__)
    return message


def test_the_run_checks_pass_the_seed_run(helpers, seed_run, seed_data, capsys) -> None:
    loss_log, weight_log = seed_run
    helpers.check_training_curve(loss_log, weight_log, 211)
    helpers.check_seed_run(weight_log, *seed_data)
    said = capsys.readouterr().out.splitlines()
    assert said == ["The loss goes down during training.", "The run ends where it should."]
    assert helpers.describe_run(loss_log, weight_log) == (
        "final weights: w1 = -1.33116, w2 = -1.52546, final loss 0.0340257"
    )


def test_the_run_checks_say_when_there_is_no_run(helpers, seed_data) -> None:
    for check, args in [(helpers.check_training_curve, (None, None, 211)), (helpers.check_seed_run, (None, *seed_data))]:
        message = run_message(check, *args)
        assert message.startswith(NO_RUN) and "run it again" in message


def test_the_run_checks_say_where_a_run_diverged(helpers, seed_run, seed_data) -> None:
    loss_log, weight_log = (a.copy() for a in seed_run)
    loss_log[17:], weight_log[-1] = np.inf, [np.inf, -np.inf]
    curve = run_message(helpers.check_training_curve, loss_log, weight_log, 211)
    assert curve.startswith("training diverged: the loss became inf at epoch 17 of 211")
    end = run_message(helpers.check_seed_run, weight_log, *seed_data)
    assert end.startswith("training diverged: the final weights are w1 = inf, w2 = -inf")
    for message in (curve, end):
        assert "check dloss_dw with its test above" in message
    assert helpers.describe_run(loss_log, weight_log).startswith("training diverged: the loss became inf at epoch 17")


def test_the_run_checks_name_a_wrong_ending_or_shape(helpers, seed_run, seed_data) -> None:
    loss_log, weight_log = seed_run
    up = run_message(helpers.check_training_curve, loss_log[::-1], weight_log, 211)
    assert up.startswith("the loss went up during training: 0.03403 -> 6.355")
    shapes = run_message(helpers.check_training_curve, loss_log, weight_log[:, 0], 211)
    assert shapes.startswith("the training run has shapes (211,) and (211,)")
    elsewhere = run_message(helpers.check_seed_run, weight_log[:100], *seed_data)
    assert elsewhere.startswith("the run ends at w1 = ") and "expected:     w1 = -1.33116, w2 = -1.52546" in elsewhere
