"""02_learning_landscape: a mistake only it has, its reference math, its sliders.

What every assignment of the series is tested for (the examples, a real autograde) is in
`tests/test_series.py`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.core import checks, probe
from autograder.assignments.landscape import reference as ref
from conftest import load_student_module
from series import LANDSCAPE

ASSIGNMENT = LANDSCAPE.name


def load_helpers():
    return load_student_module(ASSIGNMENT, LANDSCAPE.helpers)


def test_a_transposed_grid_is_named() -> None:
    namespace = {"loss_grid": lambda w1, w2, x, y: ref.loss_grid(w1, w2, x, y).T}
    request = checks.make_request("landscape.loss_grid", ASSIGNMENT, "x")
    verdict = checks.CHECKS["landscape.loss_grid"].judge(request, probe.collect(namespace, request))
    assert verdict.mistakes == ["grid_transposed"]


# -- the reference math agrees with training runs ---------------------------------------------------


def test_max_stable_lr_is_where_training_stops_converging() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.uniform(0, 1.5, 20)
        y = rng.uniform(-2, 2) * x + rng.normal(0, 0.2, 20)
        w1 = rng.uniform(0.3, 2) * rng.choice([-1, 1])
        w2 = ref.best_slope(x, y) / w1
        lr = ref.max_stable_lr(w1, w2, x, y)
        assert np.isclose(lr, 1 / (np.mean(x * x) * (w1**2 + w2**2)))
        assert ref.converges_near(w1, w2, x, y, 0.97 * lr) and not ref.converges_near(w1, w2, x, y, 1.03 * lr)


def test_the_points_that_end_at_the_saddle_are_the_ones_training_takes_there() -> None:
    x = np.linspace(0, 1, 10)
    for a in (1.0, -2.0):
        for start in [(0.5, -0.5), (1.0, -1.0), (0.55, -0.45), (-1.8, 1.7), (1.3, 1.3), (-0.7, -0.7)]:
            end = ref.train_path(start, x, a * x, 0.05, 1500)[-1]
            assert ref.ends_at_saddle(*start, a) == bool(np.hypot(*end) < 1e-6), (a, start, end)


@settings(max_examples=25)
@given(
    w=st.tuples(st.floats(-2, 2), st.floats(-2, 2)),
    slope=st.floats(-2.5, 2.5),
    lr=st.floats(0.01, 0.3),
)
def test_descend_end_is_where_train_path_ends(w: tuple[float, float], slope: float, lr: float) -> None:
    x = np.linspace(-0.5, 1.5, 7)
    y = slope * x + np.sin(7 * x) / 5
    end = ref.descend_end(*w, float(np.mean(x * x)), float(np.mean(x * y)), lr, 200)
    assert np.allclose(end, ref.train_path(w, x, y, lr, 200)[-1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("student", ["alice", "zoë 42", "student-183"])
def test_every_start_the_saddle_check_draws_ends_where_the_reference_says(student: str) -> None:
    # The near misses (0.0003 off the line) included: training escapes the saddle, only more slowly.
    request = checks.make_request("landscape.saddle", ASSIGNMENT, student)
    x = np.linspace(0, 1, 10)
    s = float(np.mean(x * x))
    for case in request["cases"]:
        w1, w2, a = case["args"]
        end = ref.descend_end(w1, w2, s, a * s, 0.05, 6000)
        if ref.ends_at_saddle(w1, w2, a):
            assert np.hypot(*end) < 1e-6, (case, end)
        else:
            assert abs(end[0] * end[1] - a) < 1e-6, (case, end)  # on the valley of minima w1·w2 = a


# -- the sliders, headless ---------------------------------------------------------------------------


@pytest.fixture()  # a fresh explorer per test: each test moves its sliders
def explorer():
    helpers = load_helpers()
    x, y = helpers.gen_samples(10, 1.0, 0.0)
    return helpers.landscape_explorer(ref.loss_grid, ref.gradient_grid, x, y)


def _lines(fig):
    ax_map, ax_loss = fig.axes[:2]  # the landscape and the loss curve (the colour bar comes last)
    path, start, end = ax_map.lines[-3:]
    return path, start, end, ax_loss.lines[0]


def test_moving_the_initial_weights_moves_the_trajectory(explorer) -> None:
    lr, w1, w2 = explorer.children[:3]
    path, start, end, _ = _lines(explorer.figure)
    picture = explorer.children[-1].value
    w1.value, w2.value = 0.5, -0.5
    assert np.allclose(start.get_xydata(), [[0.5, -0.5]])
    assert np.hypot(*end.get_xydata()[0]) < 0.05, "from (0.5, -0.5) the run ends at the saddle"
    w2.value = -0.45
    assert np.allclose(path.get_xydata()[0], [0.5, -0.45])
    assert abs(np.prod(end.get_xydata()[0]) - 1) < 0.05, "from (0.5, -0.45) the run ends on the hyperbola"
    assert explorer.children[-1].value != picture, "the picture is redrawn"


def test_the_learning_rate_changes_the_loss_curve(explorer) -> None:
    _, _, _, curve = _lines(explorer.figure)
    explorer.children[1].value, explorer.children[2].value = -1.8, 1.7
    explorer.children[0].value = 0.02
    slow = curve.get_ydata().copy()
    explorer.children[0].value = 0.3
    fast = curve.get_ydata().copy()
    assert len(slow) == len(fast) == 61
    assert fast[-1] < slow[-1]
    assert np.allclose(explorer.result["loss"], fast)
