"""03_depth_and_init: mistakes only it has, its reference math, its sliders.

What every assignment of the series is tested for (the examples, a real autograde) is in
`tests/test_series.py`.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.core import checks, probe
from autograder.assignments.depth import reference as ref
from conftest import load_student_module
from series import DEPTH

ASSIGNMENT = DEPTH.name


def load_helpers():
    return load_student_module(ASSIGNMENT, DEPTH.helpers)


@pytest.mark.parametrize(
    "code, variant",
    [
        ("g = -np.mean(x * r) * p / self.w[0] * np.ones(len(self.w))", "deep_grad_wrong_weight"),
        (
            "g = np.mean(x * r) * np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])",
            "deep_grad_sign",
        ),
        (
            "g = -np.sum(x * r) * np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])",
            "deep_grad_sum_not_mean",
        ),
        ("g = -np.mean(x * r) * p * np.ones(len(self.w))", "deep_grad_no_division"),
    ],
)
def test_typical_gradient_mistakes_are_named(code: str, variant: str) -> None:
    namespace = DEPTH.namespace(DEPTH.submission("correct"))
    source = (
        "class DeepNarrowLNN(DeepNarrowLNN):\n"
        "  def dloss_dw(self, x, y_t):\n"
        "    p = np.prod(self.w)\n"
        "    r = y_t - p * x\n"
        f"    {code}\n"
        "    return g\n"
    )
    exec(source, namespace)
    request = checks.make_request("depth.dloss_dw", ASSIGNMENT, "x")
    verdict = checks.CHECKS["depth.dloss_dw"].judge(request, probe.collect(namespace, request))
    assert verdict.mistakes == [variant], verdict.message


def test_the_reference_gradient_matches_finite_differences_and_handles_zeros() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 20)
    y = 2 * x + rng.normal(0, 0.1, 20)
    for depth in (1, 2, 5, 9):
        w = rng.uniform(-1.5, 1.5, depth)
        h = 1e-6
        numeric = [
            (ref.loss(y, ref.forward(w + h * e, x)) - ref.loss(y, ref.forward(w - h * e, x))) / (2 * h)
            for e in np.eye(depth)
        ]
        assert np.allclose(ref.gradients(w, x, y), numeric, atol=1e-7)
        w[0] = 0.0
        g = ref.gradients(w, x, y)
        assert np.all(np.isfinite(g)) and np.allclose(g[1:], 0) and np.isclose(g[0], -np.mean(x * y) * np.prod(w[1:]))


# -- the sliders, headless ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helpers_and_data():
    helpers = load_helpers()
    np.random.seed(2021)
    x, y = helpers.gen_samples(100, 2.0, 0.1)
    model_class = DEPTH.namespace(DEPTH.source_notebook())["DeepNarrowLNN"]
    return helpers, model_class, x, y


def test_the_depth_slider_changes_the_number_of_weights(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    widget = helpers.depth_explorer(model_class, x, y)
    curve = widget.figure.axes[0].lines[0]
    assert widget.result["weights"].shape == (600, 1)
    shallow = curve.get_ydata().copy()
    picture = widget.children[-1].value
    widget.children[0].value = 30
    assert widget.result["weights"].shape == (600, 30)
    assert not np.allclose(curve.get_ydata(), shallow)
    assert widget.children[-1].value != picture


def test_the_learning_rate_slider_shows_faster_learning_then_overshooting(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    widget = helpers.lr_explorer(model_class, x, y)
    curve, title = widget.figure.axes[0].lines[0], widget.figure.axes[0].title
    slow = helpers.convergence_epoch(curve.get_ydata(), 600)
    widget.children[0].value = 0.02
    fast = helpers.convergence_epoch(curve.get_ydata(), 600)
    assert fast is not None and (slow is None or fast < slow)
    widget.children[0].value = 0.035
    assert helpers.convergence_epoch(curve.get_ydata(), 600) is None and "not converged" in title.get_text()


def test_the_init_slider_and_the_combined_sliders(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    widget = helpers.init_explorer(model_class, x, y)
    before = widget.result["loss"].copy()
    widget.children[0].value = 1.0
    assert widget.result["weights"].shape == (250, 15) and not np.allclose(widget.result["loss"], before)
    together = helpers.all_explorer(model_class, x, y)
    depth, lr, init = together.children[:3]
    depth.value, lr.value, init.value = 12, 0.02, 1.0
    assert together.result["weights"].shape[1] == 12 and np.isclose(together.result["weights"][0, 0], 1.0, atol=0.05)


def test_the_game_keeps_the_best_try_per_depth_and_the_grid_optimum(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    game = helpers.lr_depth_game(model_class, x, y)
    grid = game.grid
    assert np.all(np.diff(grid["epoch"]) > 0), "deeper networks take longer at their best learning rate"
    assert np.all(np.diff(grid["lr"]) < 0), "and need smaller learning rates"
    depth, lr = game.children[:2]
    depth.value, lr.value = 20, float(grid["lr"][1])
    assert game.best[20][0] == grid["epoch"][1]
    mine = game.figure.axes[1].lines[-1]
    assert 20 in list(mine.get_xdata())


def test_reference_training_stops_when_it_explodes() -> None:
    x = np.linspace(0, 1, 20)
    losses, weights = ref.train(np.full(50, 1.3), x, 2 * x, 0.01, 600)
    assert 0 < len(losses) < 600 and weights.shape == (len(losses), 50)
