"""Judges of ``03_depth_and_init``: the deep narrow network's methods against :mod:`.reference`.

Same contract as every judge (:mod:`autograder.core.verdict`); the typical mistakes are named by computing what each
wrong variant would have returned on the grader's inputs (:func:`autograder.core.mistakes.match_variant`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...core import mistakes
from ...core.mistakes import LOST_PRECISION, Catalogue, Mistake, match_variant
from ...core.verdict import TRAIN_RTOL, Verdict, close, fail, structural_problem, values
from . import reference as ref

MISTAKES = Catalogue("03_depth_and_init")
"""The mistakes this assignment names."""

Weights = np.ndarray


def describe(case: dict[str, Any]) -> str:
    w = np.asarray(case["init"], dtype=float)
    kinds = []
    if np.any(w < 0):
        kinds.append("negative weights")
    if np.any(w == 0):
        kinds.append("a zero weight")
    extra = f" ({', '.join(kinds)})" if kinds else ""
    return f"depth {w.size}, weights {np.round(w, 3).tolist()}{extra} and {len(case['args'][0])} sample(s)"


def _case(case: dict[str, Any]) -> tuple[Weights, None, np.ndarray, np.ndarray | None]:
    """``(w, None, x, y)``: the 4-tuple shape :func:`~autograder.core.mistakes.match_variant` expects (y None for forward)."""
    args = [np.array(a, dtype=float) for a in case["args"]]
    return np.asarray(case["init"], dtype=float), None, args[0], (args[1] if len(args) > 1 else None)


def _side_effect(case: dict[str, Any], result: dict[str, Any]) -> bool:
    after = result.get("state")
    if not isinstance(after, list) or not after or after[0] is None:
        return False
    return not np.array_equal(np.array(after[0], dtype=float), np.asarray(case["init"], dtype=float))


SIDE_EFFECT = MISTAKES.register(
    "deep_side_effect",
    "calling the method changed self.w",
    "forward, loss and dloss_dw only compute and return; train is the one place that updates the weights.",
)


def _compare(
    cases: list[dict[str, Any]],
    student: list[np.ndarray],
    expected: list[np.ndarray],
    variants: list[tuple[Mistake, Callable[..., Any]]],
    what: str,
    hint: str,
    praise: str = "right at depths {lo} to {hi}, negative weights included",
) -> Verdict:
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        depths = [len(c["init"]) for c in cases]
        return Verdict(1.0, f"`{what}` is {praise.format(lo=min(depths), hi=max(depths))} ({len(cases)} test cases).")
    message = f"`{what}` is wrong on {right.count(False)} of {len(cases)} test cases."
    mistake = match_variant([_case(c) for c in cases], student, variants, expected)
    if mistake:
        return fail(message, mistake)
    if all(close(s, e, 1e-3) for s, e in zip(student, expected)):
        return fail(message, LOST_PRECISION)
    first = right.index(False)
    return fail(f"{message} For example with {describe(cases[first])}. {hint}")


# -- forward --------------------------------------------------------------------------------------

FORWARD_MISTAKES: list[tuple[Mistake, Callable[..., Any]]] = [
    (
        MISTAKES.register(
            "deep_forward_sum",
            "the forward pass adds the weights (your outputs equal sum(w)·x)",
            "Layers compose by multiplication: each layer scales what it receives.",
        ),
        lambda w, _, x, y=None: np.sum(w) * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_first_weight",
            "the forward pass uses only the first weight",
            "Every one of the D layers scales the signal.",
        ),
        lambda w, _, x, y=None: w[0] * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_last_weight",
            "the forward pass uses only the last weight",
            "Every one of the D layers scales the signal.",
        ),
        lambda w, _, x, y=None: w[-1] * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_power",
            "the forward pass raises the first weight to the power D",
            "The weights are not all equal in general: multiply all of them.",
        ),
        lambda w, _, x, y=None: w[0] ** w.size * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_no_x",
            "the forward pass does not use x (every prediction is the product of the weights)",
            "The prediction for each input depends on that input.",
        ),
        lambda w, _, x, y=None: np.full_like(x, np.prod(w)),
    ),
    (
        MISTAKES.register(
            "deep_forward_abs",
            "the forward pass is right only when the product of the weights is positive",
            "Look for abs(): weights, and their product, can be negative.",
        ),
        lambda w, _, x, y=None: np.abs(np.prod(w)) * x,
    ),
]


def _shape_of(result: dict[str, Any]) -> tuple[int, ...] | None:
    out = values(result.get("out"))
    return None if out is None else out.shape


def judge_forward(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``forward`` at several depths."""
    problem = structural_problem(request, payload, "forward", describe)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        w, _, x, _ = _case(case)
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
        expected.append(ref.forward(w, x))
    return _compare(
        cases,
        student,
        expected,
        FORWARD_MISTAKES,
        "forward",
        "Check by hand: with weights [2, -3, 0.5] and x = [1, 2] the predictions are [-3, -6].",
    )


# -- loss -------------------------------------------------------------------------------------------

LOSS_MISTAKES: list[tuple[Mistake, Callable[..., Any]]] = [
    (
        MISTAKES.register(
            "deep_loss_full_mse",
            "the loss is twice the right value: the full mean squared error",
            "This network's loss is *half* the mean squared error, as its docstring says.",
        ),
        lambda w, _, yp, yt: np.mean((yt - yp) ** 2),
    ),
    (
        MISTAKES.register(
            "deep_loss_sum",
            "the loss is a sum over the samples where the mean belongs",
            "Average over the samples (and keep the factor 1/2).",
        ),
        lambda w, _, yp, yt: np.sum((yt - yp) ** 2) / 2,
    ),
    (
        MISTAKES.register(
            "deep_loss_full_sum",
            "the loss is the sum of squared errors, without the mean or the 1/2",
            "The loss is half the *mean* of the squared residuals.",
        ),
        lambda w, _, yp, yt: np.sum((yt - yp) ** 2),
    ),
    (
        MISTAKES.register(
            "deep_loss_quarter", "the loss is half the right value (halved twice)", "Take the factor 1/2 once."
        ),
        lambda w, _, yp, yt: np.mean((yt - yp) ** 2) / 4,
    ),
    (
        MISTAKES.register(
            "deep_loss_abs", "the loss uses absolute values instead of squares", "Square the residuals."
        ),
        lambda w, _, yp, yt: np.mean(np.abs(yt - yp)) / 2,
    ),
    (
        MISTAKES.register(
            "deep_loss_rmse",
            "the loss is a root-mean-square error",
            "No square root: half the mean of the squared residuals.",
        ),
        lambda w, _, yp, yt: np.sqrt(np.mean((yt - yp) ** 2)) / 2,
    ),
]


def judge_loss(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss(y_p, y_t)``: half the mean squared error."""
    problem = structural_problem(request, payload, "loss", describe)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        _, _, y_p, y_t = _case(case)
        out = values(result.get("out"))
        if out is None or out.size != 1:
            return fail(
                f"`loss` should return one number; with {len(y_t)} samples it returned "
                f"{'something else' if out is None else f'shape {out.shape}'}."
            )
        student.append(out.reshape(()))
        expected.append(np.asarray(ref.loss(y_t, y_p)))
    return _compare(
        cases,
        student,
        expected,
        LOSS_MISTAKES,
        "loss",
        "Check by hand: residuals [1, 2] give (1 + 4) / 2 / 2 = 1.25.",
        "right",
    )


# -- dloss_dw ---------------------------------------------------------------------------------------


def _m(x: np.ndarray, y: np.ndarray, w: Weights) -> float:
    return float(np.mean(x * (y - np.prod(w) * x)))


GRADIENT_MISTAKES: list[tuple[Mistake, Callable[..., Any]]] = [
    (
        MISTAKES.register(
            "deep_grad_sign",
            "the gradient has the right size but the wrong sign",
            "The inner derivative of (y − ŷ) with respect to a weight carries a minus sign; a small step "
            "against your gradient should lower the loss.",
        ),
        lambda w, _, x, y: -ref.gradients(w, x, y),
    ),
    (
        MISTAKES.register(
            "deep_grad_factor_2",
            "the gradient is twice the right value (the gradient of the full squared error)",
            "This loss is *half* the mean squared error: the 1/2 cancels the 2 from the square.",
        ),
        lambda w, _, x, y: 2 * ref.gradients(w, x, y),
    ),
    (
        MISTAKES.register(
            "deep_grad_half",
            "the gradient is half the right value",
            "The 1/2 of the loss and the 2 from the square cancel: neither is left over.",
        ),
        lambda w, _, x, y: 0.5 * ref.gradients(w, x, y),
    ),
    (
        MISTAKES.register(
            "deep_grad_sum_not_mean",
            "the gradient is n times too large (a sum where the mean belongs)",
            "The loss is a mean over the samples, so its gradient is a mean too.",
        ),
        lambda w, _, x, y: len(x) * ref.gradients(w, x, y),
    ),
    (
        MISTAKES.register(
            "deep_grad_missing_x",
            "the factor x is missing from the gradient",
            "ŷ = (product of the weights)·x: its derivative with respect to a weight keeps the x.",
        ),
        lambda w, _, x, y: -float(np.mean(y - np.prod(w) * x)) * ref.others_product(w),
    ),
    (
        MISTAKES.register(
            "deep_grad_no_division",
            "every weight gets the same gradient, with the product of *all* the weights",
            "The derivative of the product with respect to w_k leaves out w_k itself.",
        ),
        lambda w, _, x, y: np.full(w.size, -_m(x, y, w) * float(np.prod(w))),
    ),
    (
        MISTAKES.register(
            "deep_grad_times_weight",
            "the product is multiplied by w_k where it should leave w_k out",
            "The derivative of the product with respect to w_k is the product of the *other* weights.",
        ),
        lambda w, _, x, y: -_m(x, y, w) * float(np.prod(w)) * w,
    ),
    (
        MISTAKES.register(
            "deep_grad_wrong_weight",
            "the product of the weights is divided by the first weight for every k",
            "Each gradient leaves out its *own* weight: the k-th one leaves out w_k.",
        ),
        lambda w, _, x, y: np.full(w.size, -_m(x, y, w) * ref.others_product(w)[0]),
    ),
    (
        MISTAKES.register(
            "deep_grad_reversed",
            "the gradients come out in reverse order (each leaves out the mirrored weight)",
            "The k-th gradient leaves out w_k: check your indexing.",
        ),
        lambda w, _, x, y: -_m(x, y, w) * ref.others_product(w)[::-1],
    ),
    (
        MISTAKES.register(
            "deep_grad_prediction_for_residual",
            "the prediction is used where the residual (y − ŷ) belongs",
            "The derivative of the squared error involves the error, the difference between target and prediction.",
        ),
        lambda w, _, x, y: -float(np.mean(x * np.prod(w) * x)) * ref.others_product(w),
    ),
    (
        MISTAKES.register(
            "deep_grad_target_for_residual",
            "the target y is used where the residual (y − ŷ) belongs",
            "The derivative of the squared error involves the error, the difference between target and prediction.",
        ),
        lambda w, _, x, y: -float(np.mean(x * y)) * ref.others_product(w),
    ),
]

ZERO_DIVISION = MISTAKES.register(
    "deep_grad_zero_division",
    "the gradient is nan or inf when a weight is 0 (the product divided by w_k)",
    "prod(w) / w_k is 0/0 when w_k = 0. Compute the product of the other weights directly, e.g. the "
    "product of the weights with w_k replaced by 1.",
)
PER_SAMPLE = MISTAKES.register(
    "deep_grad_per_sample",
    "one gradient per sample was returned instead of the mean gradient",
    "dloss_dw returns D numbers, one per weight: average over the samples.",
)


def _gradients(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> tuple[list[np.ndarray], Verdict | None]:
    student = []
    for case, result in zip(cases, results):
        w, _, x, _ = _case(case)
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


def _expected_gradient(case: dict[str, Any]) -> np.ndarray:
    w, _, x, y = _case(case)
    return ref.gradients(w, x, y)


def _judge_gradients(
    request: dict[str, Any],
    payload: dict[str, Any] | None,
    hint: str,
    *praise: str,
    first: Callable[[list[dict[str, Any]], list[np.ndarray]], Verdict | None] | None = None,
) -> Verdict:
    """The gradient judges' shared path: collect, then an optional first check, then compare."""
    problem = structural_problem(request, payload, "dloss_dw", describe)
    if problem:
        return problem
    cases = request["cases"]
    student, verdict = _gradients(cases, payload["results"])  # type: ignore[index]
    if verdict:
        return verdict
    if first is not None:
        verdict = first(cases, student)
        if verdict:
            return verdict
    expected = [_expected_gradient(c) for c in cases]
    return _compare(cases, student, expected, GRADIENT_MISTAKES, "dloss_dw", hint, *praise)


def judge_dloss_dw(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` at several depths with non-zero weights."""
    return _judge_gradients(
        request, payload, "Compare with finite differences of your loss (check_gradient_numerically)."
    )


def _non_finite(cases: list[dict[str, Any]], student: list[np.ndarray]) -> Verdict | None:
    """nan or inf where a weight is 0: the product divided by that weight."""
    for case, s in zip(cases, student):
        if not np.all(np.isfinite(s)):
            return fail(f"With {describe(case)}, `dloss_dw` returned {np.round(s, 4).tolist()}.", ZERO_DIVISION)
    return None


def judge_zero_weight(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` where some weights are exactly 0."""
    return _judge_gradients(
        request,
        payload,
        "When w_k = 0, every gradient but the k-th contains w_k as a factor.",
        "right with zero weights",
        first=_non_finite,
    )


# -- training ---------------------------------------------------------------------------------------


def judge_train(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge whole training runs (loss and weight records) against the reference run."""
    problem = structural_problem(request, payload, "train", describe)
    if problem:
        return problem
    first: dict[str, Any] | None = None
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        w, _, x, y = _case(case)
        lr, n_ep = case["args"][2], case["args"][3]
        ref_loss, ref_weights = ref.train(w, x, y, lr, n_ep)
        out = result.get("out", {})
        items = out.get("items", []) if isinstance(out, dict) and out.get("length") == 2 else []
        loss, weights = (values(items[0]), values(items[1])) if items else (None, None)
        if loss is None or weights is None:
            return fail("`train` did not return (loss_records, weight_records) as numbers.")
        if loss.shape != ref_loss.shape or weights.shape != ref_weights.shape:
            return fail(
                f"Training with {describe(case)}, learning rate {lr}: the records have shapes {loss.shape} "
                f"and {weights.shape}, expected {ref_loss.shape} and {ref_weights.shape}. "
                "Does the run stop early (a gradient that is not finite)? Is `train` still as given?"
            )
        ok_loss = mistakes.close(loss, ref_loss, TRAIN_RTOL, 1e-3 + float(np.max(ref_loss)))
        ok_w = mistakes.close(weights, ref_weights, TRAIN_RTOL, 1 + float(np.max(np.abs(ref_weights))))
        if not (ok_loss and ok_w):
            if not np.isclose(loss[0], ref_loss[0], rtol=TRAIN_RTOL):
                where = "The very first loss is already wrong: the fault is in forward or loss."
            elif not np.allclose(weights[0], w - lr * ref.gradients(w, x, y), rtol=TRAIN_RTOL, atol=1e-12):
                where = "The first loss is right but the first update is not: the fault is in dloss_dw."
            else:
                where = "The first epoch is right and later ones are not: do your methods keep state between calls?"
            verdict = fail(
                f"Training with {describe(case)}, learning rate {lr}: the "
                f"{'loss curve' if not ok_loss else 'weight trajectory'} departs from the reference. {where}"
            )
            verdict.curves = _curves(loss, weights, ref_loss, ref_weights)  # the run that went wrong
            return verdict
        first = first or _curves(loss, weights, ref_loss, ref_weights)
    return Verdict(
        1.0,
        f"The loss curves and weight trajectories of {len(request['cases'])} training runs match the reference.",
        curves=first,
    )


def _curves(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> dict[str, Any]:
    """A run's records, for the feedback plot (:mod:`.plot`)."""
    return {"loss": loss.tolist(), "weights": weights.tolist(), "ref_loss": ref_loss.tolist(),
            "ref_weights": ref_weights.tolist()}  # fmt: skip
