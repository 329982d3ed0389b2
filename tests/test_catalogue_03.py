"""03_depth_and_init's catalogue: wrong implementations get their diagnosis, right ones full marks, for everyone.

Each implementation is the released ``DeepNarrowLNN`` with the three method bodies a student writes
(``forward``, ``loss``, ``dloss_dw``) filled in, written the way students write them (loops with off-by-one
bounds, products through logarithms, in-place updates, ...).  It runs in-process as in ``test_diagnosis.py``: the
class is executed into a namespace, the probe collects from it, the payload makes the JSON round trip the
secure grader's payload makes, and the check's own judge scores it.

Each wrong implementation says which tests it loses and, for each, which mistakes the feedback must name (an
empty set: caught, but no known mistake fits, so none may be named).  The sweep runs every implementation on the
inputs of 300 student ids: the same tests lost and the same mistakes named for every one of them.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pytest

from autograder.assignments.depth import mistakes
from autograder.assignments.depth import reference as ref
from autograder.core import checks, probe
from autograder.core.verdict import Verdict
from autograder.course.submissions import fill_stubs
from conftest import ROOT, as_if_the_notebook_ran
from series import DEPTH

ASSIGNMENT = DEPTH.name
FORWARD, LOSS, DLOSS, ZERO, CURVE = (
    "depth.forward",
    "depth.loss",
    "depth.dloss_dw",
    "depth.zero_weight",
    "depth.training_curve",
)
ALL_CHECKS = (FORWARD, LOSS, DLOSS, ZERO, CURVE)
STUDENTS = ("alice", "Bob <o'Neil> & \"co\"", "zoë 42")
SWEEP = [f"student-{i:03d}" for i in range(300)]
"""The student ids of the sweep: each draws its own inputs."""

RIGHT_FORWARD = "y = np.prod(self.w) * x"
RIGHT_LOSS = "mse = np.mean((y_t - y_p) ** 2) / 2"
RIGHT_DLOSS = """
error = y_t - np.prod(self.w) * x
before = np.concatenate(([1.0], np.cumprod(self.w)[:-1]))
after = np.concatenate((np.cumprod(self.w[::-1])[:-1][::-1], [1.0]))
dloss_dw = -np.mean(x * error) * before * after
"""


@dataclass(frozen=True)
class Implementation:
    """The three method bodies a student writes (each ends by assigning the name the stub returns, or returns)."""

    forward: str = RIGHT_FORWARD
    loss: str = RIGHT_LOSS
    dloss: str = RIGHT_DLOSS

    def calls(self, check: str) -> tuple[str, ...]:
        """The bodies a check's verdict depends on (a gradient that calls self.forward depends on forward too)."""
        if check == FORWARD:
            return (self.forward,)
        if check == LOSS:
            return (self.loss,)
        if check in (DLOSS, ZERO):
            return (self.dloss, self.forward) if "forward" in self.dloss else (self.dloss,)
        return (self.forward, self.loss, self.dloss)


@dataclass(frozen=True)
class Wrong:
    """A wrong implementation, the tests it loses and what each lost test must name (empty: nothing)."""

    implementation: Implementation
    named: dict[str, frozenset[str]] = field(hash=False)

    @property
    def loses(self) -> frozenset[str]:
        return frozenset(self.named)


def wrong(named: dict[str, set[str] | str], **bodies: str) -> Wrong:
    """A wrong implementation: `named` maps each lost test to the mistake codes it names (a code, a set, or {})."""
    return Wrong(
        Implementation(**bodies),
        {check: frozenset([codes] if isinstance(codes, str) else codes) for check, codes in named.items()},
    )


def others(expression: str) -> str:
    """A gradient body whose product of the other weights is `expression` (a 1-D array)."""
    return f"error = y_t - np.prod(self.w) * x\nothers = {expression}\ndloss_dw = -np.mean(x * error) * others"


def loop(inner: str, setup: str = "") -> str:
    """A gradient body with an explicit loop over k; `inner` computes ``p``, the product for weight k."""
    body = textwrap.indent(textwrap.dedent(inner).strip(), "    ")
    return (
        f"m = np.mean(x * (y_t - np.prod(self.w) * x))\ndloss_dw = np.zeros(len(self.w))\n{setup}\n"
        f"for k in range(len(self.w)):\n{body}\n    dloss_dw[k] = -m * p"
    )


# ---------------------------------------------------------------------------------------------------
# Right answers, written differently: full marks on every test, no mistake named.
# ---------------------------------------------------------------------------------------------------

CORRECT: dict[str, Implementation] = {
    "prefix_and_suffix_products": Implementation(),
    "np_delete": Implementation(
        "y = x * np.prod(self.w)",
        "mse = 0.5 * np.mean(np.square(y_p - y_t))",
        others("np.array([np.prod(np.delete(self.w, k)) for k in range(self.w.size)])"),
    ),
    "double_loop": Implementation(
        "p = 1.0\nfor w_k in self.w:\n    p = p * w_k\ny = p * x",
        "r = y_t - y_p\nmse = np.dot(r, r) / (2 * len(r))",
        loop("p = 1.0\nfor j in range(len(self.w)):\n    if j != k:\n        p *= self.w[j]"),
    ),
    "boolean_mask": Implementation(
        "y = np.multiply(np.prod(self.w), x)",
        "mse = ((y_p - y_t) ** 2).sum() / (2 * y_t.size)",
        loop("mask = np.arange(len(self.w)) != k\np = np.prod(self.w[mask])"),
    ),
    "set_to_one_on_a_copy_and_put_back": Implementation(
        "h = x.copy()\nfor w_k in self.w:\n    h = w_k * h\ny = h",
        "mse = np.average((y_t - y_p) ** 2) / 2",
        loop("saved = w[k]\nw[k] = 1.0\np = np.prod(w)\nw[k] = saved", setup="w = self.w.copy()"),
    ),
    "where_replaces_own_weight": Implementation(
        RIGHT_FORWARD,
        "mse = float(np.mean((y_t - y_p) ** 2)) / 2.0",
        others("np.array([np.prod(np.where(np.arange(self.w.size) == k, 1.0, self.w)) for k in range(self.w.size)])"),
    ),
    "matrix_with_ones_on_the_diagonal": Implementation(
        "y = np.full_like(x, np.prod(self.w)) * x",
        RIGHT_LOSS,
        "W = np.tile(self.w, (len(self.w), 1))\nnp.fill_diagonal(W, 1.0)\n"
        "dloss_dw = -np.mean(x * (y_t - np.prod(self.w) * x)) * W.prod(axis=1)",
    ),
    "slices_before_and_after": Implementation(
        "import functools, operator\ny = functools.reduce(operator.mul, self.w, 1.0) * x",
        RIGHT_LOSS,
        loop("p = np.prod(self.w[:k]) * np.prod(self.w[k + 1:])"),
    ),
    "chain_rule_through_forward": Implementation(
        RIGHT_FORWARD,
        "mse = np.sum((y_t - y_p) ** 2) / len(y_t) / 2",
        "y_hat = self.forward(x)\ndL_dyhat = (y_hat - y_t) / len(x)\n"
        "dyhat_dw = np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])\n"
        "dloss_dw = np.sum(dL_dyhat * x) * dyhat_dw",
    ),
    "divide_only_where_nonzero": Implementation(
        RIGHT_FORWARD,
        RIGHT_LOSS,
        "P = np.prod(self.w)\n"
        "others = np.array([P / w_k if w_k != 0 else np.prod(np.delete(self.w, k)) for k, w_k in enumerate(self.w)])\n"
        "dloss_dw = -np.mean(x * (y_t - P * x)) * others",
    ),
    "math_prod_and_lists": Implementation(
        "import math\ny = math.prod(self.w.tolist()) * x",
        "import math\nmse = math.fsum((a - b) ** 2 for a, b in zip(y_t, y_p)) / len(y_t) / 2",
        "import math\nw = self.w.tolist()\nm = np.mean(x * (y_t - math.prod(w) * x))\n"
        "dloss_dw = np.array([-m * math.prod(w[:k] + w[k + 1:]) for k in range(len(w))])",
    ),
}


# ---------------------------------------------------------------------------------------------------
# Wrong answers: the tests each loses, and the mistakes each lost test names.
# ---------------------------------------------------------------------------------------------------

WRONG: dict[str, Wrong] = {
    # -- forward -----------------------------------------------------------------------------------
    "forward_adds_the_weights": wrong({FORWARD: "deep_forward_sum", CURVE: {}}, forward="y = np.sum(self.w) * x"),
    "forward_loop_from_1": wrong(
        {FORWARD: "deep_forward_skips_first", CURVE: {}},
        forward="p = 1.0\nfor k in range(1, len(self.w)):\n    p *= self.w[k]\ny = p * x",
    ),
    "forward_loop_to_D_minus_1": wrong(
        {FORWARD: "deep_forward_skips_last", CURVE: {}},
        forward="p = 1.0\nfor k in range(len(self.w) - 1):\n    p *= self.w[k]\ny = p * x",
    ),
    "forward_rescales_x_each_layer": wrong(
        {FORWARD: "deep_forward_last_weight", CURVE: {}}, forward="y = x\nfor w_k in self.w:\n    y = w_k * x"
    ),
    "forward_power_of_first": wrong(
        {FORWARD: "deep_forward_power", CURVE: {}}, forward="y = self.w[0] ** len(self.w) * x"
    ),
    "forward_through_logarithms": wrong(  # training starts from positive weights: its runs are right
        {FORWARD: "deep_forward_abs"}, forward="y = np.exp(np.sum(np.log(np.abs(self.w)))) * x"
    ),
    "forward_scales_x_in_place": wrong(
        {FORWARD: "changes_its_input", CURVE: "changes_its_input"}, forward="for w_k in self.w:\n    x *= w_k\ny = x"
    ),
    "forward_accumulates_in_the_weights": wrong(
        {FORWARD: "deep_side_effect", CURVE: {}},
        forward="for k in range(1, len(self.w)):\n    self.w[k] *= self.w[k - 1]\ny = self.w[-1] * x",
    ),
    "forward_product_of_w_times_x": wrong({FORWARD: {}, CURVE: {}}, forward="y = np.prod(self.w * x)"),  # raises
    "forward_x_at_every_layer": wrong({FORWARD: {}, CURVE: {}}, forward="y = np.prod(self.w[:, None] * x, axis=0)"),
    # -- loss --------------------------------------------------------------------------------------
    "loss_full_mse": wrong({LOSS: "deep_loss_full_mse", CURVE: {}}, loss="mse = np.mean((y_t - y_p) ** 2)"),
    "loss_square_of_the_mean": wrong(
        {LOSS: "deep_loss_square_of_mean", CURVE: {}}, loss="mse = np.mean(y_t - y_p) ** 2 / 2"
    ),
    "loss_sum_for_mean": wrong({LOSS: "deep_loss_sum", CURVE: {}}, loss="mse = np.sum((y_t - y_p) ** 2) / 2"),
    "loss_abs": wrong({LOSS: "deep_loss_abs", CURVE: {}}, loss="mse = np.mean(np.abs(y_t - y_p)) / 2"),
    "loss_n_minus_1": wrong({LOSS: {}, CURVE: {}}, loss="mse = np.sum((y_t - y_p) ** 2) / (len(y_t) - 1) / 2"),
    # -- dloss_dw: the product of the other weights -----------------------------------------------
    "divides_by_weight": wrong(
        {ZERO: "deep_grad_zero_division"}, dloss=others("np.prod(self.w) / self.w")
    ),
    "loop_from_1": wrong(
        {DLOSS: "deep_grad_skips_first", ZERO: "deep_grad_skips_first", CURVE: {}},
        dloss=loop("p = 1.0\nfor j in range(1, len(self.w)):\n    if j != k:\n        p *= self.w[j]"),
    ),
    "loop_to_D_minus_1": wrong(
        {DLOSS: "deep_grad_skips_last", ZERO: "deep_grad_skips_last", CURVE: {}},
        dloss=loop("p = 1.0\nfor j in range(len(self.w) - 1):\n    if j != k:\n        p *= self.w[j]"),
    ),
    "product_computed_once_before_the_loop": wrong(
        {DLOSS: "deep_grad_no_division", ZERO: {}, CURVE: {}}, dloss=loop("p = P", setup="P = np.prod(self.w)")
    ),
    "product_not_reset_for_each_k": wrong(
        {DLOSS: "deep_grad_product_not_reset", ZERO: "deep_grad_product_not_reset", CURVE: {}},
        dloss=loop("for j in range(len(self.w)):\n    if j != k:\n        p *= self.w[j]", setup="p = 1.0"),
    ),
    "backprop_forgets_the_layers_after": wrong(
        {DLOSS: "deep_grad_layers_before_only", ZERO: "deep_grad_layers_before_only", CURVE: {}},
        dloss="r = y_t - np.prod(self.w) * x\nh = x.copy()\ndloss_dw = np.zeros(len(self.w))\n"
        "for k in range(len(self.w)):\n    dloss_dw[k] = -np.mean(r * h)\n    h = self.w[k] * h",
    ),
    "set_to_one_and_not_put_back": wrong(
        {DLOSS: "deep_grad_layers_after_only", ZERO: "deep_grad_layers_after_only", CURVE: {}},
        dloss=loop("w[k] = 1.0\np = np.prod(w)", setup="w = self.w.copy()"),
    ),
    "set_to_one_in_self_w": wrong(
        {DLOSS: "deep_side_effect", ZERO: "deep_side_effect", CURVE: {}},
        dloss=loop("saved = w[k]\nw[k] = 1.0\np = np.prod(w)", setup="w = self.w"),
    ),
    "sum_of_the_other_weights": wrong(
        {DLOSS: "deep_grad_sum_of_others", ZERO: "deep_grad_sum_of_others", CURVE: {}},
        dloss=others("np.sum(self.w) - self.w"),
    ),
    "product_times_own_weight": wrong(
        {DLOSS: "deep_grad_times_weight", ZERO: {}, CURVE: {}}, dloss=others("np.prod(self.w) * self.w")
    ),
    "first_weight_left_out_for_every_k": wrong(
        {DLOSS: "deep_grad_wrong_weight", ZERO: "deep_grad_wrong_weight", CURVE: {}},
        dloss=others("np.full(len(self.w), np.prod(self.w[1:]))"),
    ),
    "deleted_from_the_end": wrong(
        {DLOSS: "deep_grad_reversed", ZERO: "deep_grad_reversed", CURVE: {}},
        dloss=others("np.array([np.prod(np.delete(self.w, -k - 1)) for k in range(len(self.w))])"),
    ),
    "logarithms_with_abs": wrong(
        {DLOSS: "deep_grad_sign_lost", ZERO: "deep_grad_zero_division"},
        dloss=others("np.exp(np.sum(np.log(np.abs(self.w))) - np.log(np.abs(self.w)))"),
    ),
    "logarithms_without_abs": wrong(
        {DLOSS: "deep_grad_nan_negative", ZERO: {}}, dloss=others("np.exp(np.sum(np.log(self.w))) / self.w")
    ),
    "zero_weight_patched_to_zero": wrong(
        {ZERO: {}}, dloss=others("np.where(self.w == 0, 0.0, np.prod(self.w) / np.where(self.w == 0, 1.0, self.w))")
    ),
    # -- dloss_dw: the factor in front -------------------------------------------------------------
    "sign": wrong(
        {DLOSS: "deep_grad_sign", ZERO: "deep_grad_sign", CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean", "np.mean"),
    ),
    "factor_2": wrong(
        {DLOSS: "deep_grad_factor_2", ZERO: "deep_grad_factor_2", CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-2 * np.mean(x * error)"),
    ),
    "half": wrong(
        {DLOSS: "deep_grad_half", ZERO: "deep_grad_half", CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.mean(x * error) / 2"),
    ),
    "sum_for_mean": wrong(
        {DLOSS: "deep_grad_sum_not_mean", ZERO: "deep_grad_sum_not_mean", CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.sum(x * error)"),
    ),
    "sum_and_sign": wrong(
        {DLOSS: {"deep_grad_sum_not_mean", "deep_grad_sign"}, ZERO: {"deep_grad_sum_not_mean", "deep_grad_sign"},
         CURVE: {}},  # fmt: skip
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "np.sum(x * error)"),
    ),
    "missing_x": wrong(
        {DLOSS: "deep_grad_missing_x", ZERO: "deep_grad_missing_x", CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.mean(error)"),
    ),
    "target_for_residual": wrong(
        {DLOSS: "deep_grad_target_for_residual", CURVE: {}},  # at a zero weight the prediction is 0: right there
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.mean(x * y_t)"),
    ),
    "prediction_for_residual": wrong(
        {DLOSS: "deep_grad_prediction_for_residual", ZERO: {}, CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.mean(x * self.forward(x))"),
    ),
    "mean_of_x_times_mean_of_residual": wrong(
        {DLOSS: {}, ZERO: {}, CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.mean(x) * np.mean(error)"),
    ),
    "n_minus_1": wrong(
        {DLOSS: {}, ZERO: {}, CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-np.sum(x * error) / (len(x) - 1)"),
    ),
    "per_sample": wrong(
        {DLOSS: "deep_grad_per_sample", ZERO: "deep_grad_per_sample", CURVE: {}},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "-(x * error)[:, None]"),
    ),
    "float32": wrong(
        {DLOSS: "lost_precision", ZERO: "lost_precision"},
        dloss=RIGHT_DLOSS.replace("-np.mean(x * error)", "np.float32(-np.mean(x * error))"),
    ),
    # -- state kept between calls: right on a fresh network, wrong once training changes the weights ---
    "forward_caches_the_product": wrong(
        {CURVE: {}},
        forward='if not hasattr(self, "product"):\n    self.product = np.prod(self.w)\ny = self.product * x',
    ),
    "gradient_caches_the_other_products": wrong(
        {CURVE: {}},
        dloss='if not hasattr(self, "others"):\n'
        '    self.others = np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])\n'
        "dloss_dw = -np.mean(x * (y_t - np.prod(self.w) * x)) * self.others",
    ),
    # -- both ----------------------------------------------------------------------------------------
    "sum_forward_used_by_the_gradient": wrong(
        {FORWARD: "deep_forward_sum", DLOSS: {}, ZERO: {}, CURVE: {}},
        forward="y = np.sum(self.w) * x",
        dloss=RIGHT_DLOSS.replace("error = y_t - np.prod(self.w) * x", "error = y_t - self.forward(x)"),
    ),
}


# ---------------------------------------------------------------------------------------------------
# Running an implementation in-process
# ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _release() -> str:
    import nbformat

    return nbformat.writes(nbformat.read(ROOT / "release" / ASSIGNMENT / DEPTH.notebook, as_version=4))


@functools.lru_cache(maxsize=None)
def namespace(implementation: Implementation) -> dict[str, Any]:
    """The student's class, executed once per implementation (every probe builds fresh instances)."""
    import nbformat

    bodies = [textwrap.dedent(b).strip() for b in (implementation.forward, implementation.loss, implementation.dloss)]
    nb = fill_stubs(nbformat.reads(_release(), as_version=4), bodies)
    (cls,) = [c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert "YOUR CODE HERE" not in cls
    scope: dict[str, Any] = {"np": np, "__name__": "submission"}
    exec(compile(cls, "<student>", "exec"), scope)  # noqa: S102
    return scope


@functools.lru_cache(maxsize=None)
def request(check: str, student: str) -> dict[str, Any]:
    """A student's request, drawn once (the probe and the judges only read it)."""
    return checks.make_request(check, ASSIGNMENT, student)


@functools.lru_cache(maxsize=4096)
def _reference_train(w: bytes, x: bytes, y: bytes, lr: float, n_ep: int) -> tuple[np.ndarray, np.ndarray]:
    return _TRAIN(np.frombuffer(w), np.frombuffer(x), np.frombuffer(y), lr, n_ep)


_TRAIN = ref.train


def cached_train(init: Any, x: Any, y: Any, lr: float, n_ep: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference run, computed once per student's inputs for every implementation that is judged on them."""
    as_bytes = [np.asarray(a, dtype=float).tobytes() for a in (init, x, y)]
    return _reference_train(*as_bytes, float(lr), int(n_ep))


@pytest.fixture(scope="module", autouse=True)
def _cached_reference_runs() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ref, "train", cached_train)
        yield


def run(implementation: Implementation, check: str, student: str) -> Verdict:
    """Probe and judge one check on one implementation, as the grader would (minus the kernel)."""
    the_request = request(check, student)
    with np.errstate(all="ignore"):  # nan, overflow and logarithms of negatives warn in the student's kernel
        payload = json.loads(json.dumps(probe.collect(namespace(implementation), the_request)))
        payload = as_if_the_notebook_ran(the_request, payload, namespace(implementation), implementation)
        return checks.CHECKS[check].judge(the_request, payload)


def run_everyone(implementation: Implementation, check: str, students: list[str]) -> list[Verdict]:
    """:func:`run` for many students, probing once for all of them.

    The probe handles each case on its own, with a fresh network: probing the cases of every student in one
    request and handing each student's judge its share of the results is probing each student alone
    (:func:`test_probing_everyone_at_once_is_probing_each_student_alone` checks it), minus a call per student.
    The JSON round trip is left out: the probe's payload is plain JSON data (floats, lists, dicts), on which
    it changes nothing, and :func:`run`, which makes it, gives the same verdicts (the same test).
    """
    requests = [request(check, student) for student in students]
    size = len(requests[0]["cases"])
    merged = {**requests[0], "cases": [case for r in requests for case in r["cases"]]}
    with np.errstate(all="ignore"):
        results = probe.collect(namespace(implementation), merged)["results"]
        judge = checks.CHECKS[check].judge
        shares = [{"results": results[i * size : (i + 1) * size]} for i in range(len(requests))]
        ran = namespace(implementation)
        return [judge(r, as_if_the_notebook_ran(r, share, ran, implementation)) for r, share in zip(requests, shares)]


def outcome(verdict: Verdict) -> tuple[float, frozenset[str]]:
    return verdict.score, frozenset(verdict.mistakes)


def expected_outcome(name: str, check: str) -> tuple[float, frozenset[str]]:
    if name in CORRECT:
        return 1.0, frozenset()
    named = WRONG[name].named
    return (0.0, named[check]) if check in named else (1.0, frozenset())


def implementation_of(name: str) -> Implementation:
    return CORRECT[name] if name in CORRECT else WRONG[name].implementation


# ---------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------


def test_the_catalogue_is_large_and_spread_over_every_method() -> None:
    assert len(WRONG) >= 20 and len(CORRECT) >= 8
    for method in ("forward", "loss", "dloss"):
        right_body = getattr(Implementation(), method)
        wrong_here = [n for n, w in WRONG.items() if getattr(w.implementation, method) != right_body]
        right_here = {getattr(i, method) for i in CORRECT.values()}
        assert len(wrong_here) >= 5 and len(right_here) >= 6, method
    known = {m.code for m in checks.all_mistakes()}
    named = {code for w in WRONG.values() for codes in w.named.values() for code in codes}
    assert named <= known, named - known
    assert all(w.loses for w in WRONG.values()), "every wrong implementation loses something"


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_right_implementation_gets_full_marks_and_no_mistake(name: str) -> None:
    for student in STUDENTS:
        for check in ALL_CHECKS:
            verdict = run(CORRECT[name], check, student)
            assert verdict.score == 1.0 and verdict.mistakes == [], f"{check}: {verdict.message}"
            assert "mistake" not in verdict.message.lower()


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_implementation_loses_its_tests_and_gets_its_diagnosis(name: str) -> None:
    entry = WRONG[name]
    for student in STUDENTS:
        for check in ALL_CHECKS:
            verdict = run(entry.implementation, check, student)
            assert outcome(verdict) == expected_outcome(name, check), f"{student}, {check}: {verdict.message}"
            for code in verdict.mistakes:
                assert checks.all_mistakes()[code].title in verdict.message


UNNAMED_UNIT_TESTS = sorted(
    (name, check) for name, w in WRONG.items() for check, codes in w.named.items() if not codes and check != CURVE
)


@pytest.mark.parametrize("name, check", UNNAMED_UNIT_TESTS)
def test_where_no_mistake_fits_the_message_says_which_output_where_and_how_much(name: str, check: str) -> None:
    message = run(WRONG[name].implementation, check, STUDENTS[0]).message
    if "raised an error" in message:  # an error is explained by its own message, and the input that raised it
        assert re.search(r"with depth \d+, weights \[.*\] .*sample\(s\): \w+Error: ", message), message
        return
    assert re.search(r"on \d of \d test cases", message), message  # on how many inputs (and which kind)
    assert re.search(r"For example with (depth \d+, weights \[|\d+ sample)", message), message  # one input in full
    how_much = r"off by [\d.e+-]+%|\d[\d.]* times as large|wrong sign|not a finite number|nan or inf|should( not)? be"
    assert re.search(how_much, message), message  # by how much
    if check in (DLOSS, ZERO):
        assert re.search(r"entry|entries", message), message  # which outputs


def test_a_zero_weight_where_several_mistakes_coincide_names_none() -> None:
    # Patched to 0 at a zero weight, the gradient is all zeros there: so would be several known mistakes.
    verdict = run(WRONG["zero_weight_patched_to_zero"].implementation, ZERO, STUDENTS[0])
    assert verdict.mistakes == [] and "only the entries of the zero weights are off" in verdict.message, verdict.message
    # ...and the mistakes that do give all zeros there are not named at the zero weights either.
    for name in ("product_computed_once_before_the_loop", "product_times_own_weight", "prediction_for_residual"):
        assert run(WRONG[name].implementation, ZERO, STUDENTS[0]).mistakes == [], name


@pytest.mark.parametrize(
    "name", ["sign", "factor_2", "sum_for_mean", "missing_x", "loop_from_1", "set_to_one_and_not_put_back"]
)
def test_training_names_the_gradient_mistake_from_the_steps_it_took(name: str) -> None:
    entry = WRONG[name]
    message = run(entry.implementation, CURVE, STUDENTS[1]).message
    assert "the fault is in dloss_dw" in message, message
    (code,) = entry.named[DLOSS]
    assert f"Judging by the steps your run took: {checks.all_mistakes()[code].title}" in message, message


@pytest.mark.parametrize("name", ["forward_adds_the_weights", "loss_full_mse", "loss_square_of_the_mean"])
def test_training_says_when_the_fault_is_in_forward_or_loss(name: str) -> None:
    message = run(WRONG[name].implementation, CURVE, STUDENTS[2]).message
    assert "the fault is in forward or loss" in message and "departs from the reference at epoch 0" in message, message


@pytest.mark.parametrize("name", ["forward_caches_the_product", "gradient_caches_the_other_products"])
def test_training_alone_catches_state_kept_between_calls(name: str) -> None:
    # Right on every fresh network the unit tests build; wrong from the first epoch that changed the weights.
    message = run(WRONG[name].implementation, CURVE, STUDENTS[0]).message
    assert "departs from the reference at epoch 1 " in message, message
    assert "does a method keep something from one call to the next?" in message, message


def test_where_two_known_mistakes_give_the_same_numbers_neither_is_named() -> None:
    # At depth 2, leaving out the first weight as well leaves exactly the layers after w_k: the same numbers.
    rng = np.random.default_rng(3)
    x = rng.uniform(0.2, 1.5, 6)
    y = -1.5 * x

    def points(*weights: list[float]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return [(np.array(w), x, y) for w in weights]

    def skipping_the_first(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        others = ref.others_product(np.concatenate(([1.0], w[1:])))
        return -np.mean(x * (y - np.prod(w) * x)) * others

    depth_2 = points([0.7, -1.3], [1.2, 0.8])
    assert mistakes.match_gradient(depth_2, [skipping_the_first(*p) for p in depth_2]) is None
    deeper = points([0.7, -1.3], [1.2, 0.8, -0.6])
    assert mistakes.match_gradient(deeper, [skipping_the_first(*p) for p in deeper]) == (mistakes.SKIPS_FIRST,)
    # A symmetric start: reversing the gradients changes nothing there, so it cannot be named (nor lose points).
    symmetric = points([0.9, 0.9, 0.9])
    reversed_ = [ref.gradients(*p)[::-1] for p in symmetric]
    assert mistakes.match_gradient(symmetric, reversed_) is None


# -- the sweep: the same outcome for every student ------------------------------------------------


def _stand_ins(check: str) -> dict[str, str]:
    """Each implementation the sweep covers on `check`, and the one swept in its place.

    A check's verdict depends only on the method bodies it calls (:meth:`Implementation.calls`): two
    implementations that call the same code there, and must get the same outcome, need one sweep.  The
    training check is the slow one, and what it alone judges is the run as a whole: it is swept with the
    plain right implementation (every student's training inputs let a right network train as the reference
    does) and with the wrong ones only it catches (state kept between calls).  Every other wrong
    implementation is caught, and every right method passes, for every student in the faster tests.
    """
    if check == CURVE:
        names = ["prefix_and_suffix_products", *(n for n, w in WRONG.items() if w.loses == {CURVE})]
        return {name: name for name in names}
    chosen: dict[tuple[tuple[str, ...], tuple[float, frozenset[str]]], str] = {}
    stand_in = {}
    for name in [*CORRECT, *WRONG]:
        key = (implementation_of(name).calls(check), expected_outcome(name, check))
        stand_in[name] = chosen.setdefault(key, name)
    return stand_in


SWEPT = {check: _stand_ins(check) for check in ALL_CHECKS}


@pytest.mark.parametrize("check", ALL_CHECKS)
def test_every_student_s_inputs_give_every_implementation_the_same_outcome(check: str) -> None:
    different = []
    for name in sorted(set(SWEPT[check].values())):
        expected = expected_outcome(name, check)
        for student, verdict in zip(SWEEP, run_everyone(implementation_of(name), check, SWEEP)):
            if outcome(verdict) != expected:
                different.append(f"{name} for {student!r}: {outcome(verdict)} instead of {expected}: {verdict.message}")
                break
    assert not different, "\n".join(different)


def test_the_sweep_passes_every_right_method_and_catches_every_wrong_implementation() -> None:
    for check in (FORWARD, LOSS, DLOSS, ZERO):
        assert set(SWEPT[check]) == set(CORRECT) | set(WRONG), check
    for name, entry in WRONG.items():
        assert any(name in SWEPT[check] for check in entry.loses), f"{name} is lost by no swept test"


@pytest.mark.parametrize(
    "name", ["np_delete", "sum_and_sign", "divides_by_weight", "gradient_caches_the_other_products"]
)
def test_probing_everyone_at_once_is_probing_each_student_alone(name: str) -> None:
    students = SWEEP[:4]
    for check in ALL_CHECKS:
        together = run_everyone(implementation_of(name), check, students)
        alone = [run(implementation_of(name), check, student) for student in students]
        assert [(v.score, v.mistakes, v.message) for v in together] == [(v.score, v.mistakes, v.message) for v in alone]
