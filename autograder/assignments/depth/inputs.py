"""The checks of ``03_depth_and_init``: the inputs each one draws (seeded per student), and its judge."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import judges as judge
from ...core.checks import Check

MODEL = {"class": "DeepNarrowLNN", "state": ["w"]}
"""What every check probes: the student's class, and its weights afterwards."""

DEPTHS = [1, 2, 3, 5, 8, 12, 20]


def _weights(rng: np.random.Generator, depth: int) -> list[float]:
    """Distinct magnitudes of both signs, so that leaving out the wrong weight shows."""
    magnitudes = rng.permutation(np.linspace(0.6, 1.5, depth)) * rng.uniform(0.97, 1.03, depth)
    signs = rng.choice([-1.0, 1.0], depth)
    if depth > 1:
        signs[rng.integers(depth)] = -1.0  # at least one negative weight
    return (magnitudes * signs).round(4).tolist()


def _xy(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-0.5, 1.5, n)
    return x, rng.uniform(-2.5, 2.5) * x + rng.normal(0, 0.3, n)


def _forward_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = [{"init": _weights(rng, d), "args": [rng.normal(0.4, 1.0, n).tolist()]}
             for d, n in zip(DEPTHS, [3, 1, 8, 25, 5, 64, 10])]
    return {**MODEL, "method": "forward", "cases": cases}


def _loss_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for n in [1, 4, 17, 60]:
        x, y = _xy(rng, n)
        y_p = y + rng.normal(0, 0.8, n)
        cases.append({"init": _weights(rng, 3), "args": [y_p.tolist(), y.tolist()]})  # loss(y_p, y_t), as in 01
    return {**MODEL, "method": "loss", "cases": cases}


def _gradient_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for d, n in zip(DEPTHS, [4, 10, 1, 33, 7, 50, 12]):
        x, y = _xy(rng, n)
        cases.append({"init": _weights(rng, d), "args": [x.tolist(), y.tolist()]})
    return {**MODEL, "method": "dloss_dw", "cases": cases}


def _zero_weight_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for d, zeros in [(1, 1), (3, 1), (6, 1), (5, 2), (10, 1)]:
        w = np.array(_weights(rng, d))
        w[rng.choice(d, zeros, replace=False)] = 0.0
        x, y = _xy(rng, 15)
        cases.append({"init": w.tolist(), "args": [x.tolist(), y.tolist()]})
    return {**MODEL, "method": "dloss_dw", "cases": cases}


def _train_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for d, lr in [(3, 0.05), (10, 0.01)]:
        x = rng.uniform(0, 1, 40)
        y = rng.uniform(1.5, 2.5) * x + rng.normal(0, 0.1, 40)
        init = np.full(d, 0.9) * rng.uniform(0.95, 1.05, d)
        cases.append({"init": init.round(4).tolist(), "args": [x.tolist(), y.tolist(), lr, 80]})
    return {**MODEL, "method": "train", "returns": "tuple", "cases": cases}


CHECKS = [
    Check("depth.forward", _forward_request, judge.judge_forward),
    Check("depth.loss", _loss_request, judge.judge_loss),
    Check("depth.dloss_dw", _gradient_request, judge.judge_dloss_dw),
    Check("depth.zero_weight", _zero_weight_request, judge.judge_zero_weight),
    Check("depth.training_curve", _train_request, judge.judge_train),
]
