"""Judges of ``03_depth_and_init``: the deep narrow network's methods against :mod:`.reference`.

Same contract as every judge (:mod:`autograder.core.verdict`).  A typical mistake (:mod:`.mistakes`) is named by
computing what each wrong variant would have returned on the grader's inputs, and only when every explanation that
reproduces the student's numbers on every case contains it (:func:`autograder.core.mistakes.match_shared`): where
several mistakes give the same numbers (a zero weight, depth 1, a symmetric start) none is named.  When no known
mistake fits, the message says which output is off (which predictions, which entries of the gradient), on which
kind of input (the depth, the signs, the zero weights, the number of samples) and by how much.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ...core import mistakes as core_mistakes
from ...core.mistakes import LOST_PRECISION, match_shared
from ...core.verdict import PRECISION_RTOL, RTOL, TRAIN_RTOL, Verdict, close, fail, structural_problem, values
from . import reference as ref
from .mistakes import (
    FORWARD_MISTAKES,
    LOSS_MISTAKES,
    NAN_NEGATIVE,
    PER_SAMPLE,
    SIDE_EFFECT,
    ZERO_DIVISION,
    match_gradient,
)

# -- describing inputs and outputs ----------------------------------------------------------------


def describe(case: dict[str, Any]) -> str:
    """The inputs of a case in words: depth, weights, what is special about them, the number of samples."""
    w = np.asarray(case["init"], dtype=float)
    kinds = []
    if np.any(w < 0):
        kinds.append("negative weights" if np.sum(w < 0) > 1 else "a negative weight")
    if np.any(w == 0):
        kinds.append("a zero weight" if np.sum(w == 0) == 1 else "two zero weights")
    extra = f" ({', '.join(kinds)})" if kinds else ""
    return f"depth {w.size}, weights {np.round(w, 3).tolist()}{extra} and {len(case['args'][0])} sample(s)"


def _describe_samples(case: dict[str, Any]) -> str:
    return f"{len(case['args'][0])} sample(s)"


CaseKind = tuple[str, Callable[[dict[str, Any]], bool]]


def _w(case: dict[str, Any]) -> np.ndarray:
    return np.asarray(case["init"], dtype=float)


NETWORK_KINDS: list[CaseKind] = [
    ("of depth 1", lambda c: _w(c).size == 1),
    ("deeper than 1", lambda c: _w(c).size > 1),
    ("with a zero weight", lambda c: bool(np.any(_w(c) == 0))),
    ("with exactly one zero weight", lambda c: int(np.sum(_w(c) == 0)) == 1),
    ("with a negative weight", lambda c: bool(np.any(_w(c) < 0))),
    ("whose weights are all positive", lambda c: bool(np.all(_w(c) > 0))),
    ("where the product of the weights is negative", lambda c: float(np.prod(_w(c))) < 0),
    ("where the product of the weights is positive", lambda c: float(np.prod(_w(c))) > 0),
    ("with a single sample", lambda c: len(c["args"][0]) == 1),
    ("with more than one sample", lambda c: len(c["args"][0]) > 1),
]
"""Kinds of test case a mistake may show on only (the first that fits is named)."""

SAMPLE_KINDS: list[CaseKind] = NETWORK_KINDS[-2:]
"""The loss does not depend on the weights: only the number of samples tells its cases apart."""


def where_wrong(cases: list[dict[str, Any]], wrong: Sequence[bool], kinds: list[CaseKind] = NETWORK_KINDS) -> str:
    """On how many test cases an output is wrong, and on which kind of input when one kind fits exactly."""
    count = f"on {sum(wrong)} of {len(cases)} test cases"
    if all(wrong):
        return f"{count}, whatever the inputs" if len(cases) > 1 else count
    for phrase, holds in kinds:
        if [bool(holds(c)) for c in cases] == list(wrong):
            return f"{count}: exactly those {phrase}, and right on the others"
    return count


def how_far_off(student: np.ndarray, expected: np.ndarray) -> str:
    """How far an output is from the right one, in words, without giving the right value."""
    s, e = np.asarray(student, dtype=float).ravel(), np.asarray(expected, dtype=float).ravel()
    if not np.all(np.isfinite(s)):
        return "not a finite number (nan or inf)"
    size_e, size_s = float(np.linalg.norm(e)), float(np.linalg.norm(s))
    gap = float(np.linalg.norm(s - e))
    if size_e < 1e-12:
        return f"off by {gap:.3g} where it should be 0"
    if size_s < 1e-12:
        return "0 where it should not be"
    cosine = float(s @ e) / (size_s * size_e)
    ratio = size_s / size_e
    if cosine > 1 - 1e-9:
        return f"proportional to the right {'value' if e.size == 1 else 'values'} but {ratio:.4g} times as large"
    if cosine < -1 + 1e-9:
        if abs(ratio - 1) < 1e-6:
            return "the right size but of the wrong sign"
        return f"of the wrong sign and {ratio:.4g} times as large"
    if ratio > 1.05:
        direction = "too large"
    elif ratio < 0.95:
        direction = "too small"
    else:
        direction = "about the right size but not the right values"
    return f"off by {100 * gap / size_e:.3g}% of its size ({direction})"


def _names(indices: Sequence[int]) -> str:
    names = [f"w_{k + 1}" for k in indices[:6]]
    more = f" and {len(indices) - 6} more" if len(indices) > 6 else ""
    return (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]) + more


def which_entries(w: np.ndarray, bad: np.ndarray) -> str:
    """Which entries of a gradient are off, by what they have in common when that says something."""
    if w.size == 1:
        return "its only entry is"
    if np.all(bad):
        return "every entry is"
    first, last = np.arange(w.size) == 0, np.arange(w.size) == w.size - 1
    patterns = [
        ("only the entries of the zero weights are", w == 0),
        ("every entry but those of the zero weights is", w != 0),
        ("only the entries of the negative weights are", w < 0),
        ("only the entries of the positive weights are", w > 0),
        ("only the first entry (w_1) is", first),
        ("every entry but the first is", ~first),
        (f"only the last entry (w_{w.size}) is", last),
        ("every entry but the last is", ~last),
    ]
    for phrase, mask in patterns:
        if np.any(mask) and np.array_equal(mask, bad):
            return phrase
    return f"the entries for {_names(np.flatnonzero(bad).tolist())} are"


def _side_effect(case: dict[str, Any], result: dict[str, Any]) -> bool:
    after = result.get("state")
    if not isinstance(after, list) or not after or after[0] is None:
        return False
    return not np.array_equal(np.array(after[0], dtype=float), np.asarray(case["init"], dtype=float))


def _args(case: dict[str, Any]) -> list[np.ndarray]:
    return [np.array(a, dtype=float) for a in case["args"][:2]]


def _first_example(cases: list[dict[str, Any]], right: list[bool]) -> int:
    """The wrong case to show: the first with several samples and depth > 1, else the first wrong one."""
    wrong = [i for i, ok in enumerate(right) if not ok]
    telling = [i for i in wrong if len(cases[i]["args"][0]) > 1 and len(cases[i]["init"]) > 1]
    return (telling or wrong)[0]


# -- forward --------------------------------------------------------------------------------------

def _forward_location(x: np.ndarray, student: np.ndarray, expected: np.ndarray) -> str:
    """Which inputs of one case the predictions are off at, when that says something."""
    bad = ~np.isclose(student, expected, rtol=RTOL, atol=RTOL * (1 + float(np.max(np.abs(expected)))))
    if 0 < bad.sum() < bad.size:
        if np.all(x[bad] < 0):
            return " Only the predictions for negative inputs x are off."
        if np.all(x[bad] > 0):
            return " Only the predictions for positive inputs x are off."
    return ""


def judge_forward(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``forward`` at depths 1 to 20."""
    problem = structural_problem(request, payload, "forward", describe)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        (x,) = _args(case)
        out = values(result.get("out"))
        if out is None:
            return fail(f"`forward` did not return numbers with {describe(case)}.")
        if out.shape != x.shape:
            return fail(
                f"`forward` returned shape {out.shape} for an input of shape {x.shape}: "
                "one prediction per input, shaped like x."
            )
        if _side_effect(case, result):
            return fail("`forward` is not a pure computation.", SIDE_EFFECT)
        student.append(out)
        expected.append(ref.forward(_w(case), x))
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        depths = f"{min(len(c['init']) for c in cases)} to {max(len(c['init']) for c in cases)}"
        return Verdict(
            1.0, f"`forward` is right at depths {depths}, negative weights included ({len(cases)} test cases)."
        )
    where = where_wrong(cases, [not ok for ok in right])
    outputs = []
    for case in cases:
        w, (x,) = _w(case), _args(case)
        outputs.append(np.stack([variant(w, x) for _, variant in FORWARD_MISTAKES]))
    found = match_shared(student, expected, outputs, [(m,) for m, _ in FORWARD_MISTAKES])
    if found:
        return fail(f"`forward` is wrong {where}.", *found)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"`forward` is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    first = _first_example(cases, right)
    (x,) = _args(cases[first])
    return fail(
        f"`forward` is wrong {where}. For example with {describe(cases[first])}, its predictions are "
        f"{how_far_off(student[first], expected[first])}.{_forward_location(x, student[first], expected[first])} "
        "Check by hand: with weights [2, -3, 0.5] and x = [1, 2] the predictions are [-3, -6]."
    )


# -- loss -------------------------------------------------------------------------------------------

def judge_loss(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss(y_p, y_t)``: half the mean squared error."""
    problem = structural_problem(request, payload, "loss", _describe_samples)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        y_p, y_t = _args(case)
        out = values(result.get("out"))
        if out is None or out.size != 1:
            return fail(
                f"`loss` should return one number; with {len(y_t)} samples it returned "
                f"{'something else' if out is None else f'shape {out.shape}'}."
            )
        student.append(out.reshape(()))
        expected.append(np.asarray(ref.loss(y_t, y_p)))
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        most = max(len(c["args"][0]) for c in cases)
        return Verdict(1.0, f"`loss` is right ({len(cases)} test cases, 1 to {most} samples).")
    where = where_wrong(cases, [not ok for ok in right], SAMPLE_KINDS)
    outputs = [np.array([float(variant(*_args(c))) for _, variant in LOSS_MISTAKES]) for c in cases]
    found = match_shared(student, expected, outputs, [(m,) for m, _ in LOSS_MISTAKES])
    if found:
        return fail(f"`loss` is wrong {where}.", *found)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"`loss` is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    first = _first_example(cases, right)
    return fail(
        f"`loss` is wrong {where}. For example with {_describe_samples(cases[first])}, it is "
        f"{how_far_off(student[first], expected[first])}. "
        "Check by hand: residuals [1, 2] give (1 + 4) / 2 / 2 = 1.25."
    )


# -- dloss_dw ---------------------------------------------------------------------------------------


def _gradients(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> tuple[list[np.ndarray], Verdict | None]:
    student = []
    for case, result in zip(cases, results):
        w, (x, _) = _w(case), _args(case)
        out = values(result.get("out"))
        if out is None:
            return [], fail(f"`dloss_dw` did not return numbers with {describe(case)}.")
        if out.size != w.size:
            if x.size in out.shape and x.size > 1:
                return [], fail("`dloss_dw` returned per-sample values.", PER_SAMPLE)
            return [], fail(
                f"`dloss_dw` should return one gradient per weight, shape ({w.size},), "
                f"with {describe(case)}; it returned shape {out.shape}."
            )
        if _side_effect(case, result):
            return [], fail("`dloss_dw` is not a pure computation.", SIDE_EFFECT)
        student.append(out.reshape(w.size))
    return student, None


def _non_finite(cases: list[dict[str, Any]], student: list[np.ndarray], expected: list[np.ndarray]) -> Verdict:
    """Explain nan or inf in the gradients: a division by a zero weight, a negative weight, or where it is."""
    bad = [~np.isfinite(s) for s in student]
    broken = [bool(np.any(b)) for b in bad]
    where = where_wrong(cases, broken)
    zeros = [_w(c) == 0 for c in cases]
    if any(np.any(z) for z in zeros) and all(np.array_equal(b, z) for b, z in zip(bad, zeros)):
        # nan exactly at the zero weights' own entries, in every case: 0/0, whatever else is wrong.
        rest = all(close(s[~b], e[~b]) for s, e, b in zip(student, expected, bad))
        also = "" if rest else " Its other entries are not all right either: compare them with finite differences."
        return fail(f"`dloss_dw` is not a number at the entries of the zero weights {where}.{also}", ZERO_DIVISION)
    negative = [bool(np.any(_w(c) < 0)) for c in cases]
    if any(negative) and not all(negative) and broken == negative:
        return fail(f"`dloss_dw` is not a number {where}.", NAN_NEGATIVE)
    first = broken.index(True)
    return fail(
        f"`dloss_dw` is not a number (nan or inf) {where}. For example with {describe(cases[first])}, "
        f"{which_entries(_w(cases[first]), bad[first])} nan or inf: {np.round(student[first], 4).tolist()}."
    )


def _slope_check(student: np.ndarray, expected: np.ndarray) -> str:
    """What finite differences of the loss (the right gradient) say about the student's gradient."""
    norm_s, norm_e = float(np.linalg.norm(student)), float(np.linalg.norm(expected))
    if norm_s == 0 or norm_e < 1e-9:
        return ""
    cosine = float(student @ expected) / (norm_s * norm_e)
    if cosine < 0:
        return "A small step against your gradient would raise the loss there, not lower it. "
    if cosine < 0.99:
        return "Your gradient does not point where the loss rises fastest there. "
    return ""


def _judge_gradients(request: dict[str, Any], payload: dict[str, Any] | None, hint: str, praise: str) -> Verdict:
    """The gradient judges' shared path: collect, compare, then name a mistake or say where and how much."""
    problem = structural_problem(request, payload, "dloss_dw", describe)
    if problem:
        return problem
    cases = request["cases"]
    student, verdict = _gradients(cases, payload["results"])  # type: ignore[index]
    if verdict:
        return verdict
    points = [(_w(c), *_args(c)) for c in cases]
    expected = [ref.gradients(w, x, y) for w, x, y in points]
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        return Verdict(1.0, f"`dloss_dw` is {praise} ({len(cases)} test cases).")
    if not all(np.all(np.isfinite(s)) for s in student):
        return _non_finite(cases, student, expected)
    where = where_wrong(cases, [not ok for ok in right])
    found = match_gradient(points, student, expected)
    if found:
        return fail(f"`dloss_dw` is wrong {where}.", *found)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"`dloss_dw` is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    first = _first_example(cases, right)
    s, e = student[first], expected[first]
    bad = ~np.isclose(s, e, rtol=RTOL, atol=RTOL * (1 + float(np.max(np.abs(e)))))
    return fail(
        f"`dloss_dw` is wrong {where}. For example with {describe(cases[first])}, "
        f"{which_entries(_w(cases[first]), bad)} off, and the gradient as a whole is {how_far_off(s, e)}. "
        f"{_slope_check(s, e)}{hint}"
    )


def judge_dloss_dw(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` at depths 1 to 20 with non-zero weights."""
    return _judge_gradients(
        request,
        payload,
        "Compare with finite differences of your loss (check_gradient_numerically).",
        "right at depths 1 to 20, negative weights included",
    )


def judge_zero_weight(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` where some weights are exactly 0."""
    return _judge_gradients(
        request,
        payload,
        "When w_k = 0, every gradient but the k-th contains w_k as a factor.",
        "right with zero weights (first, last, in the middle, two at once, depth 1)",
    )


# -- training ---------------------------------------------------------------------------------------


def _steps_say(case: dict[str, Any], path: np.ndarray, epoch: int, most: int = 12) -> str:
    """Name the gradient mistake the steps of a run reveal, from `epoch` on ("" when none is known).

    Each step ``path[i] -> path[i + 1]`` followed the student's gradient ``(path[i] - path[i + 1]) / lr`` at
    the weights ``path[i]`` their own run visited.
    """
    x, y = _args(case)
    lr = float(case["args"][2])
    points, implied = [], []
    with np.errstate(all="ignore"):
        for i in range(epoch, min(epoch + most, len(path) - 1)):
            g = (path[i] - path[i + 1]) / lr
            if not (np.all(np.isfinite(path[i])) and np.all(np.isfinite(g)) and np.max(np.abs(path[i])) < 1e6):
                break
            points.append((path[i], x, y))
            implied.append(g)
    if not points:
        return ""
    # A step is rounded to the weights' precision: match to a looser tolerance than the gradient test's.
    found = match_gradient(points, implied, rtol=1e-5)
    return f" Judging by the steps your run took: {' and '.join(m.title for m in found)}." if found else ""


def _fault(case: dict[str, Any], loss: np.ndarray, weights: np.ndarray) -> str:
    """Which method is at fault: each epoch is checked at the weights the student's own run started it from."""
    w, (x, y) = _w(case), _args(case)
    lr = float(case["args"][2])
    path = np.vstack([w, weights])
    if len(loss) == 0:
        return "It stopped before its first update: the fault is in dloss_dw (or forward, if it uses it)."
    with np.errstate(all="ignore"):
        for epoch in range(len(loss)):
            start = path[epoch]
            loss_ok = bool(np.isclose(loss[epoch], ref.loss(y, ref.forward(start, x)), rtol=TRAIN_RTOL, atol=1e-12))
            step = start - lr * ref.gradients(start, x, y)
            step_ok = bool(np.allclose(path[epoch + 1], step, rtol=TRAIN_RTOL, atol=1e-12))
            if not (loss_ok and step_ok):
                break
        else:
            return (
                "Every epoch is consistent with the weights it started from, but the run is not the reference's: "
                "is `train` unchanged, and does it start from the given weights?"
            )
    subject = "The very first loss" if epoch == 0 else f"The loss of epoch {epoch}"
    kept = (
        "" if epoch == 0 else " The epochs before it are right: does a method keep something from one call to the next?"
    )
    if not loss_ok and step_ok:
        return f"{subject} is wrong but its update is right: the fault is in forward or loss.{kept}"
    if not loss_ok:
        return (
            f"{subject} and its update are both wrong: look at forward first, and check that nothing but "
            f"`train` changes the weights.{kept}"
        )
    named = _steps_say(case, path, epoch)
    unless = "" if named else ", unless a method other than train changes self.w (they only compute)"
    return f"{subject} is right but its update is not: the fault is in dloss_dw{unless}.{named}{kept}"


def _how_far_run(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> str:
    """How far the end of a run is from the reference's, in words."""
    if not (np.all(np.isfinite(loss)) and np.all(np.isfinite(weights))):
        return "it stops being a number (nan or inf) on the way"
    gap = float(np.linalg.norm(weights[-1] - ref_weights[-1])) / float(np.linalg.norm(ref_weights[-1]))
    ratio = float(loss[-1]) / float(ref_loss[-1]) if ref_loss[-1] > 0 else float("inf")
    end_weights = "its weights end right" if gap < 1e-6 else f"its weights end off by {100 * gap:.3g}% of their size"
    end_loss = f"its loss {ratio:.4g} times the reference's" if abs(ratio - 1) >= 1e-3 else "its loss close to it"
    return f"{end_weights}, {end_loss}"


def judge_train(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge whole training runs (loss and weight records) against the reference run."""
    problem = structural_problem(request, payload, "train", describe)
    if problem:
        return problem
    first: dict[str, Any] | None = None
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        w, (x, y) = _w(case), _args(case)
        lr, n_ep = case["args"][2], case["args"][3]
        ref_loss, ref_weights = ref.train(w, x, y, lr, n_ep)
        out = result.get("out", {})
        items = out.get("items", []) if isinstance(out, dict) and out.get("length") == 2 else []
        loss, weights = (values(items[0]), values(items[1])) if items else (None, None)
        if loss is None or weights is None:
            return fail("`train` did not return (loss_records, weight_records) as numbers.")
        if _stopped_early(loss, weights, ref_loss, ref_weights):
            verdict = fail(
                f"Training with {describe(case)}, learning rate {lr}: your run stopped at epoch {len(loss)} of "
                f"{len(ref_loss)} (a gradient that is not finite: it diverged), the reference's did not. "
                + _fault(case, loss, weights)
            )
            verdict.curves = _curves(loss, weights, ref_loss, ref_weights)
            return verdict
        if loss.shape != ref_loss.shape or weights.shape != ref_weights.shape:
            return fail(
                f"Training with {describe(case)}, learning rate {lr}: the records have shapes {loss.shape} "
                f"and {weights.shape}, expected {ref_loss.shape} and {ref_weights.shape}. "
                "Does the run stop early (a gradient that is not finite)? Is `train` still as given?"
            )
        ok_loss = core_mistakes.close(loss, ref_loss, TRAIN_RTOL, 1e-3 + float(np.max(ref_loss)))
        ok_w = core_mistakes.close(weights, ref_weights, TRAIN_RTOL, 1 + float(np.max(np.abs(ref_weights))))
        if not (ok_loss and ok_w):
            with np.errstate(all="ignore"):
                bad_loss = ~np.isclose(loss, ref_loss, rtol=TRAIN_RTOL, atol=1e-12)
                bad_w = ~np.all(np.isclose(weights, ref_weights, rtol=TRAIN_RTOL, atol=1e-12), axis=1)
            bad = np.flatnonzero(bad_loss | bad_w)
            epoch = int(bad[0]) if bad.size else 0
            verdict = fail(
                f"Training with {describe(case)}, learning rate {lr}: the "
                f"{'loss curve' if not ok_loss else 'weight trajectory'} departs from the reference at epoch "
                f"{epoch} ({_how_far_run(loss, weights, ref_loss, ref_weights)}). " + _fault(case, loss, weights)
            )
            verdict.curves = _curves(loss, weights, ref_loss, ref_weights)  # the run that went wrong
            return verdict
        first = first or _curves(loss, weights, ref_loss, ref_weights)
    not_own = _not_the_notebook_s_own_run(request, payload)  # type: ignore[arg-type]
    if not_own:
        verdict = fail(not_own)
        verdict.curves = first
        return verdict
    return Verdict(
        1.0,
        f"The loss curves and weight trajectories of {len(request['cases'])} training runs match the reference.",
        curves=first,
    )


def _not_the_notebook_s_own_run(request: dict[str, Any], payload: dict[str, Any]) -> str | None:
    """Why the training cell's depth-10 run (the notebook's `weight_log`) is not the run on the student's data.

    The grader has just seen the student's `train` follow the reference; here it looks at what the
    training cell left.  Numbers typed in, or a run on another student's data, end elsewhere.
    """
    run = request.get("own_run")
    if run is None:
        return None
    found = payload.get("globals")
    record = found.get("weight_log") if isinstance(found, dict) else None
    own = values(record) if isinstance(record, dict) else None
    _, ref_weights = ref.train(_w(run), *_args(run), run["args"][2], run["args"][3])
    given = request.get("values", {})
    yours = ", ".join(f"{name} = {given[name]}" for name in sorted(given)) or "the training cell's values"
    if own is None or own.shape != ref_weights.shape:
        shape = "missing" if own is None else f"of shape {own.shape}, not {ref_weights.shape}"
        return (
            f"Your `train` is right, but the training cell's depth-{ref_weights.shape[1]} run (`weight_log`) is "
            f"{shape}. Run the training cell unchanged, then this test."
        )
    if core_mistakes.close(own[-1], ref_weights[-1], TRAIN_RTOL, 1.0):
        return None
    return (
        f"Your `train` is right, but the training cell's depth-{ref_weights.shape[1]} run (`weight_log`) does not "
        f"end where a run on your data ends (your data: {yours}). Run the training cell unchanged, with the data "
        "it prints for you: numbers typed in, or taken from another notebook, do not fit your data."
    )


def _stopped_early(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> bool:
    """The given `train` stopped at a gradient that is not finite, before the reference's run ends."""
    return (
        loss.ndim == 1 and weights.ndim == 2 and len(loss) == len(weights) < len(ref_loss)
        and weights.shape[1] == ref_weights.shape[1]
    )  # fmt: skip


def _curves(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> dict[str, Any]:
    """A run's records, for the feedback plot (:mod:`.plot`)."""
    return {"loss": loss.tolist(), "weights": weights.tolist(), "ref_loss": ref_loss.tolist(),
            "ref_weights": ref_weights.tolist()}  # fmt: skip
