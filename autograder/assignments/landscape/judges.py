"""Judges of ``02_learning_landscape``: compare collected data with :mod:`.reference`.

Same contract as every judge (:mod:`autograder.core.verdict`): ``(request, payload) -> Verdict``, a missing or
malformed payload scores 0, and a wrong answer is explained without printing the formula:

- by a known mistake (:mod:`.mistakes`, and the shallow model's gradient slips), named only when it alone
  explains every case the student got wrong: where two mistakes give the same numbers, neither is named;
- otherwise by which output is off, on which inputs (a pattern when there is one: "where w1 is negative",
  "near the line but not on it", "at the unbalanced minima"), and by how much.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...core.explain import how_far_off, where_pattern
from ...core.mistakes import LOST_PRECISION, Mistake, match_outputs, near, unique_mistake
from ...core.verdict import PRECISION_RTOL, RTOL, Verdict, close, fail, structural_problem, values
from ...models import shallow as reference
from ...models import shallow_mistakes
from . import reference as ref
from .mistakes import (
    LOSS_MISTAKES,
    NEAR_LINE,
    TRANSPOSED,
    UNFILLED,
    gradient_variants,
    line_distance,
    lr_explanations,
    saddle_explanations,
)

LR_RTOL = 1e-3
"""Relative tolerance on the largest learning rate (a numerical Hessian or a careful search gets there)."""


# -- the grids: loss_grid and loss_gradient --------------------------------------------------------


def _grid_case(case: dict[str, Any]) -> str:
    w1 = np.array(case["args"][0], dtype=float)
    return f"a grid of shape {w1.shape} and {len(case['args'][2])} sample(s)"


def _arrays(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.array(a, dtype=float) for a in case["args"][:4])  # type: ignore[return-value]


def _position_patterns(cases: list[dict[str, Any]]) -> list[tuple[str, list[bool]]]:
    """Kinds of grid point a mistake may show on only, over every point of every grid."""
    points = [(w1, w2, len(c["args"][2])) for c in cases for w1, w2 in zip(*(np.ravel(a) for a in _arrays(c)[:2]))]
    kinds: list[tuple[str, Callable[[float, float, int], bool]]] = [
        ("where w1 is negative", lambda w1, w2, n: w1 < 0),
        ("where w2 is negative", lambda w1, w2, n: w2 < 0),
        ("where exactly one weight is negative", lambda w1, w2, n: (w1 < 0) != (w2 < 0)),
        ("where both weights are negative", lambda w1, w2, n: w1 < 0 and w2 < 0),
        ("where a weight is negative", lambda w1, w2, n: w1 < 0 or w2 < 0),
        ("where a weight is zero", lambda w1, w2, n: w1 == 0 or w2 == 0),
        ("where no weight is zero", lambda w1, w2, n: w1 != 0 and w2 != 0),
        ("where w1 is not zero", lambda w1, w2, n: w1 != 0),
        ("where w2 is not zero", lambda w1, w2, n: w2 != 0),
        ("with a single sample", lambda w1, w2, n: n == 1),
        ("with more than one sample", lambda w1, w2, n: n > 1),
    ]
    return [(phrase, [holds(*p) for p in points]) for phrase, holds in kinds]


def _entries_close(student: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Entry by entry, whether a grid output is right (the tolerance of :func:`~autograder.core.verdict.close`)."""
    return np.isclose(student, expected, rtol=RTOL, atol=RTOL * (1 + float(np.max(np.abs(expected)))))


def _unfilled(student: list[np.ndarray], expected: list[np.ndarray], cases: list[dict[str, Any]]) -> str | None:
    """Where loops left whole rows or columns at a starting value, if that explains every wrong grid."""
    fill: float | None = None
    example = ""
    for s, e, case in zip(student, expected, cases):
        bad = ~_entries_close(s, e)
        if not bad.any():
            continue
        values_there = s[bad]
        if not np.all(np.isfinite(values_there)) or np.ptp(values_there) != 0:
            return None
        if fill is None:
            fill = float(values_there[0])
        elif float(values_there[0]) != fill:
            return None
        rows, cols = np.all(s == fill, axis=1), np.all(s == fill, axis=0)
        if np.any(bad & ~(rows[:, None] | cols[None, :])):
            return None  # a wrong value outside the rows and columns left at the starting value
        if bad.all() or example:
            continue
        parts = []
        if rows.any() and not rows.all():
            parts.append(f"row(s) {np.flatnonzero(rows).tolist()} of {len(rows)}")
        if cols.any() and not cols.all():
            parts.append(f"column(s) {np.flatnonzero(cols).tolist()} of {len(cols)}")
        example = f"With {_grid_case(case)}, {' and '.join(parts)} keep the value {fill:.3g}."
    return example or None  # only a grid that is partly right shows the loops' bounds


def _grid_fallback(
    what: str,
    cases: list[dict[str, Any]],
    student: list[np.ndarray],
    expected: list[np.ndarray],
    hint: str,
    output: str = "value",
) -> Verdict:
    """Say which output is off, at which grid points, and by how much (no known mistake fits)."""
    masks = [~_entries_close(s, e) for s, e in zip(student, expected)]
    wrong = [bool(b) for m in masks for b in m.ravel()]
    pattern = where_pattern(wrong, _position_patterns(cases), "at every grid point of every grid")
    where = f"at {sum(wrong)} of {len(wrong)} grid points" + (f": {pattern}" if pattern else "")
    first = next(i for i, m in enumerate(masks) if m.any())
    s, e = student[first], expected[first]
    with np.errstate(invalid="ignore"):
        gaps = np.where(masks[first], np.abs(s - e), -1.0)
    worst = np.unravel_index(int(np.nanargmax(np.nan_to_num(gaps, nan=np.inf))), s.shape)
    w1, w2 = (float(a[worst]) for a in _arrays(cases[first])[:2])
    scale = float(np.max(np.abs(e))) if output != "loss" else None
    detail = how_far_off(float(s[worst]), float(e[worst]), scale)
    extra = ""
    if np.ptp(np.concatenate([x.ravel() for x in student])) == 0:
        extra = f" Every {output} you return is {float(student[0].ravel()[0]):.4g}, whatever the grid."
    elif output == "loss" and any(np.any(x < 0) for x in student):
        extra = " Some of your values are negative, which a mean of squares cannot be."
    return fail(
        f"{what} is wrong {where}. With {_grid_case(cases[first])}, the worst is at grid point "
        f"{tuple(int(i) for i in worst)} (w1 = {w1:.3g}, w2 = {w2:.3g}): your {output} there is {detail}.{extra} {hint}"
    )


# -- loss_grid ------------------------------------------------------------------------------------


def _shape_problem(case: dict[str, Any], got: np.ndarray, want: np.ndarray, what: str) -> Verdict:
    """A result of the wrong shape: transposed values are named, anything else is described."""
    if got.shape == want.shape[::-1] and close(got.T, want):
        return fail(f"{what} returned the right numbers in the wrong layout, with {_grid_case(case)}.", TRANSPOSED)
    return fail(
        f"{what} returned shape {got.shape} for {_grid_case(case)}: it should return one value per grid point, "
        "an array shaped like W1."
    )


def _transposed(student: list[np.ndarray], expected: list[np.ndarray]) -> bool:
    """Every wrong grid is square and right once transposed (non-square ones fail on their shape)."""
    wrong = [(s, e) for s, e in zip(student, expected) if not close(s, e)]
    return bool(wrong) and all(s.shape[0] == s.shape[-1] and close(s.T, e) for s, e in wrong)


def _grid_mistake(
    what: str, cases: list[dict[str, Any]], student: list[np.ndarray], expected: list[np.ndarray]
) -> Verdict | None:
    """The grid-level mistakes of any grid output: transposed, unfilled rows or columns, lost precision."""
    if _transposed(student, expected):
        return fail(f"{what} is wrong on the square grid(s) only.", TRANSPOSED)
    unfilled = _unfilled(student, expected, cases)
    if unfilled:
        return fail(f"{what} is wrong on whole rows or columns of the grid. {unfilled}", UNFILLED)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"{what} is only approximately right: off in the later digits.", LOST_PRECISION)
    return None


def judge_loss_grid(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss_grid`` on grids of the grader's choosing."""
    problem = structural_problem(request, payload, "loss_grid", _grid_case)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        want = ref.loss_grid(*_arrays(case))
        got = values(result.get("out"))
        if got is None:
            return fail(f"`loss_grid` did not return numbers with {_grid_case(case)}.")
        if got.shape != want.shape:
            return _shape_problem(case, got, want, "`loss_grid`")
        student.append(got)
        expected.append(want)
    if all(close(s, e) for s, e in zip(student, expected)):
        return Verdict(1.0, f"`loss_grid` is right on all {len(cases)} grids.")
    what = "`loss_grid`"
    wrong = sum(not close(s, e) for s, e in zip(student, expected))
    arrays = [_arrays(c) for c in cases]
    variants = [(m, lambda i, f=f: f(*arrays[i])) for m, f in LOSS_MISTAKES]
    mistake = match_outputs(student, expected, variants)
    if mistake:
        return fail(f"{what} is wrong on {wrong} of {len(cases)} grids.", *mistake)
    known = _grid_mistake(what, cases, student, expected)
    if known:
        return known
    return _grid_fallback(
        what,
        cases,
        student,
        expected,
        "Check one grid point by hand: with W1 = [[2.0]], W2 = [[-1.0]], x = [1, 2], y = [0, 0] the loss is "
        "(4 + 16) / 2 = 10.",
        output="loss",
    )


# -- loss_gradient -------------------------------------------------------------------------------


def _pair(
    result: dict[str, Any], shape: tuple[int, ...], case: dict[str, Any], want: np.ndarray
) -> tuple[np.ndarray | None, Verdict | None]:
    """The two gradient grids the student returned, stacked; or the verdict that says why they cannot be judged."""
    out = result.get("out", {})
    if not isinstance(out, dict) or "items" not in out or out.get("length") != 2:
        return None, fail("`loss_gradient` must return a pair (dL_dW1, dL_dW2).")
    parts = [values(item) for item in out["items"]]
    if any(p is None for p in parts):
        return None, fail("`loss_gradient` returned something that is not numbers.")
    if any(p.shape != shape for p in parts):  # type: ignore[union-attr]
        got = [p.shape for p in parts]  # type: ignore[union-attr]
        if all(p.shape == shape[::-1] and close(p.T, w) for p, w in zip(parts, want)):  # type: ignore[union-attr]
            layout = f"`loss_gradient` returned the right numbers in the wrong layout, with {_grid_case(case)}."
            return None, fail(layout, TRANSPOSED)
        return None, fail(
            f"with {_grid_case(case)}, each of the two gradients should have the grid's shape {shape}; "
            f"`loss_gradient` returned shapes {got}."
        )
    return np.stack(parts), None  # type: ignore[arg-type]


def _titles(mistakes: Sequence[Mistake]) -> str:
    return " and ".join(m.title for m in mistakes)


def _forms_message(forms: list[tuple[Mistake, ...] | None]) -> tuple[str, list[Mistake]] | None:
    """What the gradient forms say, when they explain every wrong component; else None."""
    first, second = forms
    if first is None or second is None or (not first and not second):
        return None  # a component no known slip explains: naming the other's would not explain every case
    if first == second:
        return "", list(first)
    mistakes: list[Mistake] = []
    for found in (first, second):
        mistakes.extend(m for m in found if m not in mistakes)
    states = []
    for name, found in (("dL_dW1", first), ("dL_dW2", second)):
        if not found:
            states.append(f"{name} is right")
        elif first and second:
            states.append(f"{name} is wrong ({_titles(found)})")
        else:
            states.append(f"{name} is wrong")
    return "; ".join(states) + ".", mistakes


def _slope_check(w1: float, w2: float, x: np.ndarray, y: np.ndarray, pair: np.ndarray) -> str:
    """What a finite difference of the loss says about the student's gradient at one point."""
    found = reference.compare_with_slope(w1, w2, x, y, pair)
    if found is None:
        return ""
    finding, ratio = found
    prefix = "A finite difference of the loss there shows that"
    if finding == "uphill":
        return f" {prefix} a small step against your gradient would raise the loss, not lower it."
    if finding == "scaled":
        return f" {prefix} your gradient points the right way but is {ratio:.3g} times as long as it should be."
    return f" {prefix} your gradient does not point where the loss rises fastest."


def _points_close(student: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> np.ndarray:
    """Row by row, what :func:`autograder.core.verdict.close` says of each point's values (vectorised)."""
    scale = 1 + np.max(np.abs(expected), axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        near = np.abs(student - expected) <= rtol * scale + rtol * np.abs(expected)
    return np.all(near & np.isfinite(student), axis=1)


def judge_gradient(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss_gradient`` at every point of the grader's grids; diagnose with the shallow model's slips."""
    problem = structural_problem(request, payload, "loss_gradient", _grid_case)
    if problem:
        return problem
    cases = request["cases"]
    grids, wants = [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        w1, w2, x, y = _arrays(case)
        want = np.stack(ref.gradient_grid(w1, w2, x, y))
        pair, why = _pair(result, w1.shape, case, want)
        if why is not None:
            return why
        grids.append(pair)
        wants.append(want)
    total = sum(w1.size for w1 in (np.asarray(c["args"][0]) for c in cases))
    if all(close(s, e) for s, e in zip(grids, wants)):
        return Verdict(1.0, f"`loss_gradient` is right at all {total} grid points, negative and zero weights included.")
    what = "`loss_gradient`"
    points = []
    for case in cases:
        w1, w2, x, y = _arrays(case)  # one x and y per grid: gradient_forms computes a grid's points together
        points += [(float(a), float(b), x, y) for a, b in zip(w1.ravel(), w2.ravel())]
    student = np.concatenate([g.reshape(2, -1).T for g in grids])  # (points, 2)
    expected = np.concatenate([w.reshape(2, -1).T for w in wants])
    right = _points_close(student, expected).tolist()
    message = f"{what} is wrong at {right.count(False)} of {len(points)} grid points."
    explained = _forms_message(shallow_mistakes.gradient_forms(points, student, unique=True))
    if explained is not None:
        detail, mistakes = explained
        return fail(f"{message} {detail}".rstrip(), *mistakes)
    per_case = [gradient_variants(*_arrays(c)) for c in cases]
    variants = [(m, lambda i, k=k: per_case[i][k][1]) for k, (m, _) in enumerate(per_case[0])]
    found = match_outputs(grids, wants, variants)
    if found:
        return fail(message, *found)
    components = [[g[k] for g in grids] for k in (0, 1)]
    component_wants = [[w[k] for w in wants] for k in (0, 1)]
    known = _grid_mistake(what, cases + cases, components[0] + components[1], component_wants[0] + component_wants[1])
    if known:
        return known
    ok = [_points_close(student[:, k : k + 1], expected[:, k : k + 1]).tolist() for k in (0, 1)]
    patterns = _position_patterns(cases)
    states = []
    for k, name in enumerate(("dL_dW1", "dL_dW2")):
        if all(ok[k]):
            states.append(f"{name} is right")
        else:
            pattern = where_pattern([not o for o in ok[k]], patterns, "at every grid point")
            where = f" ({pattern})" if pattern else ""
            states.append(f"{name} is wrong at {ok[k].count(False)} of {len(points)} grid points{where}")
    first = right.index(False)
    w1, w2, x, y = points[first]
    sizes = "; ".join(
        f"dL_dW{k + 1} is {how_far_off(float(student[first][k]), float(expected[first][k]))}"
        for k in (0, 1)
        if not ok[k][first]
    )
    return fail(
        f"{what}: {'; '.join(states)}. For example at w1 = {w1:.3g}, w2 = {w2:.3g} with {len(x)} sample(s), {sizes}."
        f"{_slope_check(w1, w2, x, y, student[first])} Compare your gradient with a finite difference of the loss, "
        "(L(w1 + h, w2) − L(w1 − h, w2)) / 2h with h = 1e-6, at a few points of the grid."
    )


# -- ends_at_saddle -------------------------------------------------------------------------------


def _point_case(case: dict[str, Any]) -> str:
    w1, w2, a = case["args"]
    return f"w1 = {w1:.6g}, w2 = {w2:.6g} and slope a = {a:.3g}"


SADDLE_KINDS = (
    "on the line that flows into the saddle",
    "at the saddle (0, 0) itself",
    "on the other diagonal",
    f"near the line into the saddle (within {NEAR_LINE}) but not on it",
    "with a zero weight",
    "elsewhere",
)
"""The situations a starting point stands for, as the feedback names them (in this order)."""


def _saddle_kind(w1: float, w2: float, a: float) -> str:
    """Which of :data:`SADDLE_KINDS` a starting point stands for."""
    on_line, on_origin, other_diagonal, near, zero_weight, elsewhere = SADDLE_KINDS
    if w1 == 0 and w2 == 0:
        return on_origin
    if line_distance(w1, w2, a) == 0:
        return on_line
    if abs(w1) == abs(w2):
        return other_diagonal
    if line_distance(w1, w2, a) <= NEAR_LINE:
        return near
    if w1 == 0 or w2 == 0:
        return zero_weight
    return elsewhere


def _saddle_where(args: list[tuple[float, float, float]], said: list[bool], truth: list[bool]) -> str:
    """On which kinds of starting point, and for which sign of the slope, the answers are wrong."""
    counts: dict[str, list[int]] = {kind: [0, 0] for kind in SADDLE_KINDS}
    for p, s, t in zip(args, said, truth):
        tally = counts[_saddle_kind(*p)]
        tally[0] += s != t
        tally[1] += 1
    parts = [f"{bad} of {n} {kind}" for kind, (bad, n) in counts.items() if bad]
    signs = {float(np.sign(p[2])) for p, s, t in zip(args, said, truth) if s != t}
    if len(signs) == 1:
        parts.append(f"only where the slope is {'positive' if signs == {1.0} else 'negative'}")
    return "; ".join(parts)


SADDLE_RUN = {"lr": 0.05, "n_ep": 3000, "x": np.linspace(0.0, 1.0, 10)}
"""The training run the feedback describes (noiseless data y = a·x)."""


def judge_saddle(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``ends_at_saddle`` on starting points on, near and off the line that flows into the saddle."""
    problem = structural_problem(request, payload, "ends_at_saddle", _point_case)
    if problem:
        return problem
    args, said = [], []
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        got = values(result.get("out"))
        if got is None or got.size != 1 or float(got.ravel()[0]) not in (0.0, 1.0):
            return fail(f"`ends_at_saddle` should return True or False; with {_point_case(case)} it did not.")
        args.append(tuple(float(v) for v in case["args"]))
        said.append(bool(got.ravel()[0]))
    truth = [ref.ends_at_saddle(*p) for p in args]
    total = len(args)
    if said == truth:
        return Verdict(
            1.0,
            f"`ends_at_saddle` is right on all {total} starting points: on, near and off the line into the saddle, "
            "for data of both signs of slope.",
        )
    wrong = [i for i in range(total) if said[i] != truth[i]]
    where = _saddle_where(args, said, truth)
    message = f"`ends_at_saddle` is wrong on {len(wrong)} of {total} starting points ({where})."
    mistakes = unique_mistake(saddle_explanations(args, said))
    if mistakes:
        return fail(message, *mistakes)
    w1, w2, a = args[wrong[0]]
    x = SADDLE_RUN["x"]
    if truth[wrong[0]]:
        outcome = "ends at the saddle (0, 0)"
    else:
        s = float(np.mean(x * x))  # noiseless data y = a·x: the mean of x·y is a·s
        end = ref.descend_end(w1, w2, s, a * s, SADDLE_RUN["lr"], SADDLE_RUN["n_ep"])
        outcome = f"ends at ({end[0]:.3g}, {end[1]:.3g}), on the valley of minima, not at the saddle"
    return fail(
        f"{message} For example from w1 = {w1:.6g}, w2 = {w2:.6g} with slope a = {a:.3g}, your function says "
        f"{said[wrong[0]]}, but gradient descent (learning rate {SADDLE_RUN['lr']}, {SADDLE_RUN['n_ep']} epochs) "
        f"{outcome}. Look at the trajectories that end at (0, 0) in the landscape plot: what do their starting "
        "points have in common, and what changes when the slope's sign flips?"
    )


# -- max_stable_lr --------------------------------------------------------------------------------


def _minimum_case(case: dict[str, Any]) -> str:
    w1, w2 = case["args"][:2]
    return f"the minimum w1 = {w1:.4g}, w2 = {w2:.4g} ({len(case['args'][2])} samples)"


def _minimum_patterns(cases: list[dict[str, Any]]) -> list[tuple[str, list[bool]]]:
    """Kinds of minimum a mistake may show on only."""
    w = [(float(c["args"][0]), float(c["args"][1])) for c in cases]
    balanced = [near(abs(a), abs(b), 1e-6) for a, b in w]
    return [
        ("where |w1| = |w2| (balanced minima)", balanced),
        ("where |w1| ≠ |w2| (unbalanced minima)", [not b for b in balanced]),
        ("where the data's slope is positive", [a * b > 0 for a, b in w]),
        ("where the data's slope is negative", [a * b < 0 for a, b in w]),
        ("where |w1| > |w2|", [abs(a) > abs(b) and not bal for (a, b), bal in zip(w, balanced)]),
        ("where |w1| < |w2|", [abs(a) < abs(b) and not bal for (a, b), bal in zip(w, balanced)]),
    ]


def judge_max_lr(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``max_stable_lr`` against ``2 / λ_max`` and, in the message, against training runs."""
    problem = structural_problem(request, payload, "max_stable_lr", _minimum_case)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        got = values(result.get("out"))
        if got is None or got.size != 1:
            return fail(f"`max_stable_lr` should return one number; with {_minimum_case(case)} it did not.")
        student.append(float(got.ravel()[0]))
        expected.append(ref.max_stable_lr(*_arrays(case)))
    right = [near(s, e, LR_RTOL) for s, e in zip(student, expected)]
    if all(right):
        return Verdict(
            1.0,
            f"`max_stable_lr` is right at all {len(cases)} minima, and training runs agree: "
            "just below it they converge, just above it they do not.",
        )
    pattern = where_pattern([not r for r in right], _minimum_patterns(cases), "")
    where = f" ({pattern})" if pattern else ""
    message = f"`max_stable_lr` is wrong at {right.count(False)} of {len(cases)} minima{where}."
    mistakes = lr_explanations([_arrays(c) for c in cases], student, expected)
    if mistakes:
        return fail(message, *mistakes)
    first = right.index(False)
    w1, w2, x, y = _arrays(cases[first])
    lr = student[first]
    if not np.isfinite(lr) or lr <= 0:
        return fail(
            f"{message} At {_minimum_case(cases[first])} it returned {lr:.4g}: a learning rate is a positive number."
        )
    size = f"your value is {how_far_off(lr, expected[first])}"
    if ref.converges_near(w1, w2, x, y, 1.02 * lr):
        evidence = (
            f"training from next to it with 1.02 × your value ({1.02 * lr:.4g}) still converges, so yours is too small"
        )
    elif not ref.converges_near(w1, w2, x, y, 0.98 * lr):
        evidence = (
            f"training from next to it with 0.98 × your value ({0.98 * lr:.4g}) does not converge, "
            "so yours is too large"
        )
    else:
        evidence = "your value is within 2% but not within 0.1%"
    return fail(
        f"{message} At {_minimum_case(cases[first])}, {size}: {evidence}. Compute the curvature (the Hessian) "
        "there and use its largest eigenvalue."
    )
