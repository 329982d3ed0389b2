"""The checks of ``02_learning_landscape``: the inputs each one draws (seeded per student), and its judge."""

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


def _grid(rng: np.random.Generator, rows: int, cols: int) -> tuple[list[list[float]], list[list[float]]]:
    """A meshgrid-like grid (rows follow w2, columns w1), uneven and spanning both signs."""
    w1 = np.sort(rng.uniform(-2.2, 2.2, cols))
    w2 = np.sort(rng.uniform(-2.2, 2.2, rows))
    g1, g2 = np.meshgrid(w1, w2)
    return g1.tolist(), g2.tolist()


# Non-square grids show a transposed result by its shape; a 1x1 grid is "the gradient at a point".
GRID_SHAPES = [(4, 7), (1, 1), (6, 3), (5, 5), (1, 9)]


def _grid_request(function: str, returns_tuple: bool) -> Any:
    def make(rng: np.random.Generator) -> dict[str, Any]:
        cases = []
        for (rows, cols), n in zip(GRID_SHAPES, [10, 1, 23, 4, 50]):
            w1, w2 = _grid(rng, rows, cols)
            cases.append({"args": [w1, w2, *_data(rng, n)]})
        request: dict[str, Any] = {"function": function, "cases": cases}
        if returns_tuple:
            request["returns"] = "tuple"
        return request

    return make


def _saddle_request(rng: np.random.Generator) -> dict[str, Any]:
    """Points on the line that flows into the saddle, off it, on the other diagonal, and the origin."""
    cases = []
    for a in (1.0, 2.0, -1.5, 0.7):
        s = float(np.sign(a))
        on = float(np.round(rng.uniform(0.1, 1.9) * rng.choice([-1, 1]), 3))
        cases.append([on, -s * on, a])  # flows into the saddle
        cases.append([on, s * on, a])  # the other diagonal: goes to a minimum
        off = float(np.round(rng.uniform(0.05, 0.4) * rng.choice([-1, 1]), 3))
        cases.append([on, float(np.round(-s * on + off, 3)), a])  # near the line, not on it
        w1, w2 = (float(np.round(v, 3)) for v in rng.uniform(-1.9, 1.9, 2))
        if abs(w1 + s * w2) > 0.05:
            cases.append([w1, w2, a])
    cases.append([0.0, 0.0, 1.0])
    order = rng.permutation(len(cases))
    return {"function": "ends_at_saddle", "cases": [{"args": cases[i]} for i in order]}


def _max_lr_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for n, sign in zip([12, 40, 7, 25], [1, -1, 1, -1]):
        x = rng.uniform(0, 1.5, n)
        y = sign * rng.uniform(0.5, 2.5) * x + rng.normal(0, 0.2, n)
        slope = ref.best_slope(x, y)
        w1 = float(rng.uniform(0.4, 2.0) * rng.choice([-1, 1]))
        cases.append({"args": [w1, slope / w1, x.tolist(), y.tolist()]})
    return {"function": "max_stable_lr", "cases": cases}


CHECKS = [
    Check("landscape.loss_grid", _grid_request("loss_grid", False), judge.judge_loss_grid),
    Check("landscape.gradient", _grid_request("loss_gradient", True), judge.judge_gradient),
    Check("landscape.saddle", _saddle_request, judge.judge_saddle),
    Check("landscape.max_lr", _max_lr_request, judge.judge_max_lr),
]
