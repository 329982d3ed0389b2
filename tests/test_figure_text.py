"""Every figure says in words what it shows, with its numbers: for a screen reader and for everyone.

A notebook figure is shown with its description as the image's alt text (``metadata["image/png"]["alt"]``,
which nbconvert writes into the ``<img>``) and as a caption line under it; an explorer's picture has a
caption above it; the class report's plots have alt texts and captions.
The descriptions are checked against the data each figure draws, not for wording.
"""

from __future__ import annotations

import html
import re
import types
from html.parser import HTMLParser

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from autograder.course import build
from autograder.reports import class_report as report
from conftest import ROOT, load_student_module, solution_namespace

matplotlib.use("Agg")

HELPERS = {
    "01_shallow_narrow": ("shallow_narrow_helpers", "shallow_narrow.ipynb"),
    "02_learning_landscape": ("landscape_helpers", "learning_landscape.ipynb"),
    "03_depth_and_init": ("depth_helpers", "depth_and_init.ipynb"),
}


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?", text)


def _g(value: float) -> str:
    """A number as the descriptions write it."""
    return f"{value:.3g}"


def _images(nb: nbformat.NotebookNode):
    """(cell, output index) of every image output of a notebook."""
    for cell in nb.cells:
        for index, output in enumerate(cell.get("outputs", [])):
            if "image/png" in output.get("data", {}):
                yield cell, index


# -- the published worked solutions ----------------------------------------------------------------------


@pytest.mark.parametrize("assignment", build.assignments())
def test_every_figure_of_the_worked_solutions_is_described(assignment: str) -> None:
    nb = nbformat.read(ROOT / "notebooks" / assignment / HELPERS[assignment][1], as_version=4)
    images = list(_images(nb))
    assert images, "the worked solution shows its figures"
    for cell, index in images:
        alt = cell.outputs[index].get("metadata", {}).get("image/png", {}).get("alt", "")
        assert len(alt) > 60 and len(_numbers(alt)) >= 3, f"{cell.source[:40]!r}: {alt!r}"
        caption = cell.outputs[index + 1] if index + 1 < len(cell.outputs) else {}
        assert caption.get("data", {}).get("text/plain") == f"Figure: {alt}", "a caption line follows the picture"
        assert html.escape(alt) in caption["data"]["text/html"]


def test_the_training_figure_s_description_has_the_run_s_numbers() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "01_shallow_narrow" / "shallow_narrow.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "plot_x_y_(" in c.source)
    ((_, index),) = [(c, i) for c, i in _images(nb) if c is cell]
    alt = cell.outputs[index].metadata["image/png"]["alt"]
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    w1, w2, loss = map(float, re.search(r"w1 = (\S+), w2 = (\S+), final loss (\S+)", printed).groups())
    assert f"to {_g(loss)} in 211 epochs" in alt and f"to {_g(w1)}" in alt and f"to {_g(w2)}" in alt


# -- the drawing helpers, against what they draw ---------------------------------------------------------


def _helpers(assignment: str):
    return load_student_module(assignment, HELPERS[assignment][0])


def _solutions(assignment: str) -> dict:
    return solution_namespace(nbformat.read(ROOT / "source" / assignment / HELPERS[assignment][1], as_version=4))


@pytest.fixture()
def shown() -> list[tuple[plt.Figure, str]]:
    """What the helpers showed: each figure with its description."""
    return []


def _recorded(helpers, shown, monkeypatch):
    """`helpers`, whose ``_show`` (from course_helpers) records each figure and its description in `shown`."""
    monkeypatch.setattr(helpers, "_show", lambda fig, description: shown.append((fig, description)))
    return helpers


def test_the_shallow_network_s_figures(shown, monkeypatch) -> None:
    helpers = _recorded(_helpers("01_shallow_narrow"), shown, monkeypatch)
    model = _solutions("01_shallow_narrow")["ShallowNarrowExercise"]
    np.random.seed(0)
    x, y = helpers.gen_samples(50, 2.0, 0.2)
    for lr in (0.02, 0.9):  # a run that converges, one that diverges
        net = model([1.4, -1.6])
        with np.errstate(all="ignore"):
            loss, weights = net.train(x, y, lr, 100)
            helpers.plot_x_y_(x, y, x, net.forward(x), loss, weights)
    (fig, converged), (_, diverged) = shown
    curve = fig.axes[1].lines[0].get_ydata()
    assert f"falls from {_g(curve[0])} to {_g(curve[-1])} in 100 epochs" in converged
    assert f"w1 goes from {_g(fig.axes[2].lines[0].get_ydata()[0])} to " in converged
    epoch = int(np.flatnonzero(~np.isfinite(loss))[0])
    assert f"not a number from epoch {epoch} of 100: training diverged" in diverged and "no line is drawn" in diverged


def test_the_landscape_figures(shown, monkeypatch) -> None:
    helpers = _recorded(_helpers("02_learning_landscape"), shown, monkeypatch)
    solutions = _solutions("02_learning_landscape")
    loss_grid, loss_gradient, max_stable_lr = (solutions[n] for n in ("loss_grid", "loss_gradient", "max_stable_lr"))
    x = np.linspace(0.1, 1, 10)
    y = 1.5 * x
    helpers.plot_landscape(loss_grid, loss_gradient, x, y, inits=[(0.5, -0.5), (-1.8, 1.7)], n_ep=300, lr=0.1)
    helpers.plot_stability(max_stable_lr, x, y)
    (landscape, said), (stability, says) = shown
    ax = landscape.axes[0]
    path_ends = [line.get_xydata()[-1] for line in ax.lines if line.get_marker() == "X"]
    assert [p for p in path_ends] and all(f"to ({_g(e1)}, {_g(e2)})" in said for e1, e2 in path_ends)
    assert "the saddle" in said and "a minimum (w1 w2 = 1.5" in said and "minima w1 w2 = 1.5 " in said
    dashed = [line.get_xdata()[0] for line in stability.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 3 and all(f"your η_max is {_g(lr)}" in says for lr in dashed)


def test_the_depth_figures(shown, monkeypatch) -> None:
    helpers = _recorded(_helpers("03_depth_and_init"), shown, monkeypatch)
    model = _solutions("03_depth_and_init")["DeepNarrowLNN"]
    np.random.seed(0)
    x, y = helpers.gen_samples(40, 2.0, 0.1)
    helpers.plot_gradient_vs_depth(model, x, y, inits=(0.5, 1.0, 2.0), max_depth=20)
    helpers.plot_init_curves(model, x, y, n_ep=120, inits=(0.8, 1.0, 1.4))
    (gradients, said), (curves, says) = shown
    for line, init, trend in zip(gradients.axes[0].lines, (0.5, 1.0, 2.0), ("shrinks", "stays", "grows")):
        first, last = line.get_ydata()[[0, -1]]
        assert f"every weight {init}: {_g(first)} at depth 1, {_g(last)} at depth 20 ({trend}" in said
    for line, init in zip(curves.axes[0].lines, ("0.80", "1.00")):
        losses = line.get_ydata()
        assert f"init {init}: {_g(losses[0])} to {_g(losses[-1])}, converged at epoch " in says
    assert f"exploded at epoch {len(curves.axes[0].lines[2].get_ydata())}" in says.split("init 1.40: ")[1]


def test_a_figure_is_shown_with_its_alt_text_and_a_caption_in_a_notebook(monkeypatch) -> None:
    import IPython
    import IPython.display

    shared = load_student_module("01_shallow_narrow", "course_helpers")
    displayed: list = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: types.SimpleNamespace(kernel=object()))
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: displayed.append(obj))
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    shared._show(fig, "a line from 1 to 3")
    image, caption = displayed
    data, metadata = image._repr_mimebundle_()
    assert data["image/png"] and metadata == {"image/png": {"alt": "a line from 1 to 3"}}
    assert caption["text/plain"] == "Figure: a line from 1 to 3" and "a line from 1 to 3</p>" in caption["text/html"]
    assert not plt.fignum_exists(fig.number), "closed: the notebook does not show it a second time"


# -- the explorers -----------------------------------------------------------------------------------


def _caption(widget) -> tuple[str, object]:
    """An explorer's caption text and its widget (the one before the message and the picture)."""
    caption = widget.children[-3]
    assert "figure-caption" in caption._dom_classes
    text = html.unescape(re.sub(r"<[^>]+>", "", caption.value)).removeprefix("Figure: ")
    # No tooltip on the picture: JupyterLab's widget manager (jupyterlab_widgets 3.0.17) then fails to draw it.
    assert widget.children[-1].tooltip is None
    return text, caption


def test_the_training_explorer_describes_each_run() -> None:
    helpers = _helpers("01_shallow_narrow")
    model = _solutions("01_shallow_narrow")["ShallowNarrowExercise"]
    helpers.set_seed(helpers.SEED)
    x, y = helpers.gen_samples(73, 2.0, 0.2)
    widget = helpers.training_explorer(model, x, y)
    text, _ = _caption(widget)
    loss = widget.result["loss"]
    assert "Learning rate 0.02" in text and f"falls from {_g(loss[0])} to {_g(loss[-1])} in 211 epochs" in text
    widget.children[0].value = 0.9  # diverges
    text, caption = _caption(widget)
    assert "Learning rate 0.9" in text and "training diverged" in text and caption.layout.display != "none"


def test_the_explorer_hides_its_caption_when_the_code_fails() -> None:
    helpers = _helpers("01_shallow_narrow")

    class Unfinished:
        def __init__(self, weights):
            self.w1, self.w2 = weights

        def forward(self, x):
            raise NotImplementedError()

    widget = helpers.training_explorer(Unfinished, np.linspace(0, 1, 5), np.linspace(0, 2, 5))
    assert widget.screen.text and widget.screen.caption.layout.display == "none" and widget.screen.description == ""


def test_the_landscape_explorer_describes_each_run() -> None:
    helpers = _helpers("02_learning_landscape")
    solutions = _solutions("02_learning_landscape")
    x = np.linspace(0.1, 1, 10)
    widget = helpers.landscape_explorer(solutions["loss_grid"], solutions["loss_gradient"], x, x)
    text, _ = _caption(widget)
    end = widget.result["path"][-1]
    assert f"from (-1.8, 1.7) to ({_g(end[0])}, {_g(end[1])})" in text and "learning rate 0.15" in text
    assert f"to {_g(widget.result['loss'][-1])}." in text


def test_the_depth_explorers_describe_each_run() -> None:
    helpers = _helpers("03_depth_and_init")
    model = _solutions("03_depth_and_init")["DeepNarrowLNN"]
    np.random.seed(0)
    x, y = helpers.gen_samples(40, 2.0, 0.1)
    widget = helpers.depth_explorer(model, x, y)
    widget.children[0].value = 5
    text, _ = _caption(widget)
    loss, slope = widget.result["loss"], np.prod(widget.result["weights"][-1])
    assert "Depth 5, learning rate 0.01" in text and f"from {_g(loss[0])} to {_g(loss[-1])}" in text
    assert f"to {_g(slope)}; the best slope" in text
    game = helpers.lr_depth_game(model, x, y)
    game.children[1].value = 0.05
    text, _ = _caption(game)
    assert f"depth 10: epoch {game.best[10][0]} at learning rate" in text


# -- the class report ----------------------------------------------------------------------------------


class Figures(HTMLParser):
    """Each ``<figure>`` of a page: its image's alt text and its caption."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[dict[str, str]] = []
        self.maths = 0
        self._caption: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "figure":
            self.figures.append({})
        elif tag == "img":
            self.figures[-1]["alt"] = dict(attrs).get("alt") or ""
        elif tag == "figcaption":
            self._caption = []
        elif tag == "math":
            self.maths += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption" and self._caption is not None:
            self.figures[-1]["caption"] = "".join(self._caption)
            self._caption = None

    def handle_data(self, data: str) -> None:
        if self._caption is not None:
            self._caption.append(data)


def _class(scores: list[tuple[float, float, str | None]]) -> report.ClassData:
    """A class of students with (forward score, gradient score, diagnosed mistake)."""
    columns = [report.TestColumn("test_forward", 2, False), report.TestColumn("test_dloss_dw", 3, False)]
    rows = []
    for k, (forward, gradient, mistake) in enumerate(scores):
        row = report.StudentRow(f"s{k}", forward + gradient, 5)
        row.tests = {
            "test_forward": report.TestResult("test_forward", forward, 2, False, False),
            "test_dloss_dw": report.TestResult("test_dloss_dw", gradient, 3, False, False),
        }
        row.mistakes = {mistake: ["shallow_narrow.dloss_dw"]} if mistake else {}
        rows.append(row)
    return report.ClassData("01_shallow_narrow", True, 5, columns, rows, 0)


def test_the_report_s_plots_are_described_with_their_numbers(monkeypatch) -> None:
    known = {"grad_sign": types.SimpleNamespace(title="the gradient has the wrong sign: $-\\nabla L$")}
    monkeypatch.setattr(report, "catalogue", lambda: known)
    data = _class([(2, 3, None), (2, 0, "grad_sign"), (2, 0, "grad_sign"), (0, 0, "grad_sign")])
    page = report.render(data)
    histogram, rates, mistakes = Figures(page).figures
    assert all(f["alt"] == f["caption"] for f in (histogram, rates, mistakes))
    assert "4 submissions (out of 5): 1 scored 5, 2 scored 2, 1 scored 0; mean 2.25, median 2." in histogram["alt"]
    assert "test_forward 75%, test_dloss_dw 25%" in rates["alt"]
    assert "grad_sign 3." in mistakes["alt"]
    assert Figures(page).maths == 1 and "<td>the gradient has the wrong sign: <math " in page, "the formula is MathML"


def test_a_large_class_s_histogram_is_described_by_its_quartiles() -> None:
    data = _class([(k % 3, (k * 7) % 31 / 10, None) for k in range(40)])
    alt = Figures(report.render(data)).figures[0]["alt"]
    scores = sorted(r.score for r in data.rows)
    assert f"lowest {scores[0]:g}" in alt and f"highest {scores[-1]:g}" in alt and "quartiles" in alt
