"""The checks of ``01_shallow_narrow``: the inputs each one draws (seeded per student), and its judge."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...models import shallow as reference
from . import judges as judge
from ...core.checks import Check


def _weights(rng: np.random.Generator, signs: tuple[int, int]) -> list[float]:
    # Magnitudes kept apart from each other so that swapping w1 and w2 shows.
    a, b = rng.uniform(0.3, 1.2), rng.uniform(1.4, 2.5)
    if rng.random() < 0.5:
        a, b = b, a
    return [float(signs[0] * a), float(signs[1] * b)]


MODEL = {"class": "ShallowNarrowExercise", "state": ["w1", "w2"]}
"""What every check of the first assignment probes: the student's class, and its weights afterwards."""

SIGNS = [(1, 1), (-1, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)]
"""Sign patterns of the test weights: every combination, negative ones included."""


def _forward_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs, n in zip(SIGNS, [1, 3, 8, 25, 64, 5]):
        cases.append({"init": _weights(rng, signs), "args": [rng.normal(0.4, 1.0, n).tolist()]})
    return {**MODEL, "method": "forward", "cases": cases}


def _gradient_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs, n in zip(SIGNS, [1, 4, 10, 33, 73, 7]):
        x = rng.uniform(-0.5, 1.5, n)
        y = rng.uniform(-3, 3) * x + rng.normal(0, 0.3, n)
        cases.append({"init": _weights(rng, signs), "args": [x.tolist(), y.tolist()]})
    return {**MODEL, "method": "dloss_dw", "returns": "tuple", "cases": cases}


def _train_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs in [(1, -1), (-1, -1)]:
        x = rng.uniform(0, 1, 30)
        y = rng.uniform(1, 3) * x + rng.normal(0, 0.2, 30)
        lr = float(np.round(rng.uniform(0.01, 0.05), 3))
        cases.append({"init": _weights(rng, signs), "args": [x.tolist(), y.tolist(), lr, 60]})
    return {**MODEL, "method": "train", "returns": "tuple", "cases": cases}


def _seed_run_request(rng: np.random.Generator) -> dict[str, Any]:
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], run["a"], run["sigma"])
    case = {"init": list(run["init"]), "args": [x.tolist(), y.tolist(), run["lr"], run["n_ep"]]}
    return {**MODEL, "method": "train", "returns": "tuple", "cases": [case]}


CHECKS = [
    Check("shallow_narrow.forward", _forward_request, judge.judge_forward),
    Check("shallow_narrow.dloss_dw", _gradient_request, judge.judge_dloss_dw),
    Check("shallow_narrow.training_curve", _train_request, judge.judge_train),
    Check("shallow_narrow.seed_run", _seed_run_request, judge.judge_final_weights),
]


