"""02_learning_landscape's own self-checks, plots and slider explorer, called directly.

Its four functions are checked one by one: each check must pass the right function and name its own
mistake on a first line short enough for nbgrader's Validate button (which cuts every line at 87
characters). A plot must not leave empty axes behind when a student's function fails, and the slider
explorer must show a readable note instead of a blank picture, and recover once the cell is fixed.

The released notebook run as a student would (each visible check failing for its own function and
for no other, readable messages, the explorer's note) is tested in tests/test_student_checks.py,
from this assignment's table (``LANDSCAPE`` in tests/student_checks.py).
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest

from conftest import ROOT
from student_checks import (
    FIRST_LINE_WIDTH,
    LANDSCAPE,
    LANDSCAPE_ANSWERS,
    LANDSCAPE_FUNCTIONS as FUNCTIONS,
    LANDSCAPE_RIGHT as RIGHT,
    LANDSCAPE_SAYS as SAYS,
    LANDSCAPE_WRONG as WRONG,
    UNFINISHED as STUB,
    assert_readable,
    student_helpers,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _define(name: str, body: str) -> object:
    """The student's function `name` with `body`, defined as in the notebook's cell."""
    args = {"loss_grid": "W1, W2, x, y", "loss_gradient": "W1, W2, x, y", "ends_at_saddle": "w1, w2, a",
            "max_stable_lr": "w1, w2, x, y"}[name]
    returns = {"loss_grid": "L", "loss_gradient": "dL_dW1, dL_dW2", "ends_at_saddle": "saddle",
               "max_stable_lr": "lr_max"}[name]
    indented = "\n".join("  " + line for line in body.splitlines())
    namespace = {"np": np}
    exec(f"def {name}({args}):\n{indented}\n  return {returns}\n", namespace)
    return namespace[name]


@pytest.fixture(scope="module")
def helpers():
    return student_helpers(LANDSCAPE)


@pytest.fixture(scope="module")
def data(helpers):
    return helpers.gen_samples(10, 1.0, 0.0)


def _run_check(helpers, data, name: str, function) -> None:
    x, y = data
    if name == "loss_grid":
        helpers.check_loss_grid(function)
    elif name == "loss_gradient":
        helpers.check_loss_gradient(function)
    elif name == "ends_at_saddle":
        helpers.check_ends_at_saddle(function, x)
    else:
        helpers.check_max_lr_by_training(function, x, y)


def _assert_readable(message: str) -> None:
    """Every line fits the first line's width (80), well within Validate's."""
    assert_readable(message, "landscape_helpers", FIRST_LINE_WIDTH)


# -- the checks, called directly -----------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_check_passes_the_right_function(helpers, data, name: str, capsys) -> None:
    _run_check(helpers, data, name, _define(name, RIGHT[name]))
    assert name in capsys.readouterr().out  # it says what it checked


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_check_names_its_own_mistake_on_a_short_first_line(helpers, data, name: str) -> None:
    with pytest.raises(AssertionError) as failure:
        _run_check(helpers, data, name, _define(name, WRONG[name]))
    message = str(failure.value)
    assert message.splitlines()[0].startswith(SAYS[name]), message
    _assert_readable(message)


def test_the_max_lr_message_says_which_multiple_of_which_value(helpers, data) -> None:
    # "0.9 x 0.9058" read as arithmetic; the message now names the student's value and the product.
    too_large = _define("max_stable_lr", RIGHT["max_stable_lr"] + "\nlr_max = 2 * lr_max")
    with pytest.raises(AssertionError) as failure:
        _run_check(helpers, data, "max_stable_lr", too_large)
    message = str(failure.value)
    assert message.startswith("max_stable_lr is too large at the minimum (0.6, 1.67):")
    assert "your η_max: 1.812; training at 0.9 × it (= 1.63) does not converge" in message
    _assert_readable(message)


def test_the_gradient_message_names_the_point_and_both_numbers(helpers) -> None:
    def off_at_one_point(W1, W2, x, y):  # right everywhere but at one grid point
        xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)
        dL_dW2 = -2 * W1 * xr
        dL_dW2[1, 2] += 0.5
        return -2 * W2 * xr, dL_dW2

    with pytest.raises(AssertionError) as failure:
        helpers.check_loss_gradient(off_at_one_point)
    lines = str(failure.value).splitlines()
    assert lines[0] == "dL_dW2 disagrees with a finite difference of the loss:"
    assert lines[1] == "  at grid point [1, 2]: w1 = 1.7, w2 = 1.1"
    assert lines[2].startswith("  yours: ") and lines[3].startswith("  a finite difference of the loss: ")
    assert float(lines[2].split(":")[1]) - float(lines[3].split(":")[1]) == pytest.approx(0.5, abs=1e-6)


def test_a_gradient_of_the_wrong_shape_is_named(helpers) -> None:
    def averaged_over_everything(W1, W2, x, y):
        xr = (x * (y - (W1 * W2)[..., None] * x)).mean()
        return float(np.mean(-2 * W2 * xr)), float(np.mean(-2 * W1 * xr))

    with pytest.raises(AssertionError) as failure:
        helpers.check_loss_gradient(averaged_over_everything)
    message = str(failure.value)
    assert message.startswith("loss_gradient should return two arrays of the grid's shape (2, 3):")
    assert "a single number" in message
    _assert_readable(message)


def test_the_helper_module_gives_no_answer_away() -> None:
    # It is shipped to students: a trusted finite difference of the loss, never a closed form.
    text = (ROOT / "release" / LANDSCAPE.name / "landscape_helpers.py").read_text().lower()
    for answer in LANDSCAPE_ANSWERS:
        assert answer not in text, answer


# -- the plots: compute first, then draw -----------------------------------------------------------


def test_a_failing_function_leaves_no_empty_figure(helpers, data) -> None:
    x, y = data
    stub_grid, stub_gradient = _define("loss_grid", STUB), _define("loss_gradient", STUB)
    right_grid = _define("loss_grid", RIGHT["loss_grid"])
    plt.close("all")
    calls = [
        lambda: helpers.plot_landscape(stub_grid, None, x, y, inits=[]),
        lambda: helpers.plot_landscape(right_grid, stub_gradient, x, y),
        lambda: helpers.plot_surface(right_grid, stub_gradient, x, y),
        lambda: helpers.plot_stability(_define("max_stable_lr", STUB), x, y),
    ]
    for call in calls:
        with pytest.raises(NotImplementedError):
            call()
        assert plt.get_fignums() == [], "a figure was made before the student's function was called"


@pytest.mark.parametrize("body", ["lr_max = 1.0", "lr_max = 100.0", WRONG["max_stable_lr"], RIGHT["max_stable_lr"]])
def test_plot_stability_draws_without_warnings(helpers, data, body: str) -> None:
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Attempting to set identical low and high ylims" among others
        fig = helpers.plot_stability(_define("max_stable_lr", body), x, y)
    low, high = fig.axes[0].get_ylim()
    assert 0 < low < 1e-4 < high
    plt.close(fig)


# -- the explorer, headless ----------------------------------------------------------------------------


def _note(explorer) -> str:
    return explorer.children[-2].value


def _shows_picture(explorer) -> bool:
    return explorer.children[-1].layout.display != "none" and _note(explorer) == ""


def test_the_explorer_says_which_exercise_to_finish(helpers, data) -> None:
    x, y = data
    explorer = helpers.landscape_explorer(_define("loss_grid", RIGHT["loss_grid"]), _define("loss_gradient", STUB),
                                          x, y)
    assert not _shows_picture(explorer)
    assert "loss_gradient is not written yet" in _note(explorer)
    assert "Coding exercise 2" in _note(explorer)
    explorer.children[0].value = 0.05  # a slider move does not hide the note or raise
    assert "loss_gradient is not written yet" in _note(explorer) and explorer.result is None


def test_the_explorer_names_a_function_that_returns_garbage(helpers, data) -> None:
    x, y = data
    scalar_loss = _define("loss_grid", "L = ((y - (W1 * W2)[..., None] * x) ** 2).mean()")
    explorer = helpers.landscape_explorer(scalar_loss, _define("loss_gradient", RIGHT["loss_gradient"]), x, y)
    note = _note(explorer)
    assert "loss_grid should return one loss per grid point" in note and "yours has shape ()" in note


def test_the_explorer_recovers_once_the_fixed_cell_is_run_again(helpers, data, monkeypatch) -> None:
    # In a notebook, the cells' functions live in __main__: running a fixed cell again rebinds the name.
    import __main__

    x, y = data
    broken = _define("loss_gradient", WRONG["loss_gradient"] + "\nraise ValueError('oops')")
    broken.__module__ = "__main__"
    monkeypatch.setattr(__main__, "loss_gradient", broken, raising=False)
    explorer = helpers.landscape_explorer(_define("loss_grid", RIGHT["loss_grid"]), broken, x, y)
    assert "loss_gradient raised ValueError: oops" in _note(explorer)
    assert explorer.figure is None

    fixed = _define("loss_gradient", RIGHT["loss_gradient"])
    fixed.__module__ = "__main__"
    monkeypatch.setattr(__main__, "loss_gradient", fixed)
    explorer.children[1].value, explorer.children[2].value = 0.5, -0.45
    assert _shows_picture(explorer)
    assert explorer.children[-1].value[:8] == b"\x89PNG\r\n\x1a\n"
    assert abs(np.prod(explorer.result["path"][-1]) - 1) < 0.05, "the run ends on the hyperbola"
    assert explorer.figure is not None and explorer.figure.axes[1].get_title() != ""
