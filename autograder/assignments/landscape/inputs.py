"""The checks of ``02_learning_landscape``: the inputs each one draws (seeded per student), and its judge.

Every student draws different numbers, but the same *situations*, so that a mistake is caught
whoever the student is (``tests/test_catalogue_02.py`` checks this over hundreds of student ids):

- along every axis of two weights or more, the grids span both signs; one grid holds exact zeros,
  their shapes tell a transposed result apart, and their sample counts run from 1 to 50;
- the starting points of ``ends_at_saddle`` come, for slopes of both signs and of sizes below and
  above 1, on the line into the saddle, on the other diagonal, at distances 0.0003, 0.002-0.009,
  0.01-0.09 and 0.1-0.6 from that line, off the diagonals (in the quadrants the line crosses and in
  the others), on an axis, and at the origin; for slopes of size 1, on both diagonals;
- the minima of ``max_stable_lr`` are balanced (``|w1| = |w2|``) and unbalanced either way, for
  data of both slopes, with different numbers of samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import judges as judge
from . import reference as ref
from ...core.checks import Check


def _data(rng: np.random.Generator, n: int) -> tuple[list[float], list[float]]:
    x = rng.uniform(-0.5, 1.5, n)
    y = rng.uniform(-2.5, 2.5) * x + rng.normal(0, 0.3, n)
    return x.tolist(), y.tolist()


def _axis(rng: np.random.Generator, k: int) -> np.ndarray:
    """`k` sorted weights; from two on, at least one of each sign (so every grid has both)."""
    if k == 1:
        return rng.uniform(-2.2, 2.2, 1)
    sure = [-rng.uniform(0.3, 2.2), rng.uniform(0.3, 2.2)]
    return np.sort(np.concatenate([sure, rng.uniform(-2.2, 2.2, k - 2)]))


def _grid(rng: np.random.Generator, rows: int, cols: int, zeros: bool) -> tuple[list[list[float]], list[list[float]]]:
    """A meshgrid-like grid (rows follow w2, columns w1): uneven, or even and through exact zeros."""
    if zeros:  # an odd linspace around 0 holds w = 0 exactly: a weight of zero, and the saddle itself
        w1 = np.linspace(-1, 1, cols) * rng.uniform(1.5, 2.2)
        w2 = np.linspace(-1, 1, rows) * rng.uniform(1.5, 2.2)
    else:
        w1, w2 = _axis(rng, cols), _axis(rng, rows)
    g1, g2 = np.meshgrid(w1, w2)
    return g1.tolist(), g2.tolist()


GRID_SHAPES = [(4, 7), (1, 1), (6, 3), (5, 5), (1, 9)]
"""Non-square grids show a transposed result by its shape; a 1x1 grid is "the gradient at a point"."""

GRID_SAMPLES = [10, 1, 23, 4, 50]
"""Samples per grid: one sample, where a sum equals the mean, and several, where it does not."""

ZERO_GRID = 3
"""The grid (5 x 5) that runs through w1 = 0 and w2 = 0."""


def _grid_request(function: str, returns_tuple: bool) -> Any:
    def make(rng: np.random.Generator) -> dict[str, Any]:
        cases = []
        for index, ((rows, cols), n) in enumerate(zip(GRID_SHAPES, GRID_SAMPLES)):
            w1, w2 = _grid(rng, rows, cols, zeros=index == ZERO_GRID)
            cases.append({"args": [w1, w2, *_data(rng, n)]})
        request: dict[str, Any] = {"function": function, "cases": cases}
        if returns_tuple:
            request["returns"] = "tuple"
        return request

    return make


SADDLE_OFFSETS = [(0.0003, 0.0003), (0.002, 0.009), (0.01, 0.09), (0.1, 0.6)]
"""Distances from the line into the saddle of the near misses (ranges).

The smallest is the same for everyone, and away from the tolerances students write (1e-3, 5e-4,
1e-4): a tolerance is caught for every student or for none, never for some only.
"""


def _r(value: float) -> float:
    """Three decimals: inputs a student can read, and the line w1 = ±w2 held exactly."""
    return float(np.round(value, 3))


def _slopes(rng: np.random.Generator) -> list[float]:
    """Two slopes of each sign, one below 1 and one above it in size (a slope of size 1 hides its value)."""
    small, large = rng.uniform(0.4, 0.9), rng.uniform(1.3, 3.0)
    negative = (-small * rng.uniform(0.9, 1.1), -large * rng.uniform(0.9, 1.1))
    return [float(np.round(v, 2)) for v in (small, large, *negative)]


def _saddle_request(rng: np.random.Generator) -> dict[str, Any]:
    """Starting points on, near and off the line that flows into the saddle, for slopes of both signs."""
    cases: list[list[float]] = []
    for a in _slopes(rng):
        s = float(np.sign(a))

        def weight() -> float:
            return float(rng.uniform(0.3, 1.9) * rng.choice([-1, 1]))

        on = _r(weight())
        cases.append([on, -s * on, a])  # flows into the saddle
        other = _r(weight())
        cases.append([other, s * other, a])  # the other diagonal: ends at a minimum
        for low, high in SADDLE_OFFSETS:  # near the line, not on it (four decimals: the offset 0.0003 is exact)
            w1 = _r(rng.uniform(0.5, 1.9) * rng.choice([-1, 1]))  # sizes >= 0.5: a relative tolerance of 1e-3 shows
            off = float(rng.uniform(low, high) * rng.choice([-1, 1]))
            cases.append([w1, float(np.round(-s * w1 + off, 4)), a])
        for side in (-s, s):  # off the diagonals, in the line's quadrants and in the valley's
            big, small = _r(rng.uniform(1.0, 1.9)), _r(rng.uniform(0.1, 0.7))
            sign = float(rng.choice([-1, 1]))
            first, second = (big, small) if rng.random() < 0.5 else (small, big)
            cases.append([sign * first, side * sign * second, a])
        cases.append([0.0, _r(weight()), a] if rng.random() < 0.5 else [_r(weight()), 0.0, a])  # a zero weight
    for a in (1.0, -1.0):  # slopes of size 1: an answer that uses the slope's value is right here only
        on, other = _r(rng.uniform(0.3, 1.9) * rng.choice([-1, 1])), _r(rng.uniform(0.3, 1.9) * rng.choice([-1, 1]))
        cases += [[on, -a * on, a], [other, a * other, a]]
    a_pos, a_neg = cases[0][2], cases[-5][2]
    cases += [[0.0, 0.0, a_pos], [0.0, 0.0, a_neg]]  # the saddle itself
    order = rng.permutation(len(cases))
    return {"function": "ends_at_saddle", "cases": [{"args": cases[i]} for i in order]}


MAX_LR_CASES = [(12, 1, "balanced"), (40, -1, "w1"), (7, 1, "w2"), (25, -1, "balanced"), (3, 1, "w1")]
"""Samples, sign of the data's slope, and which weight is the larger at the minimum ("balanced": |w1| = |w2|)."""


def _max_lr_request(rng: np.random.Generator) -> dict[str, Any]:
    """Minima on the valley, balanced and unbalanced, for data of both slopes."""
    cases = []
    for n, sign, larger in MAX_LR_CASES:
        while True:  # a few samples with noise can tilt the slope the other way: draw again (rarely)
            x = rng.uniform(-0.5, 1.5, n)
            y = sign * rng.uniform(0.5, 2.5) * x + rng.normal(0, 0.2, n)
            slope = ref.best_slope(x, y)
            if sign * slope > 0.2:
                break
        root = np.sqrt(abs(slope))
        size = {"balanced": root, "w1": root * rng.uniform(1.4, 2.5), "w2": root / rng.uniform(1.4, 2.5)}[larger]
        w1 = float(size * rng.choice([-1, 1]))
        cases.append({"args": [w1, slope / w1, x.tolist(), y.tolist()]})
    return {"function": "max_stable_lr", "cases": cases}


CHECKS = [
    Check("landscape.loss_grid", _grid_request("loss_grid", False), judge.judge_loss_grid),
    Check("landscape.gradient", _grid_request("loss_gradient", True), judge.judge_gradient),
    Check("landscape.saddle", _saddle_request, judge.judge_saddle),
    Check("landscape.max_lr", _max_lr_request, judge.judge_max_lr),
]
