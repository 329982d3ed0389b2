"""03_depth_and_init as the student sees it before submitting: the visible checks and the sliders.

The released notebook runs with the stubs left in, with a correct answer and with typical
mistakes. Each visible check must fail only for the function it tests, say what is wrong on
its first line (nbgrader's Validate cuts every line at 87 characters), never leave an empty
figure behind an error, and every slider explorer must show a message instead of a blank
picture when the student's class fails, and recover once the class is fixed.
"""

from __future__ import annotations

import html
import shutil
import sys
import types
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.course.submissions import fill_stubs
from conftest import ROOT, load_student_module

matplotlib.use("Agg")

ASSIGNMENT = "03_depth_and_init"
NOTEBOOK = "depth_and_init.ipynb"
VALIDATE_WIDTH = 87  # nbgrader's Validator cuts every line of a message here

FORWARD = "y = np.prod(self.w) * x"
LOSS = "mse = np.mean((y_t - y_p) ** 2) / 2"
OTHERS = "others = np.array([np.prod(np.delete(self.w, k)) for k in range(self.w.size)])"
GRADIENT = f"{OTHERS}\ndloss_dw = -np.mean(x * (y_t - np.prod(self.w) * x)) * others"

ANSWERS: dict[str, list[str] | None] = {
    "stub": None,  # the release as it is
    "correct": [FORWARD, LOSS, GRADIENT],
    # typical mistakes, each in one function only
    "full_mse": [FORWARD, "mse = np.mean((y_t - y_p) ** 2)", GRADIENT],
    "divides_by_weight": [FORWARD, LOSS, "dloss_dw = -np.mean(x * (y_t - np.prod(self.w) * x)) * np.prod(self.w) / self.w"],
    "gradient_sign": [FORWARD, LOSS, f"{OTHERS}\ndloss_dw = np.mean(x * (y_t - np.prod(self.w) * x)) * others"],
}

TESTS = ["test_forward", "test_loss", "test_dloss_dw", "test_zero_weight", "test_training_curve"]

FAILING = {
    "stub": set(TESTS),
    "correct": set(),
    "full_mse": {"test_loss"},
    "divides_by_weight": {"test_zero_weight"},
    # train is given code: its check fails with dloss_dw, and says to look there
    "gradient_sign": {"test_dloss_dw", "test_zero_weight", "test_training_curve"},
}

FIRST_LINE = {
    ("stub", "test_training_curve"): "there is no training run: the training cell above failed",
    ("full_mse", "test_loss"): "loss is wrong for predictions [0, 0] and targets [1, 2]:",
    ("divides_by_weight", "test_zero_weight"): "dloss_dw is not finite at weights [0, 2, 3]",
    ("gradient_sign", "test_dloss_dw"): "dloss_dw has the wrong sign, at depth 1:",
    ("gradient_sign", "test_zero_weight"): "dloss_dw is wrong at weights [0, 2, 3]",
    ("gradient_sign", "test_training_curve"): "the loss went up during training",
}


def release() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def submission(answer: str) -> nbformat.NotebookNode:
    bodies = ANSWERS[answer]
    return release() if bodies is None else fill_stubs(release(), bodies)


def class_source(nb: nbformat.NotebookNode) -> str:
    return next(c.source for c in nb.cells if c.cell_type == "code" and "class DeepNarrowLNN" in c.source)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def errors(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def images(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def assert_readable(message: str, where: str) -> None:
    """What is wrong on a first line of at most 80 characters; no line cut by Validate."""
    lines = message.splitlines()
    assert lines and lines[0].strip(), f"{where}: empty message"
    assert len(lines[0]) <= 80, f"{where}: first line too long: {lines[0]!r}"
    too_long = [line for line in lines if len(line) > VALIDATE_WIDTH]
    assert not too_long, f"{where}: lines Validate would cut: {too_long}"


# -- the released notebook, executed ---------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(ANSWERS))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(answer, executed notebook): the release with `answer` filled in, run top to bottom."""
    folder = tmp_path_factory.mktemp(request.param)
    shutil.copytree(ROOT / "release" / ASSIGNMENT, folder, dirs_exist_ok=True)
    nb = submission(request.param)
    NotebookClient(nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    return request.param, nb


def test_each_visible_check_fails_only_for_its_own_function(executed) -> None:
    answer, nb = executed
    failed = {grade_id(c) for c in nb.cells if grade_id(c) in TESTS and errors(c)}
    assert failed == FAILING[answer]
    if answer == "stub":  # an unfinished method fails its own check, not another one
        for cell in nb.cells:
            if grade_id(cell) in TESTS and grade_id(cell) != "test_training_curve":
                assert errors(cell)[0].ename == "NotImplementedError", grade_id(cell)


def test_failed_checks_say_what_is_wrong_on_the_first_line(executed) -> None:
    answer, nb = executed
    seen = set()
    for cell in nb.cells:
        for error in errors(cell):
            if error.ename != "AssertionError":
                continue
            assert_readable(error.evalue, f"{answer}/{grade_id(cell)}")
            expected = FIRST_LINE.get((answer, grade_id(cell)))
            if expected:
                assert error.evalue.splitlines()[0].startswith(expected), error.evalue
                seen.add(grade_id(cell))
            assert "-10.5" not in error.evalue and "1.25" not in error.evalue  # never the right value
    assert seen == {t for a, t in FIRST_LINE if a == answer}  # every expected message came, as an assertion


def test_no_empty_figure_after_an_error(executed) -> None:
    answer, nb = executed
    for index, cell in enumerate(nb.cells):
        if errors(cell):
            assert not images(cell), f"{answer}: cell {index} drew a figure and then failed"
    plots = [c for c in nb.cells if c.cell_type == "code" and "plot_" in c.source and "import" not in c.source]
    assert len(plots) == 2
    for cell in plots:  # the plots fail with the stubs, and draw with a correct class
        assert bool(errors(cell)) == (answer == "stub") and bool(images(cell)) == (answer != "stub")


def test_the_explorer_cells_never_raise(executed) -> None:
    answer, nb = executed
    explorers = [c for c in nb.cells if c.cell_type == "code" and ("_explorer(" in c.source or "_game(" in c.source)]
    assert len(explorers) == 5
    for cell in explorers:
        assert not errors(cell), (answer, cell.source)
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)


def test_the_training_cell_summarizes_each_run_in_words(executed) -> None:
    answer, nb = executed
    training = next(c for c in nb.cells if c.cell_type == "code" and "model.train(" in c.source)
    text = "".join(o.get("text", "") for o in training.outputs if o.output_type == "stream")
    if answer == "correct":  # the numbers the text after the training test explains
        assert "depth  1: loss 0.2227" in text and "converged at epoch 520" in text
        assert "depth 10: loss 0.4932" in text and "converged at epoch 58" in text
    elif answer == "gradient_sign":
        assert "depth 10:" in text and "not converged" in text
    elif answer == "stub":
        assert "depth" not in text and errors(training)[0].ename == "NotImplementedError"


# -- the gradient check, called directly -----------------------------------------------------------


@pytest.fixture(scope="module")
def helpers():
    return load_student_module(ASSIGNMENT, "depth_helpers")


def model_class(bodies: list[str] | None) -> type:
    """The student's class with these method bodies (None: the stubs)."""
    nb = release() if bodies is None else fill_stubs(release(), bodies)
    namespace: dict = {"__name__": "submission", "np": np}
    exec(class_source(nb), namespace)
    return namespace["DeepNarrowLNN"]


def gradient_message(helpers, bodies: list[str]) -> str:
    with pytest.raises(AssertionError) as failure:
        helpers.check_gradient_numerically(model_class(bodies))
    message = str(failure.value)
    assert_readable(message, "check_gradient_numerically")
    return message


def test_the_gradient_check_uses_neither_forward_nor_loss(helpers, capsys) -> None:
    unfinished = "raise NotImplementedError()"
    helpers.check_gradient_numerically(model_class([unfinished, unfinished, GRADIENT]))
    helpers.check_gradient_numerically(model_class([FORWARD, "mse = np.mean((y_t - y_p) ** 2)", GRADIENT]))
    assert capsys.readouterr().out.count("dloss_dw agrees with finite differences") == 2


@pytest.mark.parametrize(
    "gradient, first_line",
    [
        (f"{OTHERS}\ndloss_dw = np.mean(x * (y_t - np.prod(self.w) * x)) * others", "dloss_dw has the wrong sign"),
        (f"{OTHERS}\ndloss_dw = -2 * np.mean(x * (y_t - np.prod(self.w) * x)) * others", "dloss_dw is 2 times too large"),
        (f"{OTHERS}\ndloss_dw = -np.sum(x * (y_t - np.prod(self.w) * x)) * others", "(there are 20 samples)"),
        ("p = np.prod(self.w)\ndloss_dw = -np.mean(x * (y_t - p * x)) * p / self.w[0] * np.ones(self.w.size)",
         "dloss_dw[1] is wrong (it belongs to weight w_2), at depth 2"),
        (f"{OTHERS}\ndloss_dw = -x * (y_t - np.prod(self.w) * x) * others[0]", "shape (1,)"),
        (f"{OTHERS}\nself.w = self.w * 0.5\ndloss_dw = others", "dloss_dw changed self.w"),
    ],
    ids=["sign", "factor_2", "sum", "wrong_weight", "per_sample", "side_effect"],
)
def test_the_gradient_check_names_the_mistake(helpers, gradient: str, first_line: str) -> None:
    message = gradient_message(helpers, [FORWARD, LOSS, gradient])
    assert first_line in message.splitlines()[0], message
    assert "-np.mean" not in message and "prod" not in message  # says what, never the formula


def test_a_wrong_gradient_is_shown_against_the_finite_difference(helpers) -> None:
    message = gradient_message(helpers, [FORWARD, LOSS, ANSWERS["gradient_sign"][2]])
    lines = message.splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["weights", "yours", "finite difference"]
    yours, numeric = (float(line.split("[")[1].rstrip("]")) for line in lines[2:4])
    assert np.isclose(yours, -numeric, rtol=1e-3)


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


# -- the sliders, headless -------------------------------------------------------------------------

EXPLORERS = ["depth_explorer", "lr_explorer", "init_explorer", "all_explorer", "lr_depth_game"]


@pytest.fixture()
def notebook_module(monkeypatch):
    """A module standing in for the notebook's namespace (``__main__`` in a kernel)."""
    module = types.ModuleType("notebook_under_test")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def define_class(module: types.ModuleType, bodies: list[str] | None) -> type:
    """Run the class cell in `module`, as re-running the cell in the notebook would."""
    module.__dict__["np"] = np
    nb = release() if bodies is None else fill_stubs(release(), bodies)
    exec(class_source(nb), module.__dict__)
    return module.DeepNarrowLNN


def data(helpers) -> tuple[np.ndarray, np.ndarray]:
    np.random.seed(2021)
    return helpers.gen_samples(100, 2.0, 0.1)


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


@pytest.mark.parametrize("name", EXPLORERS)
def test_each_explorer_shows_a_message_on_error_and_recovers(helpers, notebook_module, name: str) -> None:
    x, y = data(helpers)
    widget = getattr(helpers, name)(define_class(notebook_module, None), x, y)
    assert_shows_message(widget, "DeepNarrowLNN.forward is not written yet (NotImplementedError).")

    define_class(notebook_module, [FORWARD, "raise NotImplementedError()", GRADIENT])  # forward done, loss not
    slider = widget.children[0]
    slider.value = slider.max
    assert_shows_message(widget, "DeepNarrowLNN.loss is not written yet")

    define_class(notebook_module, ANSWERS["correct"])  # fixed, the cell run again: a slider move is enough
    slider.value = slider.min
    assert_shows_picture(widget)


def test_an_explorer_names_a_wrong_shape_in_words(helpers, notebook_module) -> None:
    x, y = data(helpers)
    broken = define_class(notebook_module, [FORWARD, "mse = (y_t - y_p) ** 2 / 2", GRADIENT])  # forgot the mean
    widget = helpers.depth_explorer(broken, x, y)
    assert_shows_message(widget, "DeepNarrowLNN.train raised ValueError: setting an array element")
    assert "train is given code: check the shapes" in widget.screen.text


def test_an_explorer_in_a_real_kernel_picks_up_the_fixed_class(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "release" / ASSIGNMENT, tmp_path, dirs_exist_ok=True)
    cells = [
        "import numpy as np\nfrom depth_helpers import *\nnp.random.seed(2021)\nx, y = gen_samples(100, 2.0, 0.1)",
        class_source(release()),
        "widget = lr_depth_game(DeepNarrowLNN, x, y)\nprint(widget.screen.text.splitlines()[0])",
        class_source(submission("correct")),
        "widget.children[0].value = 20\nprint('picture' if widget.screen.text == '' else widget.screen.text)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[2].outputs[0].text.startswith("DeepNarrowLNN.forward is not written yet")
    assert nb.cells[4].outputs[0].text.strip() == "picture"
