"""Judges of ``01_shallow_narrow``: compare collected data with :mod:`autograder.models.shallow`.

Every judge takes the request the grader sent and the payload the probe sent
back, computes the right answer itself, and returns a
:class:`~autograder.core.verdict.Verdict` (see :mod:`autograder.core.verdict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core.mistakes import LOST_PRECISION, Mistake, close, match_variant
from ...core.verdict import PRECISION_RTOL, RTOL, TRAIN_RTOL, Verdict, fail, values
from ...core.verdict import structural_problem as _structural_problem
from ...models import shallow as reference
from ...models import shallow_mistakes


def _describe_case(case: dict[str, Any]) -> str:
    w1, w2 = case["init"]
    signs = "both weights positive" if w1 > 0 and w2 > 0 else "a negative weight"
    return f"w1 = {w1:.3g}, w2 = {w2:.3g} ({signs}) and {len(case['args'][0])} sample(s)"


def structural_problem(request: dict[str, Any], payload: dict[str, Any] | None, method: str) -> Verdict | None:
    """:func:`autograder.core.verdict.structural_problem` with the shallow net's cases."""
    return _structural_problem(request, payload, method, _describe_case)


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


def _scale(expected: np.ndarray) -> float:
    """The size a tolerance is relative to (1 + the largest right value)."""
    return 1 + float(np.max(np.abs(expected), initial=0.0))


def _how_far_off(student: np.ndarray, expected: np.ndarray) -> str:
    """Say by how much a value is off, without printing the right one."""
    if not np.all(np.isfinite(student)):
        return "not a finite number (nan or inf)"
    size = float(np.max(np.abs(expected), initial=0.0))
    gap = float(np.max(np.abs(student - expected), initial=0.0))
    if size < 1e-12:
        return f"off by {gap:.3g} where it should be (almost) zero"
    size_s, size_e = float(np.linalg.norm(student)), float(np.linalg.norm(expected))
    if size_s > 1.05 * size_e:
        direction = "too large in magnitude"
    elif size_s < 0.95 * size_e:
        direction = "too small in magnitude"
    else:
        direction = "about the right size"
    if student.size == 1 and student.ravel()[0] * expected.ravel()[0] < 0:
        direction += ", and of the wrong sign"
    elif size_e * 0.95 <= size_s <= 1.05 * size_e:
        direction += " but not the right values"
    return f"off by {100 * gap / size:.3g}% of its size ({direction})"


_PATTERNS: list[tuple[str, Any]] = [
    ("where w1 is negative", lambda w1, w2, n: w1 < 0),
    ("where w2 is negative", lambda w1, w2, n: w2 < 0),
    ("where exactly one weight is negative", lambda w1, w2, n: (w1 < 0) != (w2 < 0)),
    ("where both weights are negative", lambda w1, w2, n: w1 < 0 and w2 < 0),
    ("where a weight is negative", lambda w1, w2, n: w1 < 0 or w2 < 0),
    ("with a single sample", lambda w1, w2, n: n == 1),
    ("with more than one sample", lambda w1, w2, n: n > 1),
]
"""Kinds of test input a mistake may show on only (checked in this order)."""


def _where_wrong(cases: list[dict[str, Any]], right: list[bool]) -> str:
    """On how many test cases, and on which kind of input, an output is wrong."""
    wrong = [not ok for ok in right]
    count = f"on {wrong.count(True)} of {len(cases)} test cases"
    if all(wrong):
        return f"{count}, whatever the signs of the weights and the number of samples"
    for phrase, holds in _PATTERNS:
        marks = [bool(holds(float(c["init"][0]), float(c["init"][1]), len(c["args"][0]))) for c in cases]
        if marks == wrong:
            return f"{count}: exactly those {phrase}, and right on the others"
    return count


def _fail_with(what: str, where: str, mistakes: list[Mistake]) -> Verdict:
    return fail(f"{what} is wrong {where}.", *mistakes)


def _forward_location(x: np.ndarray, student: np.ndarray, expected: np.ndarray, scale: float) -> str:
    """Which inputs of one case the predictions are off at, when that says something."""
    bad = ~np.isclose(student, expected, rtol=RTOL, atol=RTOL * scale)
    if 0 < bad.sum() < bad.size:
        if np.all(x[bad] < 0):
            return " Only the predictions for negative inputs x are off."
        if np.all(x[bad] > 0):
            return " Only the predictions for positive inputs x are off."
    return ""


def _positive_only(cases: list[dict[str, Any]], right: list[bool]) -> bool:
    """Right on every case with positive weights, wrong on some other."""
    positive = [c["init"][0] > 0 and c["init"][1] > 0 for c in cases]
    return any(positive) and not all(right) and all(ok for ok, pos in zip(right, positive) if pos)


def _example(cases: list[dict[str, Any]], right: list[bool]) -> int:
    """The wrong case to show: the first with several samples, else the first."""
    wrong = [i for i, ok in enumerate(right) if not ok]
    several = [i for i in wrong if len(cases[i]["args"][0]) > 1]
    return (several or wrong)[0]


def _diagnose_forward(cases: list[dict[str, Any]], student: list[np.ndarray], expected: list[np.ndarray]) -> Verdict:
    """Explain a wrong forward pass: a known mistake, or which output is off, where and how much."""
    arrays = [_case_arrays(c) for c in cases]
    scales = [_scale(e) for e in expected]
    right = [close(s, e, RTOL, sc) for s, e, sc in zip(student, expected, scales)]
    where = _where_wrong(cases, right)
    what = "`forward`"
    mistake = match_variant(arrays, student, shallow_mistakes.FORWARD_MISTAKES, expected)
    if mistake is not None:
        return _fail_with(what, where, [mistake])
    if all(close(s, e, PRECISION_RTOL, sc) for s, e, sc in zip(student, expected, scales)):
        return fail(f"{what} is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    if _positive_only(cases, right):
        return _fail_with(what, where, [shallow_mistakes.FORWARD_POSITIVE_ONLY])
    shifted = [np.all(np.isfinite(s)) and np.ptp(s - e) < 1e-9 * sc for s, e, sc in zip(student, expected, scales)]
    if all(shifted) and any(s.size > 1 for s in student):
        return _fail_with(what, where, [shallow_mistakes.FORWARD_BIAS])
    first = _example(cases, right)
    x = arrays[first][2]
    return fail(
        f"{what} is wrong {where}. For example with {_describe_case(cases[first])}, its output is "
        f"{_how_far_off(student[first], expected[first])}."
        f"{_forward_location(x, student[first], expected[first], scales[first])} "
        "Check your output on a small example by hand, e.g. w1 = 2, w2 = -3, x = [1, 2]."
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
        out = values(result.get("out", {}))
        if out is None:
            return fail(f"`forward` did not return numbers with {_describe_case(case)}.")
        if out.shape != x.shape:
            return fail(
                f"`forward` returned shape {out.shape} for an input of shape {x.shape}: "
                "it should return one prediction per input, in an array shaped like x."
            )
        if _side_effect(case, result):
            return fail("`forward` is not a pure computation.", shallow_mistakes.SIDE_EFFECT)
        student.append(out)
        expected.append(reference.forward(w1, w2, x))
    if all(close(s, e, RTOL, _scale(e)) for s, e in zip(student, expected)):
        return Verdict(1.0, f"`forward` is right on all {len(cases)} test cases, negative weights included.")
    return _diagnose_forward(cases, student, expected)


def _gradient_pair(result: dict[str, Any], n: int) -> tuple[np.ndarray | None, str | None]:
    """The student's two gradients as an array of shape (2,), or an explanation."""
    out = result.get("out", {})
    if "error" in out or "items" not in out:
        return None, "`dloss_dw` must return a pair (dloss_dw1, dloss_dw2); it returned something else."
    if out.get("length") != 2:
        return None, f"`dloss_dw` must return two values (dloss_dw1, dloss_dw2); it returned {out.get('length')}."
    pair = []
    for item in out["items"]:
        value = values(item)
        if value is None:
            return None, "`dloss_dw` returned something that is not a number."
        if value.size == n and n > 1:
            return None, "per_sample"
        if value.size != 1:
            return None, f"each gradient should be one number; `dloss_dw` returned an array of shape {value.shape}."
        pair.append(float(value.ravel()[0]))
    return np.array(pair), None


def _titles(mistakes: tuple[Mistake, ...] | list[Mistake]) -> str:
    return " and ".join(m.title for m in mistakes)


def _gradient_forms_message(forms: list[tuple[Mistake, ...] | None]) -> tuple[str, list[Mistake]] | None:
    """What the matched gradient forms say: which component is wrong, and the mistakes; None if nothing."""
    first, second = forms
    if not first and not second:
        return None  # right, unexplained, or one right and one unexplained
    if first == second:
        return "", list(first)  # type: ignore[arg-type]
    mistakes: list[Mistake] = []
    for found in (first, second):
        mistakes.extend(m for m in found or () if m not in mistakes)
    states = []
    for name, found in (("dloss_dw1", first), ("dloss_dw2", second)):
        if found == ():
            states.append(f"{name} is right")
        elif found is None:
            states.append(f"{name} is wrong in a way not listed below")
        elif first and second:  # both wrong, differently: say which mistake is where
            states.append(f"{name} is wrong ({_titles(found)})")
        else:
            states.append(f"{name} is wrong")
    return "; ".join(states) + ".", mistakes


def _slope_check(w1: float, w2: float, x: np.ndarray, y: np.ndarray, pair: np.ndarray) -> str:
    """What finite differences of the loss say about the student's gradient."""
    found = reference.compare_with_slope(w1, w2, x, y, pair)
    if found is None:
        return ""
    finding, ratio = found
    prefix = "Finite differences of the loss show that"
    if finding == "uphill":
        return f"{prefix} a small step against your gradient would raise the loss there, not lower it. "
    if finding == "scaled":
        return f"{prefix} your gradient points the right way but is {ratio:.3g} times as long as it should be. "
    if finding == "near":
        return f"{prefix} your gradient is near the slope of the loss there, but not on it. "
    return f"{prefix} your gradient does not point where the loss rises fastest. "


def _diagnose_gradients(cases: list[dict[str, Any]], student: list[np.ndarray], expected: list[np.ndarray]) -> Verdict:
    """Explain wrong gradients: known slips (per component), or which one is off, where and how much."""
    arrays = [_case_arrays(c) for c in cases]
    scales = [_scale(e) for e in expected]
    right = [close(s, e, RTOL, sc) for s, e, sc in zip(student, expected, scales)]
    parts = [[close(s[k], e[k], RTOL, sc) for s, e, sc in zip(student, expected, scales)] for k in (0, 1)]
    where = _where_wrong(cases, right)
    what = "`dloss_dw`"
    explained = _gradient_forms_message(shallow_mistakes.gradient_forms(arrays, student))
    if explained is not None:
        detail, mistakes = explained
        return fail(f"{what} is wrong {where}. {detail}".rstrip(), *mistakes)
    mistake = match_variant(arrays, student, shallow_mistakes.GRADIENT_MISTAKES, expected)
    if mistake is not None:
        return _fail_with(what, where, [mistake])
    if all(close(s, e, PRECISION_RTOL, sc) for s, e, sc in zip(student, expected, scales)):
        return fail(f"{what} is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    if _positive_only(cases, right):
        return _fail_with(what, where, [shallow_mistakes.POSITIVE_ONLY])
    if all(parts[1]):
        which = f"dloss_dw1 is wrong {_where_wrong(cases, parts[0])}; dloss_dw2 is right"
    elif all(parts[0]):
        which = f"dloss_dw1 is right; dloss_dw2 is wrong {_where_wrong(cases, parts[1])}"
    else:
        which = f"dloss_dw1 and dloss_dw2 are wrong {where}"
    first = _example(cases, right)
    w1, w2, x, y = arrays[first]
    assert y is not None
    sizes = " and ".join(
        f"dloss_dw{k + 1} is {_how_far_off(student[first][k : k + 1], expected[first][k : k + 1])}"
        for k in (0, 1)
        if not parts[k][first]
    )
    return fail(
        f"{what}: {which}. For example with {_describe_case(cases[first])}, {sizes}. "
        f"{_slope_check(w1, w2, x, y, student[first])}"
        "Compare your gradient with a finite difference of the loss, "
        "(L(w1 + h, w2) − L(w1 − h, w2)) / 2h with h = 1e-6, at a few weights of both signs."
    )


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
            return fail("`dloss_dw` returned arrays.", shallow_mistakes.PER_SAMPLE)
        if pair is None:
            return fail(str(why))
        if _side_effect(case, result):
            return fail("`dloss_dw` is not a pure computation.", shallow_mistakes.SIDE_EFFECT)
        student.append(pair)
        expected.append(np.array(reference.gradients(w1, w2, x, y)))
    if all(close(s, e, RTOL, _scale(e)) for s, e in zip(student, expected)):
        return Verdict(
            1.0,
            f"`dloss_dw` is right on all {len(cases)} test cases (negative weights included) "
            "and agrees with finite differences of the loss.",
        )
    return _diagnose_gradients(cases, student, expected)


def _signs(w1: float, w2: float) -> str:
    return "both weights positive" if w1 > 0 and w2 > 0 else "a negative weight"


def _fault_location(case: dict[str, Any], loss: np.ndarray, weights: np.ndarray) -> str:
    """Tell whether the forward pass or the gradient is at fault, and from which epoch.

    Each epoch is checked against the reference math *at the weights the student's
    own run started it from*: its loss (the forward pass) and its update (the
    gradient).  The first epoch where either is wrong says which one is at fault.
    """
    w1, w2, x, y = _case_arrays(case)
    assert y is not None
    lr = float(case["args"][2])
    start = np.array([w1, w2])
    with np.errstate(all="ignore"):
        for epoch in range(len(loss)):
            a, b = (float(v) for v in start)
            g1, g2 = reference.gradients(a, b, x, y)
            step = np.array([a - lr * g1, b - lr * g2])
            loss_ok = bool(np.isclose(loss[epoch], reference.mse(reference.forward(a, b, x), y), rtol=TRAIN_RTOL))
            step_ok = bool(np.allclose(weights[epoch], step, rtol=TRAIN_RTOL, atol=1e-12))
            if not (loss_ok and step_ok):
                break
            start = weights[epoch]
        else:
            return (
                "Every epoch of your run is consistent with its own weights, but the run is not the "
                "reference's: check that `train` is unchanged and starts from the given weights."
            )
    at = "" if epoch == 0 else f" (from epoch {epoch}, at w1 = {a:.3g}, w2 = {b:.3g}: {_signs(a, b)})"
    if not loss_ok and step_ok:
        if epoch == 0:
            return "The very first loss is already wrong, so the fault is in the forward pass (or the loss)."
        return (
            f"The updates are right but the loss goes wrong{at}, so the fault is in the forward pass "
            "(or the loss), for some weights only."
        )
    if not loss_ok:
        return (
            f"The loss and the update are both wrong{at or ' from the first epoch'}: look at the forward pass "
            "first, and check that nothing but `train` changes the weights."
        )
    first = "first " if epoch == 0 else ""
    blame = f"The {first}loss is right but the {first}update is not{at}, so the fault is in the gradients (dloss_dw)"
    judged = _judge_steps(case, np.vstack([[w1, w2], weights]), epoch)
    if judged:
        return f"{blame}. Judging by the steps your run took: {judged}"
    return f"{blame}, unless something other than `train` changes the weights (forward and dloss_dw only compute)."


def _judge_steps(case: dict[str, Any], path: np.ndarray, epoch: int, most: int = 24) -> str:
    """Name the gradient mistake the steps of a run reveal, from `epoch` on ("" when none is known).

    Each step ``path[i] -> path[i + 1]`` followed the gradient ``(path[i] - path[i + 1]) / lr``
    at ``path[i]``: that is the student's dloss_dw at weights their own run visited
    (several steps, so that weights of both signs may show).
    """
    _, _, x, y = _case_arrays(case)
    assert y is not None
    lr = float(case["args"][2])
    steps = np.unique(np.linspace(epoch, len(path) - 2, min(most, len(path) - 1 - epoch)).astype(int))
    cases, implied, expected = [], [], []
    with np.errstate(all="ignore"):
        for i in steps:
            g = (path[i] - path[i + 1]) / lr
            if not (np.all(np.isfinite(path[i])) and np.all(np.isfinite(g)) and np.max(np.abs(path[i])) < 1e6):
                break
            cases.append((float(path[i][0]), float(path[i][1]), x, y))
            implied.append(g)
            expected.append(np.array(reference.gradients(*cases[-1])))
    if not cases:
        return ""
    explained = _gradient_forms_message(shallow_mistakes.gradient_forms(cases, implied))
    if explained is not None:
        detail, mistakes = explained
        return f"{_titles(mistakes)}." + (f" ({detail})" if detail else "")
    mistake = match_variant(cases, implied, shallow_mistakes.GRADIENT_MISTAKES, expected)
    if mistake is None and all(close(g, e, PRECISION_RTOL, _scale(e)) for g, e in zip(implied, expected)):
        mistake = LOST_PRECISION
    return f"{mistake.title}." if mistake else ""


def _train_records(
    case: dict[str, Any], result: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | str:
    """Student and reference records of one training run, or why they cannot be compared."""
    w1, w2, x, y = _case_arrays(case)
    ref_loss, ref_weights = reference.train((w1, w2), x, y, case["args"][2], case["args"][3])
    out = result.get("out", {})
    items = out.get("items", []) if out.get("length") == 2 else []
    loss, weights = (values(items[0]), values(items[1])) if items else (None, None)
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
            return fail(records)
        loss, weights, ref_loss, ref_weights = records
        curves = curves or _curves(*records)
        ok_loss = close(loss, ref_loss, TRAIN_RTOL, 1e-3 + float(np.max(ref_loss)))
        ok_w = close(weights, ref_weights, TRAIN_RTOL, 1 + float(np.max(np.abs(ref_weights))))
        if not (ok_loss and ok_w):
            with np.errstate(invalid="ignore", over="ignore"):
                bad_loss = ~np.isclose(loss, ref_loss, rtol=TRAIN_RTOL, atol=1e-12)
                bad_w = ~np.all(np.isclose(weights, ref_weights, rtol=TRAIN_RTOL, atol=1e-12), axis=1)
            bad = np.flatnonzero(bad_loss | bad_w)
            epoch = int(bad[0]) if bad.size else 0
            verdict = fail(
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
        return fail(records)
    loss, weights, ref_loss, ref_weights = records
    curves = _curves(*records)
    final, ref_final = weights[-1], ref_weights[-1]
    if close(final, ref_final, TRAIN_RTOL, 1.0) and np.isclose(loss[-1], ref_loss[-1], rtol=TRAIN_RTOL):
        not_own = _not_the_notebook_s_own_run(request, payload, ref_final)  # type: ignore[arg-type]
        if not_own:
            verdict = fail(not_own)
            verdict.curves = curves
            return verdict
        return Verdict(
            1.0,
            f"The seed run ends at w1 = {final[0]:.5f}, w2 = {final[1]:.5f} with loss {loss[-1]:.7f}, as it should.",
            curves=curves,
        )
    if close(final, ref_final, TRAIN_RTOL, 1.0):
        where = f"The final weights are right but the final loss is {loss[-1]:.5g}, not {ref_loss[-1]:.5g}."
    else:
        where = (
            f"The seed run ends at w1 = {final[0]:.5g}, w2 = {final[1]:.5g} (loss {loss[-1]:.5g}), "
            f"not near the reference ({ref_final[0]:.5f}, {ref_final[1]:.5f})."
        )
    verdict = fail(f"{where} {_fault_location(case, loss, weights)}")
    verdict.curves = curves
    return verdict


def _your_values(values: dict[str, Any]) -> str:
    """The run's values as the training cell prints them."""
    if not values:
        return "the values of the training cell"
    return (
        f"slope a = {values['a']}, noise sigma = {values['sigma']}, start w1 = {values['w1']}, "
        f"w2 = {values['w2']}, learning rate {values['lr']}, seed {values['seed']}"
    )


def _not_the_notebook_s_own_run(request: dict[str, Any], payload: dict[str, Any], ref_final: np.ndarray) -> str | None:
    """Why the notebook's own training run (its `weight_log`) is not the run on the student's values, or None.

    The grader trained the student's class on the student's values itself (above); here it looks at
    what the notebook's training cell left: numbers typed in, or copied from another notebook, do not
    end where a run on this student's values ends.  (A grader that draws every student's values from
    their id: ``c.CourseOptions.variants``.)
    """
    if "globals" not in request:
        return None
    found = payload.get("globals")
    record = found.get("weight_log") if isinstance(found, dict) else None
    own = values(record) if isinstance(record, dict) else None
    n_ep = request["cases"][0]["args"][3]
    yours = _your_values(request.get("values", {}))
    if own is None or own.ndim != 2 or own.shape[0] != n_ep or own.shape[1] != 2:
        shape = "missing" if own is None else f"of shape {own.shape}, not ({n_ep}, 2)"
        return (
            f"Your `train` is right, but the notebook's own run is {shape}: `weight_log` should hold the weights "
            "of every epoch of the training cell's run. Run the training cell unchanged, then this test."
        )
    if close(own[-1], ref_final, TRAIN_RTOL, 1.0):
        return None
    return (
        f"Your `train` is right, but the notebook's own run (`weight_log` of the training cell) ends at "
        f"w1 = {own[-1][0]:.5g}, w2 = {own[-1][1]:.5g}, not where a run on your values ends ({yours}). "
        "Run the training cell unchanged, with the values it prints for you: numbers typed in, or taken from "
        "another notebook, do not fit your values."
    )
