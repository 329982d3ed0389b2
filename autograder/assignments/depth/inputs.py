"""The checks of ``03_depth_and_init``: the inputs each one draws (seeded per student), and its judge.

Fair inputs: every student's request is built from the same *plan*, a fixed list of situations (the depth,
the number of samples, how many weights are negative, where the zero weights sit).  The student id only
draws the numbers that fill a situation in (the magnitudes, which weights carry the signs, x and y), and
those are kept away from the values where a mistake would not show (a weight of size 1, two weights of the
same size, a prediction that already fits the data).  So a mistake that one student's inputs reveal, every
student's inputs reveal, and the feedback names it in the same words (``tests/test_catalogue_03.py`` sweeps
300 student ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import judges as judge
from ...core.checks import Check
from ...core.variants import Variant
from ...models.shallow import SEED, gen_samples  # the course's data, as the notebook's gen_samples draws them

MODEL = {"class": "DeepNarrowLNN", "state": ["w"]}
"""What every check probes: the student's class, and its weights afterwards."""


@dataclass(frozen=True)
class Situation:
    """One test case of a plan: what every student's inputs have in common there.

    Attributes
    ----------
    depth : int
        The number of weights.
    n : int
        The number of samples (in a gradient case never equal to `depth`, so that per-sample arrays cannot
        pass as the D gradients).
    negatives : int
        How many of the non-zero weights are negative (their positions are drawn).
    zeros : str
        Where the zero weights sit: ``""`` (none), ``"first"``, ``"last"``, ``"middle"`` (one, neither first
        nor last), ``"two"`` (two, drawn) or ``"all"`` (depth 1: the only weight).
    """

    depth: int
    n: int
    negatives: int
    zeros: str = ""


FORWARD_PLAN = [
    Situation(1, 3, 1),  # depth 1, a negative weight
    Situation(1, 1, 0),  # depth 1, positive, one sample
    Situation(2, 6, 1),
    Situation(3, 8, 0),  # every weight positive
    Situation(5, 25, 2),
    Situation(8, 5, 3),
    Situation(12, 64, 4),
    Situation(20, 10, 7),
]
"""The forward pass: depth 1 to 20, products of both signs, one sample and many."""

LOSS_SAMPLES = [1, 4, 17, 60]
"""The loss: one sample (where a mean and a sum agree) and several."""

GRADIENT_PLAN = [
    Situation(1, 4, 0),  # depth 1: the product of the others is empty
    Situation(2, 10, 1),
    Situation(3, 1, 2),  # one sample
    Situation(5, 33, 0),  # every weight positive (so the depth and the signs are told apart)
    Situation(8, 7, 4),
    Situation(12, 50, 5),
    Situation(20, 12, 3),
]
"""The gradient without zero weights: depth 1 to 20, weights of both signs, one sample and many."""

ZERO_PLAN = [
    Situation(1, 15, 0, "all"),
    Situation(3, 15, 1, "first"),
    Situation(6, 15, 2, "last"),
    Situation(5, 9, 1, "two"),
    Situation(10, 20, 3, "middle"),
]
"""The gradient where weights are exactly 0: at the first, the last and a middle place, two at once, depth 1."""

TRAIN_PLAN = [(3, 0.05), (10, 0.01)]
"""Training runs: (depth, learning rate), 80 epochs, every weight starting near 0.9 (a nearly symmetric start)."""


SIZES = ((0.6, 0.97), (1.03, 1.5))
"""Where the weights' sizes lie: between 0.6 and 1.5, but not within 3 % of 1 (a weight of size 1 hides a
weight left out of a product)."""


def _sizes(rng: np.random.Generator, depth: int) -> np.ndarray:
    """`depth` distinct sizes, evenly spread over :data:`SIZES` and jittered by 1 %, in a drawn order.

    Evenly spread, any two differ by at least 1 % (leaving out or swapping the wrong weight always shows),
    and the product of all of them stays near 1 at every depth (no gradient vanishes or explodes by chance).
    """
    (a, b), (c, d) = SIZES
    length = (b - a) + (d - c)
    s = np.linspace(0, length, depth) if depth > 1 else rng.uniform(0, length, 1)
    sizes = np.where(s <= b - a, a + s, c + s - (b - a))
    return rng.permutation(sizes) * rng.uniform(0.99, 1.01, depth)


def _weights(rng: np.random.Generator, situation: Situation) -> list[float]:
    """The weights of one situation: distinct sizes (:func:`_sizes`), the planned signs and zeros."""
    depth, zeros = situation.depth, situation.zeros
    w = _sizes(rng, depth)
    if zeros == "middle":
        where_zero = [int(rng.integers(1, depth - 1))]
    elif zeros == "two":
        where_zero = sorted(rng.choice(depth, 2, replace=False).tolist())
    else:
        where_zero = {"": [], "all": [0], "first": [0], "last": [depth - 1]}[zeros]
    rest = [k for k in range(depth) if k not in where_zero]
    negative = rng.choice(rest, situation.negatives, replace=False).tolist() if situation.negatives else []
    w[negative] *= -1.0
    w[where_zero] = 0.0
    return w.round(4).tolist()


def _inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Inputs of both signs, not all near 0; a single input is kept away from 0 (where every gradient vanishes)."""
    if n == 1:
        return rng.uniform(0.3, 1.5, 1)
    x = rng.uniform(-0.5, 1.5, n)
    x[0], x[1] = -rng.uniform(0.1, 0.5), rng.uniform(0.8, 1.5)  # a negative input, and one far from 0
    return rng.permutation(x)


def _targets(rng: np.random.Generator, w: list[float], x: np.ndarray) -> np.ndarray:
    """Targets on a line whose slope differs from the network's by 0.8 to 2.5 (either way), plus a little noise.

    So the residual, and with it every gradient, is never close to 0: a wrong sign or factor always shows.
    """
    product = float(np.prod(w))
    slope = product + rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 2.5)
    noise = rng.normal(0, 0.1, x.size) if x.size > 1 else 0.0
    return slope * x + noise


def _forward_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = [{"init": _weights(rng, s), "args": [_inputs(rng, s.n).tolist()]} for s in FORWARD_PLAN]
    return {**MODEL, "method": "forward", "cases": cases}


def _loss_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for n in LOSS_SAMPLES:
        y = rng.uniform(-2.5, 2.5) * _inputs(rng, n)
        residual = rng.normal(0, 0.8, n)
        if n == 1:  # one residual: kept away from 0 and from ±1 (where |r| and r² agree)
            residual = rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.8, 1)
        init = _weights(rng, Situation(3, n, 1))
        cases.append({"init": init, "args": [(y + residual).tolist(), y.tolist()]})  # loss(y_p, y_t), as in 01
    return {**MODEL, "method": "loss", "cases": cases}


def _gradient_cases(rng: np.random.Generator, plan: list[Situation]) -> list[dict[str, Any]]:
    cases = []
    for situation in plan:
        w = _weights(rng, situation)
        x = _inputs(rng, situation.n)
        cases.append({"init": w, "args": [x.tolist(), _targets(rng, w, x).tolist()]})
    return cases


def _gradient_request(rng: np.random.Generator) -> dict[str, Any]:
    return {**MODEL, "method": "dloss_dw", "cases": _gradient_cases(rng, GRADIENT_PLAN)}


def _zero_weight_request(rng: np.random.Generator) -> dict[str, Any]:
    return {**MODEL, "method": "dloss_dw", "cases": _gradient_cases(rng, ZERO_PLAN)}


NOTEBOOK_RUN = {"n": 100, "depth": 10, "init": 0.9, "lr": 0.01, "n_ep": 600}
"""The training cell's depth-10 run (section 3): its data come from the student's values."""

VARIANT = Variant(
    default={"a": 2.0, "sigma": 0.1, "seed": SEED},
    # Inside these ranges every student's runs tell the section's story (tests/test_variants.py sweeps
    # them): depth 10 reaches the threshold within 100 epochs, depth 1 takes at least 4.5 times as long.
    ranges={"a": (1.7, 2.1, 2), "sigma": (0.05, 0.1, 3)},
)
"""Each student's own training data, where the course turns variants on (Neuromatch's elsewhere)."""


def _train_request(rng: np.random.Generator, values: dict[str, Any]) -> dict[str, Any]:
    """Training runs on drawn data; and the notebook's own depth-10 run, on the student's data, to compare with."""
    cases = []
    for d, lr in TRAIN_PLAN:
        x = rng.uniform(0, 1, 40)
        y = rng.uniform(1.5, 2.5) * x + rng.normal(0, 0.1, 40)
        init = np.full(d, 0.9) * rng.uniform(0.95, 1.05, d)
        cases.append({"init": init.round(4).tolist(), "args": [x.tolist(), y.tolist(), lr, 80]})
    run = NOTEBOOK_RUN
    x, y = gen_samples(run["n"], values["a"], values["sigma"], seed=values["seed"])
    own = {"init": [run["init"]] * run["depth"], "args": [x.tolist(), y.tolist(), run["lr"], run["n_ep"]]}
    return {**MODEL, "method": "train", "returns": "tuple", "cases": cases,
            "own_run": own, "globals": ["weight_log"], "values": values}  # fmt: skip


CHECKS = [
    Check("depth.forward", _forward_request, judge.judge_forward),
    Check("depth.loss", _loss_request, judge.judge_loss),
    Check("depth.dloss_dw", _gradient_request, judge.judge_dloss_dw),
    Check("depth.zero_weight", _zero_weight_request, judge.judge_zero_weight),
    Check("depth.training_curve", _train_request, judge.judge_train, varies=True),
]
