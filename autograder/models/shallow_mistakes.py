"""The typical mistakes in the shallow narrow network's forward pass and gradient.

Shared by every assignment built on :mod:`autograder.models.shallow` (01 and 02).

The forward pass has a short list of wrong variants (:data:`FORWARD_MISTAKES`).
The gradient is diagnosed one component at a time (``dloss_dw1``, then
``dloss_dw2``) against every *combination* of the typical slips
(:data:`GRADIENT_SLOTS`: the factor 2, the sign, mean or sum, what stands where
the residual belongs, the power of x, which weight), so that "sign flipped and
the 2 missing" is recognised as those two mistakes, and a student with one
right and one wrong gradient is told which is which.  The combination with the
fewest slips that reproduces the student's numbers wins.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..core.mistakes import Array, Catalogue, Mistake
from . import shallow as reference

ForwardVariant = Callable[[float, float, Array], Array]
GradientVariant = Callable[[float, float, Array, Array], tuple[float, float]]
Case = tuple[float, float, Array, "Array | None"]

MISTAKES = Catalogue("the shallow narrow network")
"""Every mistake of the shallow model's forward pass and gradient."""


# -- the forward pass ----------------------------------------------------------------------

_BOTH_WEIGHTS = "The network has two layers and each scales what it receives by its weight: both weights appear."

FORWARD_DROPS_W2 = MISTAKES.register("forward_drops_w2", "the forward pass ignores w2 (your outputs equal w1·x)", _BOTH_WEIGHTS)
FORWARD_DROPS_W1 = MISTAKES.register("forward_drops_w1", "the forward pass ignores w1 (your outputs equal w2·x)", _BOTH_WEIGHTS)
FORWARD_ADDS_WEIGHTS = MISTAKES.register(
    "forward_adds_weights",
    "the forward pass adds the weights (your outputs equal (w1 + w2)·x)",
    "Follow x through the network drawing: the hidden neuron scales x by w1, "
    "then the output neuron scales what it receives by w2. Layers compose; they do not add up.",
)
FORWARD_SQUARED = MISTAKES.register(
    "forward_squared",
    "the forward pass squares the prediction",
    "The square belongs to the loss, not to the model's output.",
)
FORWARD_SIGN = MISTAKES.register(
    "forward_sign_flipped",
    "the predictions have the right size but the wrong sign",
    "Look for a stray minus sign: this network has no negation in it.",
)
FORWARD_X_SQUARED = MISTAKES.register(
    "forward_x_squared",
    "the forward pass uses x twice (your outputs grow like x²)",
    "Each input passes through the network once: the output is linear in x.",
)
FORWARD_IGNORES_X = MISTAKES.register(
    "forward_ignores_x",
    "the forward pass does not use x (every prediction is the same number)",
    "The prediction for each input depends on that input.",
)
FORWARD_POSITIVE_ONLY = MISTAKES.register(
    "forward_positive_weights_only",
    "the forward pass is right only when the weights are positive",
    "Look for abs() or a square root of a square: negative weights are allowed, and they flip the prediction's sign.",
)
FORWARD_BIAS = MISTAKES.register(
    "forward_adds_bias",
    "the predictions are the right ones shifted by a constant",
    "This network has no bias term: with x = 0 the prediction is 0.",
)


def _forward_only_w1(w1: float, w2: float, x: Array) -> Array:
    return w1 * x


def _forward_only_w2(w1: float, w2: float, x: Array) -> Array:
    return w2 * x


def _forward_sum(w1: float, w2: float, x: Array) -> Array:
    return (w1 + w2) * x


def _forward_squared(w1: float, w2: float, x: Array) -> Array:
    return (w1 * w2 * x) ** 2


def _forward_negated(w1: float, w2: float, x: Array) -> Array:
    return -w1 * w2 * x


def _forward_x_squared(w1: float, w2: float, x: Array) -> Array:
    return w1 * w2 * x * x


def _forward_abs(w1: float, w2: float, x: Array) -> Array:
    return abs(w1 * w2) * x


def _forward_no_x(w1: float, w2: float, x: Array) -> Array:
    return np.full_like(x, w1 * w2)


FORWARD_MISTAKES: list[tuple[Mistake, ForwardVariant]] = [
    (FORWARD_DROPS_W2, _forward_only_w1),
    (FORWARD_DROPS_W1, _forward_only_w2),
    (FORWARD_ADDS_WEIGHTS, _forward_sum),
    (FORWARD_SQUARED, _forward_squared),
    (FORWARD_SIGN, _forward_negated),
    (FORWARD_X_SQUARED, _forward_x_squared),
    (FORWARD_POSITIVE_ONLY, _forward_abs),
    (FORWARD_IGNORES_X, _forward_no_x),
]
"""Wrong forward passes, matched on their outputs (a bias is recognised by its constant shift)."""


# -- the gradient ---------------------------------------------------------------------------

_ERROR_HINT = (
    "Differentiate the squared error with respect to the prediction first: "
    "the result depends on both the target and the prediction."
)

MISSING_FACTOR_2 = MISTAKES.register(
    "grad_missing_factor_2",
    "the gradient is half the right size: the factor 2 is missing",
    "Differentiate the square with the chain rule: what does the exponent 2 of the squared error become?",
)
SIGN_FLIPPED = MISTAKES.register(
    "grad_sign_flipped",
    "the gradient has the right size but the wrong sign",
    "The error y − ŷ goes down when the prediction goes up, so the inner derivative carries a minus sign. "
    "Check: a small step against your gradient should lower the loss.",
)
FACTOR_2_TWICE = MISTAKES.register(
    "grad_factor_2_twice",
    "the gradient is twice the right size",
    "The factor 2 from the square appears once, not twice.",
)
SUM_NOT_MEAN = MISTAKES.register(
    "grad_sum_not_mean",
    "the gradient is n times too large: a sum where the mean belongs",
    "The loss is a mean over the samples, so its gradient is a mean too.",
)
MEAN_TWICE = MISTAKES.register(
    "grad_mean_twice",
    "the gradient is n times too small: divided by the number of samples twice",
    "Average over the samples once.",
)
PREDICTION_FOR_RESIDUAL = MISTAKES.register(
    "grad_prediction_for_residual",
    "the prediction ŷ is used where the error between target and prediction belongs",
    _ERROR_HINT,
)
TARGET_FOR_RESIDUAL = MISTAKES.register(
    "grad_target_for_residual",
    "the target y is used where the error between target and prediction belongs",
    _ERROR_HINT,
)
MISSING_X = MISTAKES.register(
    "grad_missing_x",
    "the input x is missing from the gradient",
    "Apply the chain rule all the way in: how much does the prediction move when a weight moves a little? "
    "The input decides that.",
)
X_SQUARED = MISTAKES.register(
    "grad_x_squared",
    "the input x appears twice in the gradient (x² where x belongs)",
    "Write the chain rule one factor at a time and count how often the input appears: the prediction is linear in x.",
)
WRONG_WEIGHT = MISTAKES.register(
    "grad_wrong_weight",
    "a gradient uses the weight it is taken with respect to, where the other weight belongs",
    "When you differentiate with respect to one weight, the other weight is a constant factor.",
)
SWAPPED_WEIGHTS = MISTAKES.register(
    "grad_swapped_weights",
    "dloss_dw1 and dloss_dw2 come out exchanged: w1 and w2 are swapped inside the gradients, "
    "or the two gradients are returned in the wrong order",
    "When you differentiate with respect to one weight, the other weight is a constant factor; "
    "and return the two values as (dloss_dw1, dloss_dw2).",
)
POSITIVE_ONLY = MISTAKES.register(
    "grad_positive_weights_only",
    "the gradient is right only when the weights are positive",
    "Look for abs(), a square root of a square, or a sign taken from the wrong place: "
    "weights can be negative (in the seed run w1 changes sign).",
)

# Mistakes recognised from the shape or behaviour of what came back, not from values.
PER_SAMPLE = MISTAKES.register(
    "grad_per_sample",
    "one gradient per sample was returned (arrays of length n) instead of the mean gradient",
    "dloss_dw returns two numbers: average the per-sample terms over the samples.",
)
SIDE_EFFECT = MISTAKES.register(
    "side_effect_on_weights",
    "calling the method changed self.w1 or self.w2",
    "forward and dloss_dw only compute and return; train is the one place that updates the weights.",
)

GRADIENT_SLOTS: list[tuple[str, list[tuple[object, Mistake | None]]]] = [
    ("scale", [(1.0, None), (0.5, MISSING_FACTOR_2), (2.0, FACTOR_2_TWICE)]),
    ("sign", [(1.0, None), (-1.0, SIGN_FLIPPED)]),
    ("reduce", [("mean", None), ("sum", SUM_NOT_MEAN), ("mean/n", MEAN_TWICE)]),
    ("error", [("residual", None), ("prediction", PREDICTION_FOR_RESIDUAL), ("target", TARGET_FOR_RESIDUAL)]),
    ("x", [(1, None), (0, MISSING_X), (2, X_SQUARED)]),
    ("weight", [("other", None), ("own", WRONG_WEIGHT), ("abs", POSITIVE_ONLY)]),
]
"""The slips a gradient component is made of: each slot's right choice first, then its wrong ones.

A component is ``scale · sign · reduce(−2 · weight · x**power · error)``; the right
one takes the first choice of every slot.
"""


@dataclass(frozen=True)
class _Form:
    choices: tuple[object, ...]
    mistakes: tuple[Mistake, ...]


def _all_forms() -> list[_Form]:
    forms = []
    for picks in itertools.product(*(options for _, options in GRADIENT_SLOTS)):
        forms.append(_Form(tuple(v for v, _ in picks), tuple(m for _, m in picks if m is not None)))
    # Fewest slips first; among equals, the more common slips (an ambiguity can only
    # arise on few cases, e.g. the one case a training step gives).
    forms.sort(key=lambda f: (len(f.mistakes), sorted(_LIKELIHOOD.index(m) for m in f.mistakes)))
    return forms


_LIKELIHOOD = [
    SIGN_FLIPPED, MISSING_FACTOR_2, SUM_NOT_MEAN, WRONG_WEIGHT, MISSING_X, PREDICTION_FOR_RESIDUAL,
    TARGET_FOR_RESIDUAL, MEAN_TWICE, FACTOR_2_TWICE, X_SQUARED, POSITIVE_ONLY,
]
"""The slips, most common first (the order in which ties are resolved)."""


FORMS: list[_Form] = _all_forms()
_RIGHT = 0  # the form without a slip sorts first


def _choice_index(slot: str, form: _Form) -> int:
    names = [name for name, _ in GRADIENT_SLOTS]
    options = GRADIENT_SLOTS[names.index(slot)][1]
    return [value for value, _ in options].index(form.choices[names.index(slot)])


# Per form: where its sum sits in the (weight, error, power) table, which reduction, and its factor.
_W, _E, _P, _R = (np.array([_choice_index(slot, f) for f in FORMS]) for slot in ("weight", "error", "x", "reduce"))
_FACTOR = np.array([float(f.choices[0]) * float(f.choices[1]) for f in FORMS])  # type: ignore[arg-type]


def _component_table(w1: Array, w2: Array, x: Array, y: Array, component: int) -> Array:
    """The value of every form of gradient component `component` (0: w1, 1: w2) at many weights, one data set.

    Parameters
    ----------
    w1, w2 : numpy.ndarray
        Shape ``(P,)``: the weights of each point.
    x, y : numpy.ndarray
        The samples all these points share.

    Returns
    -------
    numpy.ndarray
        Shape ``(P, len(FORMS))``.
    """
    own, other = (w1, w2) if component == 0 else (w2, w1)
    prediction = (w1 * w2)[:, None] * x
    weights = np.stack([other, own, np.abs(other)], axis=1)  # the order of the "weight" slot's choices
    errors = np.stack([y - prediction, prediction, np.broadcast_to(y, prediction.shape)], axis=1)  # "error" slot
    powers = np.stack([x, np.ones_like(x), x * x])  # "x" slot: 1, 0, 2
    totals = -2.0 * weights[:, :, None, None] * np.einsum("pen,qn->peq", errors, powers)[:, None, :, :]
    n = max(len(x), 1)
    reductions = np.array([1.0 / n, 1.0, 1.0 / n / n])  # "reduce" slot: mean, sum, mean/n
    return totals[:, _W, _E, _P] * reductions[_R] * _FACTOR


def _forms_by_case(cases: Sequence[Case], component: int) -> Array:
    """Every form's value on every case, shape ``(len(FORMS), len(cases))``.

    Consecutive cases that share their samples (the points of one grid) are computed together.
    """
    blocks = []
    start = 0
    while start < len(cases):
        x, y = cases[start][2], cases[start][3]
        stop = start + 1
        while stop < len(cases) and cases[stop][2] is x and cases[stop][3] is y:
            stop += 1
        w1 = np.array([c[0] for c in cases[start:stop]], dtype=float)
        w2 = np.array([c[1] for c in cases[start:stop]], dtype=float)
        blocks.append(_component_table(w1, w2, np.asarray(x, dtype=float), np.asarray(y, dtype=float), component))
        start = stop
    return np.concatenate(blocks).T


def gradient_forms(
    cases: Sequence[Case], student: Sequence[Sequence[float]], rtol: float = 1e-6, unique: bool = False
) -> list[tuple[Mistake, ...] | None]:
    """Explain each gradient component by the fewest slips that reproduce it on every case.

    Parameters
    ----------
    cases : list of tuple
        ``(w1, w2, x, y)`` of each test case.
    student : list of pairs
        The student's ``(dloss_dw1, dloss_dw2)`` on each case.
    rtol : float
        Tolerance of a match.
    unique : bool
        When True, a component that two simplest forms with different slips explain equally
        well is not explained (None): with many cases such a tie means the cases cannot tell
        the slips apart, and a guess could name the wrong one.  When False (the default), the
        tie goes to the more common slips (:data:`_LIKELIHOOD`), which suits the one case a
        training step gives.

    Returns
    -------
    list
        For ``dloss_dw1`` and ``dloss_dw2``: ``()`` when the component is right,
        the mistakes of the simplest matching form, or None when no form matches.
        A wrong weight in both components is reported as :data:`SWAPPED_WEIGHTS`
        (swapped weights and swapped return order give the same numbers).
    """
    values = np.asarray(student, dtype=float).reshape(len(cases), 2)
    hits: list[np.ndarray] = []
    for component in (0, 1):
        outputs = _forms_by_case(cases, component)  # forms × cases
        s = values[:, component]
        if not np.all(np.isfinite(s)):
            hits.append(np.array([], dtype=int))
            continue
        tol = rtol * (1 + 2 * np.abs(outputs))
        matches = np.all(np.abs(outputs - s) <= tol, axis=1)
        right = outputs[_RIGHT]
        differs = np.any(np.abs(outputs - right) > 1e-9 * (1 + np.abs(right)), axis=1)
        differs[_RIGHT] = True
        hits.append(np.flatnonzero(matches & differs))
    # One slip made in both gradients is likelier than two different ones: prefer a shared form.
    shared = np.intersect1d(hits[0], hits[1])
    if shared.size and shared[0] != _RIGHT:
        found: list[tuple[Mistake, ...] | None] = [_simplest(shared, unique)] * 2
    else:
        found = [_simplest(h, unique) for h in hits]
    if all(f is not None and WRONG_WEIGHT in f for f in found):
        found = [tuple(SWAPPED_WEIGHTS if m is WRONG_WEIGHT else m for m in f) for f in found]  # type: ignore[union-attr]
    return found


def _simplest(hits: np.ndarray, unique: bool) -> tuple[Mistake, ...] | None:
    """The slips of the first (simplest, likeliest) form among `hits`; None when there is none.

    With `unique`, None also when another form with as few slips but different ones matches too.
    """
    if not hits.size:
        return None
    best = FORMS[int(hits[0])].mistakes
    if unique:
        rivals = {frozenset(FORMS[int(i)].mistakes) for i in hits if len(FORMS[int(i)].mistakes) == len(best)}
        if len(rivals) > 1:
            return None
    return best


@functools.lru_cache(maxsize=256)
def _case_forms(w1: float, w2: float, x: bytes, y: bytes) -> Array:
    """Every form of both gradient components on one case, shape ``(2, len(FORMS))`` (read-only).

    Cached: :func:`match_variant` asks each single-slip variant of :data:`GRADIENT_MISTAKES` about the
    same cases, and one table holds the answer of all of them.  `x` and `y` come as the bytes of
    float64 arrays, so that a case can be a cache key.
    """
    xs, ys = np.frombuffer(x, dtype=float), np.frombuffer(y, dtype=float)
    w1s, w2s = np.array([w1], dtype=float), np.array([w2], dtype=float)
    table = np.stack([_component_table(w1s, w2s, xs, ys, component)[0] for component in (0, 1)])
    table.flags.writeable = False  # shared by every caller of the cache
    return table


def _single_slip(mistake: Mistake) -> GradientVariant:
    """The gradient with exactly one slip, as a ``(w1, w2, x, y) -> (g1, g2)`` variant.

    The form's index is found once, here; the table of every form on a case is computed once per case
    (:func:`_case_forms`), not once per variant and component.
    """
    (index,) = [i for i, f in enumerate(FORMS) if f.mistakes == (mistake,)]

    def variant(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
        key_x = np.ascontiguousarray(x, dtype=float).ravel().tobytes()
        key_y = np.ascontiguousarray(y, dtype=float).ravel().tobytes()
        table = _case_forms(float(w1), float(w2), key_x, key_y)
        return float(table[0, index]), float(table[1, index])

    return variant


def _swapped_order(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    g1, g2 = reference.gradients(w1, w2, x, y)
    return g2, g1


def _abs_weights(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    return reference.gradients(abs(w1), abs(w2), x, y)


GRADIENT_MISTAKES: list[tuple[Mistake, GradientVariant]] = [
    *((m, _single_slip(m)) for m in (
        MISSING_FACTOR_2, SIGN_FLIPPED, FACTOR_2_TWICE, SUM_NOT_MEAN, MEAN_TWICE,
        PREDICTION_FOR_RESIDUAL, TARGET_FOR_RESIDUAL, MISSING_X, X_SQUARED, POSITIVE_ONLY,
    )),
    (SWAPPED_WEIGHTS, _swapped_order),
    (POSITIVE_ONLY, _abs_weights),
]
"""Whole-gradient wrong variants with a single mistake, for :func:`match_variant`.

:func:`gradient_forms` covers these and their combinations; the list adds the
variants that are not a slip of one component (absolute weights everywhere).
"""


