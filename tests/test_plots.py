"""The feedback plot of a training run: readable when the student's run diverges."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from nbformat.v4 import new_code_cell

from autograder.assignments.shallow_narrow.plot import training_figure
from autograder.core.verdict import Verdict
from autograder.nbgrader_plugins import DrawCurves
from autograder.nbgrader_plugins.cells import CURVES_MIME, verdict_outputs
from series import DEPTH


def _curves(diverge_at: int | None) -> dict:
    epochs = 60
    ref_w = np.stack([np.linspace(0.5, 1.2, epochs), np.linspace(-0.5, 0.9, epochs)], axis=1)
    ref_loss = np.geomspace(2.0, 0.01, epochs)
    weights, loss = ref_w * 1.05, ref_loss * 1.5
    if diverge_at is not None:
        growth = 3.0 ** np.arange(epochs - diverge_at)
        weights[diverge_at:, 0] = 2.0 * growth
        weights[diverge_at:, 1] = -2.0 * growth
        loss[diverge_at:] = 5.0 * growth**2
        weights[-5:], loss[-5:] = np.inf, np.inf
    return {"loss": loss.tolist(), "weights": weights.tolist(), "ref_loss": ref_loss.tolist(),
            "ref_weights": ref_w.tolist()}


def _student_lines(ax):
    return [line for line in ax.get_lines() if str(line.get_label()).startswith("your")]


def test_a_diverging_run_stops_at_the_edge_instead_of_lying_along_it() -> None:
    fig = training_figure(_curves(diverge_at=20))
    ax_loss, ax_w = fig.axes
    low, high = ax_w.get_ylim()
    for line in _student_lines(ax_w):
        y = np.asarray(line.get_ydata(), dtype=float)
        drawn = y[np.isfinite(y)]
        # Nothing is drawn on the frame's edge: the line ends where the weight leaves the chart.
        assert drawn.size == 20 and np.all((drawn > low) & (drawn < high))
    markers = [line for line in ax_w.get_lines() if line.get_marker() in ("^", "v")]
    assert sorted(m.get_marker() for m in markers) == ["^", "v"]  # w1 went up, w2 down
    (loss_line,) = _student_lines(ax_loss)
    assert np.isfinite(np.asarray(loss_line.get_ydata(), dtype=float)).sum() <= 21
    assert any("diverges" in text.get_text() for text in ax_loss.texts)


def test_each_reference_weight_has_its_own_colour_and_label() -> None:
    _, ax_w = training_figure(_curves(diverge_at=None)).axes
    labels = {str(line.get_label()): line.get_color() for line in ax_w.get_lines()}
    assert labels["reference $w_1$"] == labels["your $w_1$"] != labels["reference $w_2$"] == labels["your $w_2$"]
    legend = [t.get_text() for t in ax_w.get_legend().get_texts()]
    assert legend.count("reference $w_1$") == legend.count("reference $w_2$") == 1


def test_a_run_that_stays_in_the_chart_is_drawn_whole_and_unmarked() -> None:
    ax_loss, ax_w = training_figure(_curves(diverge_at=None)).axes
    for line in _student_lines(ax_w) + _student_lines(ax_loss):
        assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all()
    assert not ax_loss.texts and not [line for line in ax_w.get_lines() if line.get_marker() in ("^", "v")]


def test_feedback_draws_the_plot_of_the_check_s_own_assignment() -> None:
    cell = new_code_cell("run_check(...)")
    verdict = Verdict(0.0, "off", curves=_curves(diverge_at=None))
    cell.outputs = verdict_outputs("shallow_narrow.training_curve", verdict)
    drawn, _ = DrawCurves().preprocess_cell(cell, {}, 0)
    images = [o["data"]["image/png"] for o in drawn.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1 and base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(CURVES_MIME in o.get("data", {}) for o in drawn.outputs)
    alt = [o["metadata"]["image/png"]["alt"] for o in drawn.outputs if "image/png" in o.get("data", {})][0]
    assert alt.startswith("Plot of your training run against the reference run over 60 epochs")
    assert "yours goes from" in alt
    after = drawn.outputs[[i for i, o in enumerate(drawn.outputs) if "image/png" in o.get("data", {})][0] + 1]
    assert after["data"]["text/plain"] == f"Figure: {alt}"  # the same words, visible under the picture
    assert after["data"]["text/html"].startswith('<p class="figure-caption">Figure: Plot of your training run')


def test_the_plot_is_described_in_words_for_a_screen_reader() -> None:
    from autograder.nbgrader_plugins.feedback import describe_run

    diverged = describe_run(_curves(diverge_at=20))
    assert "stops being a number at epoch 55 (it diverges)" in diverged
    same = _curves(diverge_at=None)
    same["loss"] = same["ref_loss"]
    assert describe_run(same).endswith("yours follows it exactly.")
    assert describe_run({}) == "Plot of your training run against the reference run."


@pytest.mark.parametrize("assignment", [DEPTH], ids=lambda a: a.name)
def test_the_deep_network_s_feedback_shows_its_run_against_the_reference(assignment) -> None:
    from autograder.core.in_process import judge_without_the_notebook

    namespace = assignment.namespace(assignment.source_notebook())
    verdict = judge_without_the_notebook("depth.training_curve", namespace, assignment.name, "plots")
    assert verdict.passed and verdict.curves is not None
    cell = new_code_cell("run_check(...)")
    cell.outputs = verdict_outputs("depth.training_curve", verdict)
    drawn, _ = DrawCurves().preprocess_cell(cell, {}, 0)
    images = [o["data"]["image/png"] for o in drawn.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1 and base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    from autograder.assignments.depth.plot import training_figure

    ax_loss, ax_slope = training_figure(verdict.curves).axes
    student = [line for line in ax_slope.get_lines() if line.get_label() == "your run"][0]
    depth = len(verdict.curves["weights"][0])
    assert np.allclose(student.get_ydata(), np.prod(np.array(verdict.curves["weights"]), axis=1))
    assert f"depth {depth}" in ax_loss.get_title()
