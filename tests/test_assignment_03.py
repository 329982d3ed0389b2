"""03_depth_and_init: its inputs (the same situations for every student), its reference math, its sliders.

What every assignment of the series is tested for (the examples, a real autograde) is in
`tests/test_series.py`; the catalogue of right and wrong implementations and their diagnoses in
`tests/test_catalogue_03.py`.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.assignments.depth import inputs
from autograder.assignments.depth import reference as ref
from autograder.core import checks
from conftest import load_student_module
from series import DEPTH

ASSIGNMENT = DEPTH.name


def load_helpers():
    return load_student_module(ASSIGNMENT, DEPTH.helpers)


# -- fair inputs: every student's cases follow the same plan ---------------------------------------

STUDENT_IDS = [f"student-{i:03d}" for i in range(300)]


def _requests(check: str) -> list[dict]:
    return [checks.make_request(check, ASSIGNMENT, student) for student in STUDENT_IDS]


def _zero_places(situation: inputs.Situation, w: np.ndarray) -> bool:
    """The zero weights sit where the plan says."""
    zeros = np.flatnonzero(w == 0).tolist()
    places = {"": [], "all": [0], "first": [0], "last": [w.size - 1]}
    if situation.zeros == "middle":
        return len(zeros) == 1 and 0 < zeros[0] < w.size - 1
    if situation.zeros == "two":
        return len(zeros) == 2
    return zeros == places[situation.zeros]


def _assert_fair_inputs(x: np.ndarray) -> None:
    if x.size == 1:
        assert x[0] >= 0.3, "a single input is kept away from 0"
    else:
        assert x.min() < 0 and x.max() >= 0.8, "inputs of both signs, not all near 0"


@pytest.mark.parametrize(
    "check, plan",
    [
        ("depth.forward", inputs.FORWARD_PLAN),
        ("depth.dloss_dw", inputs.GRADIENT_PLAN),
        ("depth.zero_weight", inputs.ZERO_PLAN),
    ],
)
def test_every_student_s_cases_follow_the_plan(check: str, plan: list) -> None:
    for request in _requests(check):
        assert len(request["cases"]) == len(plan)
        for case, situation in zip(request["cases"], plan):
            w, x = np.array(case["init"]), np.array(case["args"][0])
            assert w.size == situation.depth and x.size == situation.n, case
            assert check == "depth.forward" or x.size != w.size, "per-sample gradients cannot pass as D of them"
            assert _zero_places(situation, w) and np.sum(w < 0) == situation.negatives, case
            sizes = np.sort(np.abs(w[w != 0]))
            assert np.all((sizes >= 0.59) & (sizes <= 1.52)), "sizes between 0.6 and 1.5"
            assert np.all(np.abs(sizes - 1) >= 0.019), "no weight of size (nearly) 1: it would hide a left-out weight"
            assert np.all(np.diff(sizes) >= 0.01), "no two weights of the same size: swapping them would not show"
            _assert_fair_inputs(x)
            if len(case["args"]) > 1:  # a gradient case: the data is not already fitted
                y = np.array(case["args"][1])
                assert abs(np.mean(x * (y - np.prod(w) * x))) >= 0.05, "the gradient is never close to 0"


def test_every_student_s_loss_and_training_cases_follow_the_plan() -> None:
    for request in _requests("depth.loss"):
        assert [len(c["args"][0]) for c in request["cases"]] == inputs.LOSS_SAMPLES
        (single,) = [c for c in request["cases"] if len(c["args"][0]) == 1]
        residual = abs(single["args"][0][0] - single["args"][1][0])
        assert 0.3 <= residual <= 0.8, "one residual: away from 0 and from 1, where |r| and r² agree"
    for request in _requests("depth.training_curve"):
        plan = [(len(c["init"]), c["args"][2], c["args"][3]) for c in request["cases"]]
        assert plan == [(d, lr, 80) for d, lr in inputs.TRAIN_PLAN]
        assert all(0.855 <= w <= 0.945 for c in request["cases"] for w in c["init"]), "a nearly symmetric start"


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
