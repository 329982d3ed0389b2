"""The checks of ``01_shallow_narrow``: the inputs each one draws (seeded per student), and its judge.

Fair inputs: every student's cases follow the same plan (the sign pattern of the weights, the number of
samples); the student id only draws the numbers, kept away from where a mistake would not show (two weights
of the same size, an input of 0, data the model already fits).  ``tests/test_diagnosis.py`` sweeps 300
student ids through the catalogue of right and wrong implementations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...models import shallow as reference
from . import judges as judge
from ...core.checks import Check
from ...core.variants import Variant


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


FORWARD_SAMPLES = [1, 3, 8, 25, 64, 5]
"""The number of inputs of each forward case (with the sign pattern of :data:`SIGNS` at the same place)."""

GRADIENT_SAMPLES = [1, 4, 10, 33, 73, 7]
"""The number of samples of each gradient case."""


def _inputs(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Inputs between `low` and `high`: of both signs and not all near 0; a single one kept away from 0.

    Fair inputs: on an input of 0 every output and gradient vanishes, and a mistake there would not show;
    with inputs of both signs, every student can be told whether only the negative ones are off.
    """
    if n == 1:
        return rng.uniform(0.3, 1.5, 1)
    x = rng.uniform(low, high, n)
    x[0], x[1] = -rng.uniform(0.1, 0.5), rng.uniform(0.8, 1.5)
    return rng.permutation(x)


def _forward_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs, n in zip(SIGNS, FORWARD_SAMPLES):
        cases.append({"init": _weights(rng, signs), "args": [_inputs(rng, n, -1.6, 2.4).tolist()]})
    return {**MODEL, "method": "forward", "cases": cases}


def _gradient_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs, n in zip(SIGNS, GRADIENT_SAMPLES):
        w = _weights(rng, signs)
        x = _inputs(rng, n, -0.5, 1.5)
        # The data's slope differs from the model's by 0.8 to 2.5 either way: the residual, and with it
        # every gradient, is never close to 0, so a wrong sign or factor shows for every student.
        slope = w[0] * w[1] + rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 2.5)
        y = slope * x + (rng.normal(0, 0.3, n) if n > 1 else 0.0)
        cases.append({"init": w, "args": [x.tolist(), y.tolist()]})
    return {**MODEL, "method": "dloss_dw", "returns": "tuple", "cases": cases}


def _train_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs in [(1, -1), (-1, -1)]:
        x = rng.uniform(0, 1, 30)
        y = rng.uniform(1, 3) * x + rng.normal(0, 0.2, 30)
        lr = float(np.round(rng.uniform(0.01, 0.05), 3))
        cases.append({"init": _weights(rng, signs), "args": [x.tolist(), y.tolist(), lr, 60]})
    return {**MODEL, "method": "train", "returns": "tuple", "cases": cases}


VARIANT = Variant(
    default={
        "a": reference.SEED_RUN["a"],
        "sigma": reference.SEED_RUN["sigma"],
        "w1": reference.SEED_RUN["init"][0],
        "w2": reference.SEED_RUN["init"][1],
        "lr": reference.SEED_RUN["lr"],
        "seed": reference.SEED,
    },
    # Inside these ranges every run tells the section's story (tests/test_variants.py sweeps them): the
    # product starts with the wrong sign, w1 (the smaller weight) crosses zero on a plateau, and the run
    # ends at the data's best fit within the same 211 epochs.
    ranges={"a": (1.6, 2.4, 2), "sigma": (0.15, 0.25, 2), "w1": (1.2, 1.5, 2), "w2": (-1.9, -1.6, 2),
            "lr": (0.016, 0.024, 3)},
)  # fmt: skip
"""Each student's own seed run, where the course turns variants on (the worked solution's values elsewhere)."""


def _seed_run_request(rng: np.random.Generator, values: dict[str, Any]) -> dict[str, Any]:
    """The training cell's run on the student's values; and the notebook's own run, to compare with it."""
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], values["a"], values["sigma"], seed=values["seed"])
    case = {"init": [values["w1"], values["w2"]], "args": [x.tolist(), y.tolist(), values["lr"], run["n_ep"]]}
    return {**MODEL, "method": "train", "returns": "tuple", "cases": [case],
            "own_run": case, "globals": ["weight_log"], "values": values}  # fmt: skip


CHECKS = [
    Check("shallow_narrow.forward", _forward_request, judge.judge_forward),
    Check("shallow_narrow.dloss_dw", _gradient_request, judge.judge_dloss_dw),
    Check("shallow_narrow.training_curve", _train_request, judge.judge_train),
    Check("shallow_narrow.seed_run", _seed_run_request, judge.judge_final_weights, varies=True),
]
