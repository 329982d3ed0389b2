"""01_shallow_narrow as the student sees it before submitting: the visible checks and the sliders.

The released notebook runs with the stubs left in, with a correct answer and with typical
mistakes. Each visible check must say what is wrong on its first line (nbgrader's Validate
cuts every line at 87 characters), never crash inside the helper with a NameError, TypeError
or ValueError, never give the answer, and the slider explorer must show a message instead of
a blank picture when the student's class fails, and recover once the class is fixed.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import types
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.models import shallow as reference
from autograder.course.submissions import fill_stubs
from conftest import ROOT, load_student_module

matplotlib.use("Agg")

ASSIGNMENT = "01_shallow_narrow"
NOTEBOOK = "shallow_narrow.ipynb"
VALIDATE_WIDTH = 87  # nbgrader's Validator cuts every line of a message here

FORWARD = "y = x * self.w1 * self.w2"
RESIDUAL = "(y_true - self.w1 * self.w2 * x)"


def gradient(w1_factor: str = "self.w2", w2_factor: str = "self.w1", sign: str = "-", reduce: str = ".mean()") -> str:
    """A body for dloss_dw, right by default; each argument can carry one typical mistake."""
    return (
        f"dloss_dw1 = {sign} (2 * {w1_factor} * x * {RESIDUAL}){reduce}\n"
        f"dloss_dw2 = {sign} (2 * {w2_factor} * x * {RESIDUAL}){reduce}"
    )


UNFINISHED = "raise NotImplementedError()"
ANSWERS: dict[str, list[str] | None] = {
    "stub": None,  # the release as it is
    "correct": [FORWARD, gradient()],
    # typical mistakes, all in dloss_dw
    "sign": [FORWARD, gradient(sign="")],
    "sum": [FORWARD, gradient(reduce=".sum()")],
    "swap": [FORWARD, gradient(w1_factor="self.w1", w2_factor="self.w2")],
    "no_mean": [FORWARD, gradient(reduce="")],
}

TESTS = ["test_forward", "test_dloss_dw", "test_training_curve", "test_seed_run"]
RUN_TESTS = {"test_training_curve", "test_seed_run"}
MISTAKES = {"sign", "sum", "swap", "no_mean"}

NO_RUN = "there is no training run: the training cell above failed"
DIVERGED = "training diverged: "
FIRST_LINE = {
    ("stub", "test_training_curve"): NO_RUN,
    ("stub", "test_seed_run"): NO_RUN,
    ("sign", "test_dloss_dw"): "dloss_dw has the wrong sign:",
    ("sum", "test_dloss_dw"): "dloss_dw is 20 times too large (there are 20 samples):",
    ("swap", "test_dloss_dw"): "dloss_dw1 and dloss_dw2 seem swapped:",
    ("no_mean", "test_dloss_dw"): "dloss_dw1 is an array of shape (20,), not one number",
    ("no_mean", "test_training_curve"): NO_RUN,
    ("no_mean", "test_seed_run"): NO_RUN,
    **{(m, "test_training_curve"): DIVERGED + "the loss became inf at epoch" for m in ("sign", "sum", "swap")},
    **{(m, "test_seed_run"): DIVERGED + "the final weights are" for m in ("sign", "sum", "swap")},
}


def release() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def submission(answer: str) -> nbformat.NotebookNode:
    bodies = ANSWERS[answer]
    return release() if bodies is None else fill_stubs(release(), bodies)


def class_source(nb: nbformat.NotebookNode) -> str:
    return next(c.source for c in nb.cells if c.cell_type == "code" and "class ShallowNarrowExercise" in c.source)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def errors(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in cell.get("outputs", []) if o.get("name") == "stdout")


def images(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def assert_readable(message: str, where: str) -> None:
    """What is wrong on a first line of at most 80 characters; no line cut by Validate."""
    lines = message.splitlines()
    assert lines and lines[0].strip(), f"{where}: empty message"
    assert len(lines[0]) <= 80, f"{where}: first line too long: {lines[0]!r}"
    too_long = [line for line in lines if len(line) > VALIDATE_WIDTH]
    assert not too_long, f"{where}: lines Validate would cut: {too_long}"


def assert_no_answer(message: str) -> None:
    """A message says what is wrong, never how the gradient is written."""
    for formula in ("self.w", "y_true -", ".mean()", "2 * w", "w2 * x", "w1 * x"):
        assert formula not in message, (formula, message)


# -- the released notebook, executed ---------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(ANSWERS))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(answer, executed notebook): the release with `answer` filled in, run top to bottom."""
    folder = tmp_path_factory.mktemp(request.param)
    shutil.copytree(ROOT / "release" / ASSIGNMENT, folder, dirs_exist_ok=True)
    nb = submission(request.param)
    NotebookClient(nb, timeout=120, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    return request.param, nb


def test_each_visible_check_fails_only_where_it_should(executed) -> None:
    answer, nb = executed
    failed = {grade_id(c) for c in nb.cells if grade_id(c) in TESTS and errors(c)}
    expected = {"stub": set(TESTS), "correct": set()}.get(answer, {"test_dloss_dw"} | RUN_TESTS)
    assert failed == expected


def test_the_helper_never_crashes_with_an_unreadable_error(executed) -> None:
    answer, nb = executed
    for cell in nb.cells:
        if grade_id(cell) not in TESTS:
            continue
        for error in errors(cell):
            # an unfinished method raises its own NotImplementedError; everything else is a message
            allowed = {"AssertionError", "NotImplementedError"} if answer == "stub" else {"AssertionError"}
            assert error.ename in allowed, (answer, grade_id(cell), error.ename, error.evalue)
            if error.ename == "NotImplementedError":
                assert grade_id(cell) in {"test_forward", "test_dloss_dw"}


def test_failed_checks_say_what_is_wrong_on_the_first_line(executed) -> None:
    answer, nb = executed
    seen = set()
    for cell in nb.cells:
        for error in errors(cell):
            if error.ename != "AssertionError":
                continue
            assert_readable(error.evalue, f"{answer}/{grade_id(cell)}")
            assert_no_answer(error.evalue)
            expected = FIRST_LINE.get((answer, grade_id(cell)))
            if expected:
                assert error.evalue.splitlines()[0].startswith(expected), error.evalue
                seen.add(grade_id(cell))
    assert seen == {t for a, t in FIRST_LINE if a == answer}


def test_a_diverged_run_points_at_the_gradient_test(executed) -> None:
    answer, nb = executed
    for cell in nb.cells:
        if grade_id(cell) in RUN_TESTS:
            said = " ".join(e.evalue for e in errors(cell))
            if answer in {"sign", "sum", "swap"}:  # these diverge at the seed's learning rate
                assert said.startswith(DIVERGED) and "check dloss_dw with its test above" in said
            else:
                assert DIVERGED not in said


def test_the_gradient_check_shows_the_weights_and_both_gradients(executed) -> None:
    answer, nb = executed
    cell = next(c for c in nb.cells if grade_id(c) == "test_dloss_dw")
    if answer not in {"sign", "sum", "swap"}:
        said = " ".join(e.evalue for e in errors(cell))
        assert "finite difference:" not in said  # unfinished, or not numbers: nothing to compare
        assert (answer == "correct") == ("agrees with finite differences" in stdout(cell))
        return
    lines = errors(cell)[0].evalue.splitlines()
    assert lines[1].split() == ["at", "w1", "=", "0.7,", "w2", "=", "1.9", "dloss_dw1", "dloss_dw2"]
    yours = [float(v) for v in lines[2].split()[1:]]
    numeric = [float(v) for v in lines[3].split()[2:]]
    assert lines[2].startswith("  yours:") and lines[3].startswith("  finite difference:")
    factor = {"sign": [-1, -1], "sum": [20, 20]}.get(answer)
    if factor:
        assert np.allclose(yours, np.multiply(factor, numeric), rtol=1e-3)
    else:
        assert np.allclose(yours, numeric[::-1], rtol=1e-3)


def test_the_training_cell_reports_the_run_in_words_and_without_warnings(executed) -> None:
    answer, nb = executed
    for index, cell in enumerate(nb.cells):
        noise = [o.text for o in cell.get("outputs", []) if o.get("name") == "stderr"]
        assert not noise, f"{answer}: cell {index} wrote to stderr: {noise}"
    training = next(c for c in nb.cells if c.cell_type == "code" and ".train(" in c.source)
    text = stdout(training)
    if answer == "correct":  # the seed run, exactly
        assert "final weights: w1 = -1.33116, w2 = -1.52546, final loss 0.0340257" in text
    elif answer in {"sign", "sum", "swap"}:
        assert re.search(r"training diverged: the loss became inf at epoch \d+\n", text), text
        assert_readable(text.split("\n", 1)[1], "the training cell")  # after "Random seed ... set."
        assert "RuntimeWarning" not in text
        assert images(training), "a diverged run is still drawn, up to where it broke down"


def test_no_empty_figure_after_an_error(executed) -> None:
    answer, nb = executed
    for index, cell in enumerate(nb.cells):
        if errors(cell):
            assert not images(cell), f"{answer}: cell {index} drew a figure and then failed"


def widget_state(nb: nbformat.NotebookNode) -> list[dict]:
    return list(nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values())


def test_the_explorer_never_raises_and_shows_a_message_instead(executed) -> None:
    answer, nb = executed
    cell = next(c for c in nb.cells if c.cell_type == "code" and "training_explorer(" in c.source)
    assert not errors(cell)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)
    models = widget_state(nb)
    for model in models:  # no exception swallowed into an Output widget that is not on screen
        if model["model_name"] == "OutputModel":
            assert not model["state"].get("outputs"), model["state"]["outputs"]
    messages = [m["state"].get("value", "") for m in models if m["model_name"] == "HTMLModel"]
    shown = [m for m in messages if m]
    expected = {
        "stub": "ShallowNarrowExercise.forward is not written yet (NotImplementedError).",
        "no_mean": "dloss_dw1 is an array of shape (73,), not one number",
    }.get(answer)
    if expected is None:
        assert not shown, shown  # the picture, no message
    else:
        assert len(shown) == 1 and html.escape(expected) in shown[0], shown


# -- the checks, called directly -------------------------------------------------------------------


@pytest.fixture(scope="module")
def helpers():
    return load_student_module(ASSIGNMENT, "shallow_narrow_helpers")


def model_class(bodies: list[str] | None) -> type:
    """The student's class with these method bodies (None: the stubs)."""
    nb = release() if bodies is None else fill_stubs(release(), bodies)
    namespace: dict = {"__name__": "submission", "np": np}
    exec(class_source(nb), namespace)
    return namespace["ShallowNarrowExercise"]


def gradient_message(helpers, body: str) -> str:
    with pytest.raises(AssertionError) as failure:
        helpers.check_gradient_numerically(model_class([FORWARD, body]))
    message = str(failure.value)
    assert_readable(message, "check_gradient_numerically")
    assert_no_answer(message)
    return message


def test_the_gradient_check_passes_a_right_gradient_without_using_forward(helpers, capsys) -> None:
    helpers.check_gradient_numerically(model_class([FORWARD, gradient()]))
    helpers.check_gradient_numerically(model_class([UNFINISHED, gradient()]))
    helpers.check_gradient_numerically(model_class(["y = x * (self.w1 + self.w2)", gradient()]))
    assert capsys.readouterr().out.count("dloss_dw agrees with finite differences") == 3


@pytest.mark.parametrize(
    "body, first_line",
    [
        (gradient(sign=""), "dloss_dw has the wrong sign:"),
        (gradient(reduce=".sum()"), "dloss_dw is 20 times too large (there are 20 samples):"),
        (gradient(w1_factor="self.w1", w2_factor="self.w2"), "dloss_dw1 and dloss_dw2 seem swapped:"),
        (gradient(reduce=""), "dloss_dw1 is an array of shape (20,), not one number"),
        (gradient().replace("(2 * ", "("), "dloss_dw is 2 times too small:"),
        (gradient().replace("dloss_dw2 = -", "dloss_dw2 = "), "dloss_dw2 has the wrong sign:"),
        (gradient().replace("dloss_dw2 = - (2 * self.w1", "dloss_dw2 = - (2 * self.w2"), "dloss_dw2 is wrong:"),
        (gradient() + "\nreturn dloss_dw1", "dloss_dw should return two numbers: (dloss_dw1, dloss_dw2)"),
        (gradient() + "\nreturn dloss_dw1, dloss_dw2, 0.0", "dloss_dw should return two numbers"),
        (gradient() + "\nreturn None, dloss_dw2", "dloss_dw1 is not a number: it is None"),
        (gradient() + "\nself.w1 = self.w1 - dloss_dw1", "dloss_dw changed the weights"),
        ("dloss_dw1 = dloss_dw2 = np.inf", "dloss_dw returned inf or nan:"),
        ("dloss_dw1 = dloss_dw2 = 0.0", "dloss_dw returned 0 for both weights:"),
    ],
    ids=["sign", "sum", "swap", "no_mean", "factor_2", "one_sign", "one_wrong", "one_value", "three_values",
         "none", "side_effect", "inf", "zero"],
)
def test_the_gradient_check_names_the_mistake(helpers, body: str, first_line: str) -> None:
    message = gradient_message(helpers, body)
    assert message.splitlines()[0].startswith(first_line), message


def test_forgetting_the_mean_is_explained_in_words(helpers) -> None:
    message = gradient_message(helpers, gradient(reduce=""))
    assert "one value per sample (20 samples)" in message and "mean gradients" in message
    assert "at w1 = 0.7, w2 = 1.9" in message


@pytest.fixture()
def seed_run() -> tuple[np.ndarray, np.ndarray]:
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], run["a"], run["sigma"])
    return reference.train(run["init"], x, y, run["lr"], run["n_ep"])


def run_message(check, *args) -> str:
    with pytest.raises(AssertionError) as failure:
        check(*args)
    message = str(failure.value)
    assert_readable(message, check.__name__)
    return message


def test_the_run_checks_pass_the_seed_run(helpers, seed_run, capsys) -> None:
    loss_log, weight_log = seed_run
    helpers.check_training_curve(loss_log, weight_log, 211)
    helpers.check_seed_run(weight_log, expected=[-1.33116, -1.52546])
    said = capsys.readouterr().out.splitlines()
    assert said == ["The loss goes down during training.", "The run ends where it should."]
    assert helpers.describe_run(loss_log, weight_log) == (
        "final weights: w1 = -1.33116, w2 = -1.52546, final loss 0.0340257"
    )


def test_the_run_checks_say_when_there_is_no_run(helpers) -> None:
    for check, args in [(helpers.check_training_curve, (None, None, 211)), (helpers.check_seed_run, (None, [0, 0]))]:
        message = run_message(check, *args)
        assert message.startswith(NO_RUN) and "run it again" in message


def test_the_run_checks_say_where_a_run_diverged(helpers, seed_run) -> None:
    loss_log, weight_log = (a.copy() for a in seed_run)
    loss_log[17:], weight_log[-1] = np.inf, [np.inf, -np.inf]
    curve = run_message(helpers.check_training_curve, loss_log, weight_log, 211)
    assert curve.startswith("training diverged: the loss became inf at epoch 17 of 211")
    end = run_message(helpers.check_seed_run, weight_log, [-1.33116, -1.52546])
    assert end.startswith("training diverged: the final weights are w1 = inf, w2 = -inf")
    for message in (curve, end):
        assert "check dloss_dw with its test above" in message
    assert helpers.describe_run(loss_log, weight_log).startswith("training diverged: the loss became inf at epoch 17")


def test_the_run_checks_name_a_wrong_ending_or_shape(helpers, seed_run) -> None:
    loss_log, weight_log = seed_run
    up = run_message(helpers.check_training_curve, loss_log[::-1], weight_log, 211)
    assert up.startswith("the loss went up during training: 0.03403 -> 6.355")
    shapes = run_message(helpers.check_training_curve, loss_log, weight_log[:, 0], 211)
    assert shapes.startswith("the training run has shapes (211,) and (211,)")
    elsewhere = run_message(helpers.check_seed_run, weight_log[:100], [-1.33116, -1.52546])
    assert elsewhere.startswith("the run ends at w1 = ") and "expected:     w1 = -1.33116, w2 = -1.52546" in elsewhere


# -- the sliders, headless -------------------------------------------------------------------------


@pytest.fixture()
def notebook_module(monkeypatch):
    """A module standing in for the notebook's namespace (``__main__`` in a kernel)."""
    module = types.ModuleType("notebook_under_test")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def define_class(module: types.ModuleType, bodies: list[str] | None) -> type:
    """Run the class cell in `module`, as re-running the cell in the notebook would."""
    module.__dict__["np"] = np
    module.__dict__["loss"] = lambda y_prediction, y_true: ((y_true - y_prediction) ** 2).mean()
    exec(class_source(release() if bodies is None else fill_stubs(release(), bodies)), module.__dict__)
    return module.ShallowNarrowExercise


def assert_shows_message(widget, first_line: str) -> None:
    screen = widget.screen
    assert screen.text.splitlines()[0].startswith(first_line), screen.text
    assert "section 2" in screen.text and "move a slider" in screen.text
    assert_readable(screen.text, "explorer message")
    assert screen.message.layout.display != "none" and screen.image.layout.display == "none"
    assert screen.message in widget.children
    assert html.escape(first_line) in screen.message.value  # the message widget shows the same text
    assert "error" in widget.result


def assert_shows_picture(widget) -> None:
    screen = widget.screen
    assert screen.text == "" and "loss" in widget.result
    assert screen.message.layout.display == "none" and screen.image.layout.display != "none"
    assert widget.children[-1] is screen.image and screen.image.value[:4] == b"\x89PNG"


def test_the_explorer_shows_a_message_on_error_and_recovers(helpers, notebook_module) -> None:
    x, y = reference.gen_samples(73, 2.0, 0.2)
    widget = helpers.training_explorer(define_class(notebook_module, None), x, y)
    assert_shows_message(widget, "ShallowNarrowExercise.forward is not written yet (NotImplementedError).")

    define_class(notebook_module, [FORWARD, UNFINISHED])  # forward done, dloss_dw not yet
    widget.children[0].value = 0.1
    assert_shows_message(widget, "ShallowNarrowExercise.dloss_dw is not written yet (NotImplementedError).")

    define_class(notebook_module, [FORWARD, gradient(reduce="")])  # forgot the mean
    widget.children[1].value = 1.0
    assert_shows_message(widget, "dloss_dw1 is an array of shape (73,), not one number")

    define_class(notebook_module, ANSWERS["correct"])  # fixed, the cell run again: a slider move is enough
    widget.children[1].value = 1.4
    assert_shows_picture(widget)
    lr = widget.children[0].value
    expected_loss, _ = reference.train((1.4, -1.6), x, y, lr, 211)
    assert np.allclose(widget.result["loss"], expected_loss)


@pytest.mark.parametrize(
    "bodies, first_line",
    [
        (["y = (x * self.w1 * self.w2).mean()", gradient()],
         "ShallowNarrowExercise.forward returned shape () for 37 inputs,"),
        ([FORWARD, "dloss_dw1 = dloss_dw2 = 1 / 0"],
         "ShallowNarrowExercise.dloss_dw raised ZeroDivisionError: division by zero"),
    ],
    ids=["forward_shape", "raises"],
)
def test_the_explorer_names_the_failing_method(helpers, notebook_module, bodies, first_line) -> None:
    x, y = reference.gen_samples(73, 2.0, 0.2)
    widget = helpers.training_explorer(define_class(notebook_module, bodies), x, y)
    assert_shows_message(widget, first_line)


def test_the_explorer_in_a_real_kernel_picks_up_the_fixed_class(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "release" / ASSIGNMENT, tmp_path, dirs_exist_ok=True)
    cells = [
        "import numpy as np\nfrom shallow_narrow_helpers import *\nnp.random.seed(2021)\n"
        "x, y = gen_samples(73, 2.0, 0.2)\nloss = lambda y_prediction, y_true: ((y_true - y_prediction)**2).mean()",
        class_source(release()),
        "widget = training_explorer(ShallowNarrowExercise, x, y)\nprint(widget.screen.text.splitlines()[0])",
        class_source(submission("correct")),
        "widget.children[0].value = 0.1\nprint('picture' if widget.screen.text == '' else widget.screen.text)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[2].outputs[0].text.startswith("ShallowNarrowExercise.forward is not written yet")
    assert nb.cells[4].outputs[0].text.strip() == "picture"
