"""The graded checks of each assignment: which inputs, which probe, which judge.

A test cell in an instructor notebook names its check in the hidden-tests part::

    ### BEGIN HIDDEN TESTS
    run_check("shallow_narrow.forward", globals())
    ### END HIDDEN TESTS

The secure grader reads that name, builds the request (inputs seeded by
assignment, student and check, so a regrade sees the same inputs), sends the
probe to the kernel and passes the payload to the judge.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import judge, reference
from .judge import Verdict

CHECK_CALL = re.compile(r"""run_check\(\s*["']([\w.]+)["']""")
"""How a test cell names its check (matched on the cell source restored from the gradebook)."""


@dataclass(frozen=True)
class Check:
    """One graded test.

    Attributes
    ----------
    name : str
        ``"<assignment topic>.<test>"``, as written in the test cell.
    make_request : callable
        ``rng -> request``: the inputs, drawn from the grader's generator.
    judge : callable
        ``(request, payload) -> Verdict``.
    """

    name: str
    make_request: Callable[[np.random.Generator], dict[str, Any]]
    judge: Callable[[dict[str, Any], dict[str, Any] | None], Verdict]


def seed_for(assignment: str, student: str, check: str) -> int:
    """A seed that is the same for every regrade of one student's check."""
    digest = hashlib.sha256(f"{assignment}\0{student}\0{check}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _weights(rng: np.random.Generator, signs: tuple[int, int]) -> list[float]:
    # Magnitudes kept apart from each other so that swapping w1 and w2 shows.
    a, b = rng.uniform(0.3, 1.2), rng.uniform(1.4, 2.5)
    if rng.random() < 0.5:
        a, b = b, a
    return [float(signs[0] * a), float(signs[1] * b)]


SIGNS = [(1, 1), (-1, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)]
"""Sign patterns of the test weights: every combination, negative ones included."""


def _forward_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs, n in zip(SIGNS, [1, 3, 8, 25, 64, 5]):
        cases.append({"w": _weights(rng, signs), "x": rng.normal(0.4, 1.0, n).tolist()})
    return {"kind": "forward", "class": "ShallowNarrowExercise", "cases": cases}


def _gradient_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs, n in zip(SIGNS, [1, 4, 10, 33, 73, 7]):
        x = rng.uniform(-0.5, 1.5, n)
        y = rng.uniform(-3, 3) * x + rng.normal(0, 0.3, n)
        cases.append({"w": _weights(rng, signs), "x": x.tolist(), "y": y.tolist()})
    return {"kind": "dloss_dw", "class": "ShallowNarrowExercise", "cases": cases}


def _train_request(rng: np.random.Generator) -> dict[str, Any]:
    cases = []
    for signs in [(1, -1), (-1, -1)]:
        x = rng.uniform(0, 1, 30)
        y = rng.uniform(1, 3) * x + rng.normal(0, 0.2, 30)
        cases.append(
            {
                "w": _weights(rng, signs),
                "x": x.tolist(),
                "y": y.tolist(),
                "lr": float(np.round(rng.uniform(0.01, 0.05), 3)),
                "n_ep": 60,
            }
        )
    return {"kind": "train", "class": "ShallowNarrowExercise", "cases": cases}


def _seed_run_request(rng: np.random.Generator) -> dict[str, Any]:
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], run["a"], run["sigma"])
    case = {"w": list(run["init"]), "x": x.tolist(), "y": y.tolist(), "lr": run["lr"], "n_ep": run["n_ep"]}
    return {"kind": "train", "class": "ShallowNarrowExercise", "cases": [case]}


CHECKS: dict[str, Check] = {
    check.name: check
    for check in [
        Check("shallow_narrow.forward", _forward_request, judge.judge_forward),
        Check("shallow_narrow.dloss_dw", _gradient_request, judge.judge_dloss_dw),
        Check("shallow_narrow.training_curve", _train_request, judge.judge_train),
        Check("shallow_narrow.seed_run", _seed_run_request, judge.judge_final_weights),
    ]
}
"""Every graded check, by the name a test cell uses."""


def checks_in(source: str) -> list[str]:
    """Names of the checks a test cell's source calls, in order."""
    return CHECK_CALL.findall(source)


def make_request(name: str, assignment: str, student: str) -> dict[str, Any]:
    """The request of check `name` for one student's submission of one assignment."""
    rng = np.random.default_rng(seed_for(assignment, student, name))
    return CHECKS[name].make_request(rng)
