"""What judges outside the kernel: compare collected data with the reference.

Every function here takes the request the grader sent (its inputs) and the
payload the probe sent back (plain JSON data, parsed in the grading process),
computes the right answer itself with :mod:`autograder.reference`, and returns
a :class:`Verdict`.  A missing, malformed or self-inconsistent payload scores 0
with a message that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import diagnosis, reference
from .diagnosis import Mistake

RTOL = 1e-9
"""Relative tolerance of a right answer (floating-point reordering stays far below it)."""

TRAIN_RTOL = 1e-6
"""Relative tolerance on training records, where rounding accumulates over the epochs."""

PRECISION_RTOL = 1e-3
"""Values this close but not within :data:`RTOL` are diagnosed as lost precision."""


@dataclass
class Verdict:
    """The outcome of one graded test.

    Attributes
    ----------
    score : float
        Fraction of the test's points earned, from 0 to 1.
    message : str
        What the student reads.
    mistakes : list of str
        Codes of the diagnosed mistakes (see :mod:`autograder.diagnosis`).
    curves : dict, optional
        Student and reference training records, for the feedback plot.
    """

    score: float
    message: str
    mistakes: list[str] = field(default_factory=list)
    curves: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return self.score >= 1.0


def _fail(message: str, *mistakes: Mistake) -> Verdict:
    text = " ".join([message, *(m.message() for m in mistakes)])
    return Verdict(0.0, text, [m.code for m in mistakes])


def _describe_case(case: dict[str, Any]) -> str:
    w1, w2 = case["init"]
    signs = "both weights positive" if w1 > 0 and w2 > 0 else "a negative weight"
    return f"w1 = {w1:.3g}, w2 = {w2:.3g} ({signs}) and {len(case['args'][0])} sample(s)"


def structural_problem(request: dict[str, Any], payload: dict[str, Any] | None, method: str) -> Verdict | None:
    """A zero verdict when the payload cannot be judged at all, else None.

    Parameters
    ----------
    request : dict
        The grader's request.
    payload : dict or None
        What the probe sent back (None when nothing valid came back).
    method : str
        The method under test, for the message.
    """
    if payload is None:
        return _fail(
            f"The test could not collect a result from your notebook while calling `{method}` "
            "(the kernel may have died, timed out, or the output was tampered with). "
            "Restart the kernel and run all cells from the top to reproduce."
        )
    if "missing" in payload:
        return _fail(
            f"`{payload['missing']}` is not defined when the tests run. Did a cell fail, "
            "or was the class renamed or deleted? Restart the kernel and run all cells."
        )
    results = payload.get("results")
    if not isinstance(results, list) or len(results) != len(request["cases"]):
        return _fail("The test's result is malformed (wrong number of cases), so it scores 0.")
    for case, result in zip(request["cases"], results):
        if not isinstance(result, dict):
            return _fail("The test's result is malformed, so it scores 0.")
        if "error" in result:
            error = str(result["error"])
            if error.startswith("NotImplementedError"):
                return _fail(f"`{method}` raised NotImplementedError.", diagnosis.NOT_IMPLEMENTED)
            return _fail(f"`{method}` raised an error with {_describe_case(case)}: {error}")
    return None


def _values(record: dict[str, Any]) -> np.ndarray | None:
    """The numbers of one collected value, or None if it carried none."""
    if not isinstance(record, dict) or "error" in record or record.get("truncated"):
        return None
    try:
        values = np.array(record["values"], dtype=float)
        shape = tuple(int(s) for s in record["shape"])
        return values.reshape(shape)
    except (KeyError, TypeError, ValueError):
        return None


def _side_effect(case: dict[str, Any], result: dict[str, Any]) -> bool:
    """True when the call left the weights different from where they started."""
    after = result.get("state")
    if not isinstance(after, list) or len(after) != 2 or None in after:
        return False
    try:
        return not np.array_equal(np.array(after, dtype=float).ravel(), np.array(case["init"], dtype=float))
    except ValueError:
        return True


def _case_arrays(case: dict[str, Any]) -> tuple[float, float, np.ndarray, np.ndarray | None]:
    """``(w1, w2, x, y)`` of a case (``y`` is None for the forward pass)."""
    w1, w2 = (float(w) for w in case["init"])
    args = case["args"]
    y = np.array(args[1], dtype=float) if len(args) > 1 else None
    return w1, w2, np.array(args[0], dtype=float), y


def _how_far_off(student: np.ndarray, expected: np.ndarray) -> str:
    """Say by how much a value is off, without printing the right one."""
    scale = float(np.max(np.abs(expected))) or 1.0
    error = float(np.max(np.abs(student - expected))) / scale
    size_s, size_e = float(np.linalg.norm(student)), float(np.linalg.norm(expected))
    if size_e and size_s > 1.05 * size_e:
        direction = "too large in magnitude"
    elif size_e and size_s < 0.95 * size_e:
        direction = "too small in magnitude"
    else:
        direction = "about the right size but pointing the wrong way"
    return f"off by {100 * error:.3g}% of its size ({direction})"


def _diagnose(
    cases: list[dict[str, Any]],
    student: list[np.ndarray],
    expected: list[np.ndarray],
    variants: list[tuple[Mistake, Any]],
    what: str,
    hint: str,
) -> Verdict:
    """Explain values that are wrong: a known mistake, or where and how much."""
    arrays = [_case_arrays(c) for c in cases]
    scales = [1 + float(np.max(np.abs(e))) for e in expected]
    right = [diagnosis.close(s, e, RTOL, sc) for s, e, sc in zip(student, expected, scales)]
    mistake = diagnosis.match_variant(arrays, student, variants, expected)
    if mistake is not None:
        return _fail(f"{what} is wrong on {right.count(False)} of {len(cases)} test cases.", mistake)
    if all(diagnosis.close(s, e, PRECISION_RTOL, sc) for s, e, sc in zip(student, expected, scales)):
        return _fail(f"{what} is close but not accurate enough.", diagnosis.LOST_PRECISION)
    positive = [c["init"][0] > 0 and c["init"][1] > 0 for c in cases]
    if all(ok for ok, pos in zip(right, positive) if pos) and not all(right) and any(positive):
        return _fail(f"{what} is wrong on {right.count(False)} of {len(cases)} test cases.", diagnosis.POSITIVE_ONLY)
    if what.startswith("forward") and all(
        s.shape == e.shape and np.ptp(s - e) < 1e-9 * sc for s, e, sc in zip(student, expected, scales)
    ):
        return _fail(f"{what} is wrong on {right.count(False)} of {len(cases)} test cases.", diagnosis.FORWARD_BIAS)
    first = right.index(False)
    return _fail(
        f"{what} is wrong on {right.count(False)} of {len(cases)} test cases. For example with "
        f"{_describe_case(cases[first])}, it is {_how_far_off(student[first], expected[first])}. {hint}"
    )


def judge_forward(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``forward`` on the grader's inputs."""
    problem = structural_problem(request, payload, "forward")
    if problem:
        return problem
    cases, results = request["cases"], payload["results"]  # type: ignore[index]
    student, expected = [], []
    for case, result in zip(cases, results):
        w1, w2, x, _ = _case_arrays(case)
        out = _values(result.get("out", {}))
        if out is None:
            return _fail(f"`forward` did not return numbers with {_describe_case(case)}.")
        if out.shape != x.shape:
            return _fail(
                f"`forward` returned shape {out.shape} for an input of shape {x.shape}: "
                "it should return one prediction per input, in an array shaped like x."
            )
        if _side_effect(case, result):
            return _fail("`forward` is not a pure computation.", diagnosis.SIDE_EFFECT)
        student.append(out)
        expected.append(reference.forward(w1, w2, x))
    if all(diagnosis.close(s, e, RTOL, 1 + float(np.max(np.abs(e)))) for s, e in zip(student, expected)):
        return Verdict(1.0, f"`forward` is right on all {len(cases)} test cases, negative weights included.")
    return _diagnose(
        cases,
        student,
        expected,
        diagnosis.FORWARD_MISTAKES,
        "forward",
        "Check your output on a small example by hand, e.g. w1 = 2, w2 = -3, x = [1, 2].",
    )


def _gradient_pair(result: dict[str, Any], n: int) -> tuple[np.ndarray | None, str | None]:
    """The student's two gradients as an array of shape (2,), or an explanation."""
    out = result.get("out", {})
    if "error" in out or "items" not in out:
        return None, "`dloss_dw` must return a pair (dloss_dw1, dloss_dw2); it returned something else."
    if out.get("length") != 2:
        return None, f"`dloss_dw` must return two values (dloss_dw1, dloss_dw2); it returned {out.get('length')}."
    values = []
    for item in out["items"]:
        value = _values(item)
        if value is None:
            return None, "`dloss_dw` returned something that is not a number."
        if value.size == n and n > 1:
            return None, "per_sample"
        if value.size != 1:
            return None, f"each gradient should be one number; `dloss_dw` returned an array of shape {value.shape}."
        values.append(float(value.ravel()[0]))
    return np.array(values), None


def judge_dloss_dw(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` on the grader's inputs: against the reference and finite differences."""
    problem = structural_problem(request, payload, "dloss_dw")
    if problem:
        return problem
    cases, results = request["cases"], payload["results"]  # type: ignore[index]
    student, expected = [], []
    for case, result in zip(cases, results):
        w1, w2, x, y = _case_arrays(case)
        pair, why = _gradient_pair(result, len(x))
        if why == "per_sample":
            return _fail("`dloss_dw` returned arrays.", diagnosis.PER_SAMPLE)
        if pair is None:
            return _fail(str(why))
        if _side_effect(case, result):
            return _fail("`dloss_dw` is not a pure computation.", diagnosis.SIDE_EFFECT)
        student.append(pair)
        expected.append(np.array(reference.gradients(w1, w2, x, y)))
    if all(diagnosis.close(s, e, RTOL, 1 + float(np.max(np.abs(e)))) for s, e in zip(student, expected)):
        return Verdict(
            1.0,
            f"`dloss_dw` is right on all {len(cases)} test cases (negative weights included) "
            "and agrees with finite differences of the loss.",
        )
    return _diagnose(
        cases,
        student,
        expected,
        diagnosis.GRADIENT_MISTAKES,
        "dloss_dw",
        "Compare your gradient with a finite difference of the loss, "
        "(L(w1 + h, w2) − L(w1 − h, w2)) / 2h with h = 1e-6, at a few weights of both signs.",
    )


def _fault_location(case: dict[str, Any], loss: np.ndarray, weights: np.ndarray) -> str:
    """Tell from the first epoch whether the forward pass or the gradient is at fault."""
    w1, w2, x, y = _case_arrays(case)
    assert y is not None
    if not np.isclose(loss[0], reference.mse(reference.forward(w1, w2, x), y), rtol=TRAIN_RTOL):
        return "The very first loss is already wrong, so the fault is in the forward pass (or the loss)."
    g1, g2 = reference.gradients(w1, w2, x, y)
    lr = case["args"][2]
    step = np.array([w1 - lr * g1, w2 - lr * g2])
    if not np.allclose(weights[0], step, rtol=TRAIN_RTOL, atol=1e-12):
        return "The first loss is right but the first update is not, so the fault is in the gradients (dloss_dw)."
    return (
        "The first epoch is right and later ones are not: check that `train` is unchanged "
        "and that forward and dloss_dw do not keep state between calls."
    )


def _train_records(
    case: dict[str, Any], result: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | str:
    """Student and reference records of one training run, or why they cannot be compared."""
    w1, w2, x, y = _case_arrays(case)
    ref_loss, ref_weights = reference.train((w1, w2), x, y, case["args"][2], case["args"][3])
    out = result.get("out", {})
    items = out.get("items", []) if out.get("length") == 2 else []
    loss, weights = (_values(items[0]), _values(items[1])) if items else (None, None)
    if loss is None or weights is None:
        return "`train` did not return (loss_records, weight_records) as numbers."
    if loss.shape != ref_loss.shape or weights.shape != ref_weights.shape:
        return (
            f"`train` returned records of shapes {loss.shape} and {weights.shape}; expected "
            f"{ref_loss.shape} and {ref_weights.shape}. Is `train` still as given?"
        )
    return loss, weights, ref_loss, ref_weights


def _curves(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> dict[str, Any]:
    return {
        "loss": loss.tolist(),
        "weights": weights.tolist(),
        "ref_loss": ref_loss.tolist(),
        "ref_weights": ref_weights.tolist(),
    }


def judge_train(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge the loss curve and weight trajectory of training runs."""
    problem = structural_problem(request, payload, "train")
    if problem:
        return problem
    curves = None
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        records = _train_records(case, result)
        if isinstance(records, str):
            return _fail(records)
        loss, weights, ref_loss, ref_weights = records
        curves = curves or _curves(*records)
        ok_loss = diagnosis.close(loss, ref_loss, TRAIN_RTOL, 1e-3 + float(np.max(ref_loss)))
        ok_w = diagnosis.close(weights, ref_weights, TRAIN_RTOL, 1 + float(np.max(np.abs(ref_weights))))
        if not (ok_loss and ok_w):
            bad = np.flatnonzero(~np.isclose(loss, ref_loss, rtol=TRAIN_RTOL, atol=1e-12))
            epoch = int(bad[0]) if bad.size else 0
            verdict = _fail(
                f"Training from {_describe_case(case)}, learning rate {case['args'][2]}: the "
                f"{'loss curve' if not ok_loss else 'weight trajectory'} departs from the "
                f"reference at epoch {epoch}. " + _fault_location(case, loss, weights)
            )
            verdict.curves = _curves(*records)
            return verdict
    return Verdict(1.0, "The loss curve and weight trajectory match the reference run.", curves=curves)


def judge_final_weights(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge the exercise's own training run by its final weights and loss."""
    problem = structural_problem(request, payload, "train")
    if problem:
        return problem
    case, result = request["cases"][0], payload["results"][0]  # type: ignore[index]
    records = _train_records(case, result)
    if isinstance(records, str):
        return _fail(records)
    loss, weights, ref_loss, ref_weights = records
    curves = _curves(*records)
    final, ref_final = weights[-1], ref_weights[-1]
    if diagnosis.close(final, ref_final, TRAIN_RTOL, 1.0) and np.isclose(loss[-1], ref_loss[-1], rtol=TRAIN_RTOL):
        return Verdict(
            1.0,
            f"The seed run ends at w1 = {final[0]:.5f}, w2 = {final[1]:.5f} with loss {loss[-1]:.7f}, as it should.",
            curves=curves,
        )
    if diagnosis.close(final, ref_final, TRAIN_RTOL, 1.0):
        where = f"The final weights are right but the final loss is {loss[-1]:.5g}, not {ref_loss[-1]:.5g}."
    else:
        where = (
            f"The seed run ends at w1 = {final[0]:.5g}, w2 = {final[1]:.5g} (loss {loss[-1]:.5g}), "
            f"not near the reference ({ref_final[0]:.5f}, {ref_final[1]:.5f})."
        )
    verdict = _fail(f"{where} {_fault_location(case, loss, weights)}")
    verdict.curves = curves
    return verdict
