"""02_learning_landscape as a student sees it before submitting: the visible checks, the plots, the sliders.

Each visible check must fail for its own function and for no other (the grader judges each function
on its own; a check that blames a right function contradicts the grade). Its message must say what is
wrong on a first line short enough for nbgrader's Validate button, which cuts every line at 87
characters. A plot must not leave empty axes behind when a student's function fails, and the slider
explorer must show a readable note instead of a blank picture.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.course.submissions import fill_stubs
from conftest import ROOT, load_student_module

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ASSIGNMENT = "02_learning_landscape"
NOTEBOOK = "learning_landscape.ipynb"
VALIDATE_WIDTH = 87  # nbgrader's Validate cuts each line here
FIRST_LINE = 80

# -- the four exercises, right and with typical mistakes (bodies as a student would write them) -------

STUB = "raise NotImplementedError()"
RIGHT = {
    "loss_grid": "L = ((y - (W1 * W2)[..., None] * x) ** 2).mean(axis=-1)",
    "loss_gradient": "xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)\n"
                     "dL_dW1 = -2 * W2 * xr\ndL_dW2 = -2 * W1 * xr",
    "ends_at_saddle": "saddle = bool(w1 == -np.sign(a) * w2)",
    "max_stable_lr": "s, c, p = (x * x).mean(), (x * y).mean(), w1 * w2\n"
                     "off = 2 * (2 * p * s - c)\n"
                     "lr_max = 2 / np.linalg.eigvalsh(np.array([[2 * s * w2**2, off], [off, 2 * s * w1**2]]))[-1]",
}
WRONG = {
    "loss_grid": "L = ((y - (W1 * W2)[..., None] * x) ** 2).sum(axis=-1)",  # a sum, not a mean
    "loss_gradient": "xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)\n"
                     "dL_dW1 = 2 * W2 * xr\ndL_dW2 = 2 * W1 * xr",  # the sign
    "ends_at_saddle": "saddle = bool(w1 == -w2)",  # whatever the slope's sign
    "max_stable_lr": "s = (x * x).mean()\nlr_max = 1 / (2 * s * (w1**2 + w2**2))",  # 1/lambda, not 2/lambda
}
FUNCTIONS = list(RIGHT)  # in the notebook's order
TEST_OF = {"loss_grid": "test_loss_grid", "loss_gradient": "test_loss_gradient",
           "ends_at_saddle": "test_ends_at_saddle", "max_stable_lr": "test_max_stable_lr"}
# What the first line of each check's message must say about each mistake above.
SAYS = {"loss_grid": "loss_grid is 2 times", "loss_gradient": "dL_dW1 has the wrong sign",
        "ends_at_saddle": "ends_at_saddle is wrong", "max_stable_lr": "max_stable_lr is too small"}


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
    return load_student_module(ASSIGNMENT, "landscape_helpers")


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
    lines = message.splitlines()
    assert lines and len(lines[0]) <= FIRST_LINE, f"first line too long: {lines[0]!r}"
    assert all(len(line) <= FIRST_LINE for line in lines), message


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
    text = (ROOT / "release" / ASSIGNMENT / "landscape_helpers.py").read_text().lower()
    for answer in ("eigvalsh", "hessian", "np.sign(a", "-2 * w", "(w1**2 + w2**2)", "x * (y -"):
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


# -- the released notebook, executed -----------------------------------------------------------------


def _execute_release(folder: Path, bodies: dict[str, str]) -> nbformat.NotebookNode:
    shutil.copytree(ROOT / "release" / ASSIGNMENT, folder, dirs_exist_ok=True)
    release = nbformat.read(folder / NOTEBOOK, as_version=4)
    nb = fill_stubs(release, [bodies[name] for name in FUNCTIONS])
    NotebookClient(nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    return nb


SCENARIOS = {
    "stubs": {name: STUB for name in FUNCTIONS},
    "right": RIGHT,
    "gradient_sign_only": {**RIGHT, "loss_gradient": WRONG["loss_gradient"]},
    "loss_sum_only": {**RIGHT, "loss_grid": WRONG["loss_grid"]},
    "saddle_and_lr": {**RIGHT, "ends_at_saddle": WRONG["ends_at_saddle"], "max_stable_lr": WRONG["max_stable_lr"]},
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    bodies = SCENARIOS[request.param]
    return bodies, _execute_release(tmp_path_factory.mktemp(request.param), bodies)


def _errors(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def test_each_visible_test_fails_exactly_when_its_function_is_wrong(executed) -> None:
    bodies, nb = executed
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
    for name in FUNCTIONS:
        errors = _errors(tests[TEST_OF[name]])
        if bodies[name] == RIGHT[name]:
            assert not errors, f"{TEST_OF[name]} blames a right {name}: {errors[0].evalue if errors else ''}"
        else:
            assert errors, f"{TEST_OF[name]} passes a wrong {name}"
            error = errors[0]
            if bodies[name] == STUB:
                assert error.ename == "NotImplementedError"
            else:
                assert error.ename == "AssertionError" and error.evalue.startswith(SAYS[name]), error.evalue
                _assert_readable(error.evalue)


def test_every_error_line_fits_validate(executed) -> None:
    _, nb = executed
    for index, cell in enumerate(nb.cells):
        for error in _errors(cell):
            lines = f"{error.ename}: {error.evalue}".splitlines()
            assert all(len(line) <= VALIDATE_WIDTH for line in lines), f"cell {index}: {lines}"


def test_no_figure_is_left_behind_by_an_error_and_nothing_goes_to_stderr(executed) -> None:
    _, nb = executed
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs", [])
        if _errors(cell):
            assert not any("image/png" in o.get("data", {}) for o in outputs), f"cell {index}: an empty figure"
        assert not any(o.get("name") == "stderr" for o in outputs), f"cell {index}: {outputs}"


def test_the_explorer_shows_a_note_or_a_picture(executed) -> None:
    bodies, nb = executed
    explorer_cell = next(c for c in nb.cells if c.cell_type == "code" and "landscape_explorer(" in c.source
                         and "import" not in c.source)
    assert not _errors(explorer_cell)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    notes = [m["state"].get("value", "") for m in state.values() if m["model_name"] == "HTMLModel"]
    pictures = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert len(notes) == 1 and len(pictures) == 1
    if bodies["loss_grid"] == STUB:
        assert "loss_grid is not written yet" in notes[0] and "Coding exercise 1" in notes[0]
    else:
        assert notes[0] == ""  # the picture is shown (a wrong gradient only makes the runs wander off)
