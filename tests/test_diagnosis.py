"""The catalogue: known wrong implementations get the diagnosis they deserve, right ones get full marks.

Each implementation is the released ``ShallowNarrowExercise`` class with two method
bodies filled in (the way a student fills the stubs).  It runs in-process: the class
is executed into a namespace with ``np`` and the notebook's ``loss``, the probe
collects from that namespace, the payload makes the same JSON round trip as under
the secure grader, and the check's own judge scores it.  No kernel, no nbgrader: the
whole catalogue runs in a few seconds.
"""

from __future__ import annotations

import json
import re
import textwrap
from functools import lru_cache
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.core import checks, probe
from autograder.core.verdict import Verdict
from autograder.course.submissions import fill_stubs
from conftest import ASSIGNMENT, ROOT, as_if_the_notebook_ran

FORWARD, DLOSS, CURVE, SEED_RUN = (
    "shallow_narrow.forward",
    "shallow_narrow.dloss_dw",
    "shallow_narrow.training_curve",
    "shallow_narrow.seed_run",
)
ALL_CHECKS = (FORWARD, DLOSS, CURVE, SEED_RUN)
TRAINING = {CURVE, SEED_RUN}
STUDENTS = ("alice", "Bob <o'Neil> & \"co\"", "zoë 42")
"""A few student ids: each draws its own inputs."""

RIGHT_FORWARD = """
y = x * self.w1 * self.w2
return y
"""

RIGHT_DLOSS = """
residual = y_true - self.w1 * self.w2 * x
dloss_dw1 = -(2 * self.w2 * x * residual).mean()
dloss_dw2 = -(2 * self.w1 * x * residual).mean()
return dloss_dw1, dloss_dw2
"""


def _dloss(dw1: str, dw2: str, returns: str = "dloss_dw1, dloss_dw2", setup: str = "") -> str:
    """A gradient body: the residual, two expressions, a return statement."""
    return f"""
r = y_true - self.w1 * self.w2 * x
{setup}
dloss_dw1 = {dw1}
dloss_dw2 = {dw2}
return {returns}
"""


# ---------------------------------------------------------------------------------------
# Right answers, written differently: full marks on every test, no mistake named.
# ---------------------------------------------------------------------------------------

CORRECT: dict[str, tuple[str, str]] = {
    "as_derived": (RIGHT_FORWARD, RIGHT_DLOSS),
    "sum_over_len": (
        "return self.w1 * (self.w2 * x)",
        _dloss("-2 * self.w2 * np.sum(x * r) / len(x)", "-2 * self.w1 * np.sum(x * r) / len(x)"),
    ),
    "residual_other_sign": (
        "return np.multiply(self.w1 * self.w2, x)",
        """
error = self.w1 * self.w2 * x - y_true
return np.mean(2 * self.w2 * x * error), np.mean(2 * self.w1 * x * error)
""",
    ),
    "np_dot": (
        "return np.dot(self.w1 * self.w2, x)",
        _dloss("-2 * self.w2 * np.dot(x, r) / x.shape[0]", "-2 * self.w1 * np.dot(r, x) / x.size"),
    ),
    "float_conversions": (
        """
w1, w2 = float(self.w1), float(self.w2)
return w1 * w2 * x
""",
        _dloss("float(-2 * np.mean(self.w2 * x * r))", "float(-2 * np.mean(self.w1 * x * r))"),
    ),
    "chain_rule": (
        """
hidden = self.w1 * x
output = self.w2 * hidden
return output
""",
        """
y_hat = self.forward(x)
dloss_dyhat = 2 * (y_hat - y_true) / x.size
dyhat_dw1 = self.w2 * x
dyhat_dw2 = self.w1 * x
dloss_dw1 = np.sum(dloss_dyhat * dyhat_dw1)
dloss_dw2 = np.sum(dloss_dyhat * dyhat_dw2)
return dloss_dw1, dloss_dw2
""",
    ),
    "list_returned": (RIGHT_FORWARD, _dloss("-2 * np.mean(self.w2 * x * r)", "-2 * np.mean(self.w1 * x * r)", "[dloss_dw1, dloss_dw2]")),
    "tuple_call": (RIGHT_FORWARD, _dloss("-np.mean(2 * self.w2 * x * r)", "-np.mean(2 * self.w1 * x * r)", "tuple([dloss_dw1, dloss_dw2])")),
    "np_float64": (
        "return np.asarray(x, dtype=np.float64) * np.float64(self.w1 * self.w2)",
        _dloss("np.float64(-2 * np.mean(self.w2 * x * r))", "np.float64(-2 * np.mean(self.w1 * x * r))"),
    ),
    "zero_d_arrays": (RIGHT_FORWARD, _dloss("np.array(-2 * np.mean(self.w2 * x * r))", "np.array(-2 * np.mean(self.w1 * x * r))")),
    "one_array_of_two": (
        RIGHT_FORWARD,
        """
common = -2 * np.mean(x * (y_true - self.w1 * self.w2 * x))
return np.array([self.w2, self.w1]) * common
""",
    ),
    "python_loop": (
        "return np.array([self.w1 * self.w2 * xi for xi in x])",
        """
total1 = total2 = 0.0
for xi, yi in zip(x, y_true):
    e = self.w1 * self.w2 * xi - yi
    total1 += 2 * e * self.w2 * xi
    total2 += 2 * e * self.w1 * xi
return total1 / len(x), total2 / len(x)
""",
    ),
    "average_and_harmless_float_state": (
        """
self.w1 = float(self.w1)  # same value: not a side effect
return x * (self.w1 * self.w2)
""",
        _dloss("np.average(-2 * self.w2 * x * r)", "np.average(-2 * self.w1 * x * r)"),
    ),
}

# ---------------------------------------------------------------------------------------
# Wrong answers: the tests each one loses, and the mistakes each failing unit test names.
# ---------------------------------------------------------------------------------------

GRAD_BROKEN = {DLOSS, CURVE, SEED_RUN}
FORWARD_BROKEN = {FORWARD, CURVE, SEED_RUN}
"""A wrong forward breaks the loss records of both training tests (the weights still follow the gradients)."""


def _wrong_grad(dw1: str, dw2: str, *codes: str, returns: str = "dloss_dw1, dloss_dw2", broken=GRAD_BROKEN):
    return (RIGHT_FORWARD, _dloss(dw1, dw2, returns), set(broken), {DLOSS: set(codes)})


def _wrong_forward(body: str, *codes: str, broken=FORWARD_BROKEN):
    return (body, RIGHT_DLOSS, set(broken), {FORWARD: set(codes)})


WRONG: dict[str, tuple[str, str, set[str], dict[str, set[str]]]] = {
    # -- gradients -----------------------------------------------------------------------
    "missing_factor_2": _wrong_grad("-np.mean(self.w2 * x * r)", "-np.mean(self.w1 * x * r)", "grad_missing_factor_2"),
    "sign_flipped": _wrong_grad("np.mean(2 * self.w2 * x * r)", "np.mean(2 * self.w1 * x * r)", "grad_sign_flipped"),
    "sign_and_missing_2": _wrong_grad(
        "np.mean(self.w2 * x * r)", "np.mean(self.w1 * x * r)", "grad_sign_flipped", "grad_missing_factor_2"
    ),
    "factor_2_twice": _wrong_grad("-4 * np.mean(self.w2 * x * r)", "-4 * np.mean(self.w1 * x * r)", "grad_factor_2_twice"),
    "sum_not_mean": _wrong_grad("-2 * np.sum(self.w2 * x * r)", "-2 * np.sum(self.w1 * x * r)", "grad_sum_not_mean"),
    "sum_and_sign": _wrong_grad(
        "2 * np.sum(self.w2 * x * r)", "2 * np.sum(self.w1 * x * r)", "grad_sum_not_mean", "grad_sign_flipped"
    ),
    "mean_divided_again": _wrong_grad(
        "-2 * np.mean(self.w2 * x * r) / len(x)", "-2 * np.mean(self.w1 * x * r) / len(x)", "grad_mean_twice"
    ),
    "weights_swapped": _wrong_grad("-2 * np.mean(self.w1 * x * r)", "-2 * np.mean(self.w2 * x * r)", "grad_swapped_weights"),
    "order_swapped": _wrong_grad(
        "-2 * np.mean(self.w2 * x * r)", "-2 * np.mean(self.w1 * x * r)", "grad_swapped_weights",
        returns="dloss_dw2, dloss_dw1",
    ),
    "one_gradient_wrong_weight": _wrong_grad(
        "-2 * np.mean(self.w2 * x * r)", "-2 * np.mean(self.w2 * x * r)", "grad_wrong_weight"
    ),
    "missing_x": _wrong_grad("-2 * np.mean(self.w2 * r)", "-2 * np.mean(self.w1 * r)", "grad_missing_x"),
    "x_squared": _wrong_grad("-2 * np.mean(self.w2 * x**2 * r)", "-2 * np.mean(self.w1 * x**2 * r)", "grad_x_squared"),
    "prediction_for_residual": _wrong_grad(
        "-2 * np.mean(self.w2 * x * self.w1 * self.w2 * x)", "-2 * np.mean(self.w1 * x * self.w1 * self.w2 * x)",
        "grad_prediction_for_residual",
    ),
    "target_for_residual": _wrong_grad(
        "-2 * np.mean(self.w2 * x * y_true)", "-2 * np.mean(self.w1 * x * y_true)", "grad_target_for_residual"
    ),
    "positive_only_abs": _wrong_grad(
        "-2 * np.mean(abs(self.w2) * x * r)", "-2 * np.mean(abs(self.w1) * x * r)", "grad_positive_weights_only"
    ),
    "positive_only_sqrt_everywhere": _wrong_grad(
        "-2 * np.mean(np.sqrt(self.w2**2) * x * (y_true - np.sqrt((self.w1 * self.w2) ** 2) * x))",
        "-2 * np.mean(np.sqrt(self.w1**2) * x * (y_true - np.sqrt((self.w1 * self.w2) ** 2) * x))",
        "grad_positive_weights_only",
    ),
    "per_sample_arrays": _wrong_grad("-2 * self.w2 * x * r", "-2 * self.w1 * x * r", "grad_per_sample"),
    "float32_gradients": _wrong_grad(
        "np.float32(-2 * np.mean(self.w2 * x * r))", "np.float32(-2 * np.mean(self.w1 * x * r))", "lost_precision",
        broken={DLOSS},
    ),
    "rounded_gradients": _wrong_grad(
        "round(float(-2 * np.mean(self.w2 * x * r)), 3)", "round(float(-2 * np.mean(self.w1 * x * r)), 3)",
        "lost_precision",
    ),
    "gradient_side_effect": (
        RIGHT_FORWARD,
        """
r = y_true - self.w1 * self.w2 * x
dloss_dw1 = -2 * np.mean(self.w2 * x * r)
dloss_dw2 = -2 * np.mean(self.w1 * x * r)
self.w1 -= 0.01 * dloss_dw1
return dloss_dw1, dloss_dw2
""",
        GRAD_BROKEN,
        {DLOSS: {"side_effect_on_weights"}},
    ),
    # -- forward pass --------------------------------------------------------------------
    "forward_drops_w2": _wrong_forward("return self.w1 * x", "forward_drops_w2"),
    "forward_drops_w1": _wrong_forward("return self.w2 * x", "forward_drops_w1"),
    "forward_adds_weights": _wrong_forward("return (self.w1 + self.w2) * x", "forward_adds_weights"),
    "forward_bias": _wrong_forward("return self.w1 * self.w2 * x + 0.5", "forward_adds_bias"),
    "forward_squared": _wrong_forward("return (self.w1 * self.w2 * x) ** 2", "forward_squared"),
    # The seed run ends with both weights negative, where |w1·w2| is right: its final state passes.
    "forward_positive_only": _wrong_forward(
        "return abs(self.w1 * self.w2) * x", "forward_positive_weights_only", broken={FORWARD, CURVE}
    ),
    "forward_abs_w1_only": _wrong_forward("return abs(self.w1) * self.w2 * x", "forward_positive_weights_only"),
    "forward_ignores_x": _wrong_forward("return np.full_like(x, self.w1 * self.w2)", "forward_ignores_x"),
    "forward_side_effect": (
        """
self.w1 = self.w1 * 0.99
return self.w1 * self.w2 * x
""",
        RIGHT_DLOSS,
        FORWARD_BROKEN,
        {FORWARD: {"side_effect_on_weights"}},
    ),
    "forward_float32": _wrong_forward(
        "return (np.float32(self.w1) * np.float32(self.w2) * x.astype(np.float32))", "lost_precision", broken={FORWARD}
    ),
    "forward_rounded": _wrong_forward("return np.round(self.w1 * self.w2 * x, 3)", "lost_precision"),
    # -- both ----------------------------------------------------------------------------
    "forward_adds_weights_and_sign_flipped": (
        "return (self.w1 + self.w2) * x",
        _dloss("np.mean(2 * self.w2 * x * r)", "np.mean(2 * self.w1 * x * r)"),
        FORWARD_BROKEN | GRAD_BROKEN,
        {FORWARD: {"forward_adds_weights"}, DLOSS: {"grad_sign_flipped"}},
    ),
}

UNKNOWN: dict[str, tuple[str, str, set[str]]] = {
    # Nothing in the catalogue: the feedback says which output is off, where, and by how much.
    "gradient_offset": (RIGHT_FORWARD, _dloss("-2 * np.mean(self.w2 * x * r) + 0.1", "-2 * np.mean(self.w1 * x * r)"), GRAD_BROKEN),
    "gradient_product_of_weights": (
        RIGHT_FORWARD,
        _dloss("-2 * np.mean(self.w1 * self.w2 * x * r)", "-2 * np.mean(self.w1 * self.w2 * x * r)"),
        GRAD_BROKEN,
    ),
    "forward_cubed_input": ("return self.w1 * self.w2 * x**3", RIGHT_DLOSS, FORWARD_BROKEN),
    "forward_scaled": ("return 1.5 * self.w1 * self.w2 * x", RIGHT_DLOSS, FORWARD_BROKEN),
}

FORMULA_TEXT = re.compile(
    r"-\s*2\s*\*\s*(self\.)?w[12]|mean\(\s*2|2\s*\*\s*(self\.)?w[12]\s*\*\s*x|2\s*·\s*w[12]\s*·\s*x|"
    r"w[12]\s*\*\s*x\s*\*\s*\(|w[12]\s*·\s*x\s*·\s*\(",
    re.IGNORECASE,
)
"""What a message must never contain: the reference gradient, in code or in math."""


# ---------------------------------------------------------------------------------------
# Running an implementation in-process
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _release_cells() -> tuple[str, str]:
    """The released notebook's ``loss`` cell and its class cell (with the stubs)."""
    import nbformat

    nb = nbformat.read(ROOT / "release" / ASSIGNMENT / "shallow_narrow.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    loss = next(s for s in code if s.lstrip().startswith("def loss("))
    return loss, nbformat.writes(nb)


@lru_cache(maxsize=None)
def namespace_code(forward: str, dloss: str) -> str:
    """The source a student's notebook would run: ``loss`` and the filled-in class."""
    import nbformat

    loss, release = _release_cells()
    nb = fill_stubs(nbformat.reads(release, as_version=4), [textwrap.dedent(forward).strip(), textwrap.dedent(dloss).strip()])
    (cls,) = [c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert "YOUR CODE HERE" not in cls
    return loss + "\n\n" + cls


def run(forward: str, dloss: str, check: str, student: str) -> Verdict:
    """Probe and judge one check on one implementation, as the grader would (minus the kernel)."""
    namespace: dict[str, Any] = {"np": np}
    exec(compile(namespace_code(forward, dloss), "<student>", "exec"), namespace)  # noqa: S102
    request = checks.make_request(check, ASSIGNMENT, student)
    with np.errstate(all="ignore"):  # a diverging run warns in the student's kernel, not here
        payload = json.loads(json.dumps(probe.collect(namespace, request)))
    return checks.CHECKS[check].judge(request, as_if_the_notebook_ran(request, payload, namespace, (forward, dloss)))


def assert_teaches(verdict: Verdict) -> None:
    """A failing message names no formula and every code it carries is a known one."""
    assert not FORMULA_TEXT.search(verdict.message), verdict.message
    assert all(code in checks.all_mistakes() for code in verdict.mistakes), verdict.mistakes


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------


def test_catalogue_is_large_enough() -> None:
    assert len(WRONG) >= 15 and len(CORRECT) >= 8
    named = {code for *_, codes in WRONG.values() for per_check in codes.values() for code in per_check}
    assert named <= {m.code for m in checks.all_mistakes()}, named - {m.code for m in checks.all_mistakes()}


@pytest.mark.parametrize("name", sorted(CORRECT))
@pytest.mark.parametrize("student", STUDENTS[:2])
def test_correct_implementation_gets_full_marks(name: str, student: str) -> None:
    forward, dloss = CORRECT[name]
    for check in ALL_CHECKS:
        verdict = run(forward, dloss, check, student)
        assert verdict.score == 1.0 and verdict.mistakes == [], f"{check}: {verdict.message}"
        assert "mistake" not in verdict.message.lower()


@settings(max_examples=15)
@given(student=st.text(min_size=1, max_size=12), name=st.sampled_from(sorted(CORRECT)))
def test_correct_implementations_pass_whoever_draws_the_inputs(student: str, name: str) -> None:
    forward, dloss = CORRECT[name]
    for check in (FORWARD, DLOSS, CURVE):  # the seed run's inputs are the same for everyone
        verdict = run(forward, dloss, check, student)
        assert verdict.score == 1.0 and not verdict.mistakes, f"{check}: {verdict.message}"


@pytest.mark.parametrize("name", sorted(WRONG))
@pytest.mark.parametrize("student", STUDENTS)
def test_wrong_implementation_loses_its_tests_and_is_diagnosed(name: str, student: str) -> None:
    forward, dloss, broken, diagnoses = WRONG[name]
    for check in ALL_CHECKS:
        verdict = run(forward, dloss, check, student)
        if check not in broken:
            assert verdict.score == 1.0, f"{name} should keep {check}: {verdict.message}"
            continue
        assert verdict.score == 0.0, f"{name} should lose {check}: {verdict.message}"
        assert_teaches(verdict)
        if check in diagnoses:
            assert set(verdict.mistakes) == diagnoses[check], f"{check}: {verdict.message}"
            for code in verdict.mistakes:
                assert checks.all_mistakes()[code].title in verdict.message


@settings(max_examples=10)
@given(student=st.text(min_size=1, max_size=12), name=st.sampled_from(sorted(WRONG)))
def test_diagnosis_does_not_depend_on_the_drawn_inputs(student: str, name: str) -> None:
    forward, dloss, _, diagnoses = WRONG[name]
    for check, codes in diagnoses.items():
        assert set(run(forward, dloss, check, student).mistakes) == codes


@pytest.mark.parametrize("name", sorted(name for name in WRONG if WRONG[name][2] & TRAINING))
def test_training_tests_say_where_the_fault_is(name: str) -> None:
    forward, dloss, broken, diagnoses = WRONG[name]
    for check in sorted(broken & TRAINING):
        message = run(forward, dloss, check, STUDENTS[0]).message
        if FORWARD in diagnoses and "side_effect_on_weights" in diagnoses[FORWARD]:
            assert "changes the weights" in message, message
        elif FORWARD in broken:
            assert "forward pass" in message, message
        elif "grad_per_sample" in diagnoses.get(DLOSS, ()):
            assert "raised an error" in message, message  # train itself breaks on arrays
        else:
            assert "dloss_dw" in message and "forward pass" not in message, message


@pytest.mark.parametrize(
    "name", ["missing_factor_2", "sign_flipped", "sum_not_mean", "weights_swapped", "missing_x", "target_for_residual"]
)
def test_training_tests_name_the_gradient_mistake_too(name: str) -> None:
    forward, dloss, _, diagnoses = WRONG[name]
    message = run(forward, dloss, CURVE, STUDENTS[1]).message
    assert any(checks.all_mistakes()[code].title in message for code in diagnoses[DLOSS]), message


def test_partial_credit_keeps_the_forward_points() -> None:
    forward, dloss, *_ = WRONG["sign_flipped"]
    assert run(forward, dloss, FORWARD, "alice").score == 1.0
    assert run(forward, dloss, DLOSS, "alice").score == 0.0


def test_one_wrong_gradient_is_named() -> None:
    forward, dloss, *_ = WRONG["one_gradient_wrong_weight"]
    message = run(forward, dloss, DLOSS, "alice").message
    assert "dloss_dw1 is right" in message and "dloss_dw2" in message, message


@pytest.mark.parametrize("name", sorted(UNKNOWN))
@pytest.mark.parametrize("student", STUDENTS[:2])
def test_unknown_mistakes_say_what_where_and_how_much(name: str, student: str) -> None:
    forward, dloss, broken = UNKNOWN[name]
    unit = FORWARD if FORWARD in broken else DLOSS
    for check in ALL_CHECKS:
        verdict = run(forward, dloss, check, student)
        assert verdict.score == (0.0 if check in broken else 1.0), f"{check}: {verdict.message}"
    verdict = run(forward, dloss, unit, student)
    assert verdict.mistakes == [], verdict.message
    assert_teaches(verdict)
    message = verdict.message
    assert re.search(r"\d+ of \d+ test cases", message), message  # where: how many of which inputs
    assert re.search(r"w1 = -?[\d.]+, w2 = -?[\d.]+", message) and "sample" in message, message  # the kind of input
    assert re.search(r"off by [\d.e+-]+%", message), message  # by how much
    if unit == DLOSS:
        assert "finite difference" in message, message
        assert "dloss_dw1" in message, message  # which of the two outputs


def test_offset_in_one_gradient_names_that_gradient() -> None:
    forward, dloss, _ = UNKNOWN["gradient_offset"]
    message = run(forward, dloss, DLOSS, "alice").message
    assert "dloss_dw2 is right" in message, message


def test_known_mistake_messages_never_give_the_formula() -> None:
    for mistake in checks.all_mistakes():
        assert not FORMULA_TEXT.search(mistake.message()), mistake.code


@pytest.mark.parametrize(
    "body, expected",
    [
        ("return 1.0, 2.0, 3.0", "two values"),
        ("return 1.0", "pair"),
        ("return 'a', 'b'", "not a number"),
        ("return np.ones((2, 2)), 0.0", "one number"),
        ("raise NotImplementedError()", "NotImplementedError"),
        ("raise ValueError('oops')", "ValueError: oops"),
    ],
)
def test_malformed_gradients_are_explained(body: str, expected: str) -> None:
    verdict = run(RIGHT_FORWARD, body, DLOSS, "alice")
    assert verdict.score == 0.0 and expected in verdict.message, verdict.message


def test_forward_of_the_wrong_shape_is_explained() -> None:
    verdict = run("return np.sum(self.w1 * self.w2 * x)", RIGHT_DLOSS, FORWARD, "alice")
    assert verdict.score == 0.0 and "shape" in verdict.message, verdict.message


# ---------------------------------------------------------------------------------------
# The sweep: every student's inputs give every implementation the same outcome
# ---------------------------------------------------------------------------------------

SWEEP = [f"student-{i:03d}" for i in range(300)]
"""The student ids of the sweep: each draws its own inputs."""


@lru_cache(maxsize=None)
def _namespace(forward: str, dloss: str) -> dict[str, Any]:
    """The student's class, executed once per implementation (every probe builds fresh instances)."""
    namespace: dict[str, Any] = {"np": np}
    exec(compile(namespace_code(forward, dloss), "<student>", "exec"), namespace)  # noqa: S102
    return namespace


@lru_cache(maxsize=None)
def _request(check: str, student: str) -> dict[str, Any]:
    """A student's request, drawn once (the probe and the judges only read it)."""
    return checks.make_request(check, ASSIGNMENT, student)


def run_everyone(forward: str, dloss: str, check: str, students: list[str]) -> list[Verdict]:
    """:func:`run` for many students, probing once for all of them.

    The probe handles each case on its own, with a fresh object: probing the cases of every student in one
    request and handing each student's judge its share of the results is probing each student alone
    (:func:`test_probing_everyone_at_once_is_probing_each_student_alone` checks it), minus a call per student.
    The JSON round trip is left out: the probe's payload is plain JSON data (floats, lists, dicts), on which
    it changes nothing, and :func:`run`, which makes it, gives the same verdicts (the same test).
    """
    requests = [_request(check, student) for student in students]
    size = len(requests[0]["cases"])
    merged = {**requests[0], "cases": [case for r in requests for case in r["cases"]]}
    with np.errstate(all="ignore"):
        results = probe.collect(_namespace(forward, dloss), merged)["results"]
    judge = checks.CHECKS[check].judge
    shares = [{"results": results[i * size : (i + 1) * size]} for i in range(len(requests))]
    namespace = _namespace(forward, dloss)
    return [judge(r, as_if_the_notebook_ran(r, share, namespace, (forward, dloss))) for r, share in zip(requests, shares)]


def _implementations() -> dict[str, tuple[str, str, set[str], dict[str, set[str]]]]:
    """Every implementation: its bodies, the tests it loses and the mistakes each must name (where known)."""
    everything = {name: (forward, dloss, set(), {}) for name, (forward, dloss) in CORRECT.items()}
    everything.update(WRONG)
    for name, (forward, dloss, broken) in UNKNOWN.items():
        unit = FORWARD if FORWARD in broken else DLOSS
        everything[name] = (forward, dloss, broken, {unit: set()})  # nothing known fits: nothing named
    return everything


IMPLEMENTATIONS = _implementations()


def _stand_ins(check: str) -> dict[str, str]:
    """Each implementation the sweep covers on `check`, and the one swept in its place.

    A check's verdict depends only on the methods it calls: ``forward`` alone for the forward test,
    ``dloss_dw`` (and ``forward`` if it calls it) for the gradient test.  Two implementations with the same
    code there, and the same expected outcome, need one sweep.  The training-curve test calls both and is
    the slow one, and what it alone judges is the run as a whole: it is swept with the plain right
    implementation (every student's training inputs let a right model train as the reference does) and the
    wrong ones only it catches; every other wrong implementation is caught, and every right method passes,
    for every student in the faster tests.  (The seed run's inputs are the same for everyone.)
    """
    if check == CURVE:
        names = ["as_derived", *(name for name, (*_, broken, _) in IMPLEMENTATIONS.items() if broken == {CURVE})]
        return {name: name for name in names}
    chosen: dict[tuple[Any, ...], str] = {}
    stand_in = {}
    for name, (forward, dloss, broken, diagnoses) in IMPLEMENTATIONS.items():
        calls = (forward,) if check == FORWARD else (dloss, forward) if "forward" in dloss else (dloss,)
        key = (calls, check in broken, frozenset(diagnoses.get(check, {"?"})))
        stand_in[name] = chosen.setdefault(key, name)
    return stand_in


SWEPT = {check: _stand_ins(check) for check in (FORWARD, DLOSS, CURVE)}


@pytest.mark.parametrize("check", sorted(SWEPT))
def test_every_student_s_inputs_give_every_implementation_the_same_outcome(check: str) -> None:
    different = []
    for name in sorted(set(SWEPT[check].values())):
        forward, dloss, broken, diagnoses = IMPLEMENTATIONS[name]
        verdicts = run_everyone(forward, dloss, check, SWEEP)
        first = (verdicts[0].score, set(verdicts[0].mistakes))
        assert first[0] == (0.0 if check in broken else 1.0), f"{name}, {check}: {verdicts[0].message}"
        if check in diagnoses:
            assert first[1] == diagnoses[check], f"{name}, {check}: {verdicts[0].message}"
        for student, verdict in zip(SWEEP, verdicts):
            if (verdict.score, set(verdict.mistakes)) != first:
                different.append(f"{name} for {student!r}: {verdict.score}, {verdict.mistakes}: {verdict.message}")
                break
    assert not different, "\n".join(different)


def test_the_sweep_passes_every_right_implementation_and_catches_every_wrong_one() -> None:
    for check in (FORWARD, DLOSS):
        assert set(SWEPT[check]) == set(IMPLEMENTATIONS), check
    for name, (_, _, broken, _) in IMPLEMENTATIONS.items():
        assert not broken or any(name in SWEPT.get(check, {}) for check in broken), f"{name} is lost by no swept test"


def test_the_seed_run_is_the_same_for_everyone() -> None:
    # Its inputs are the exercise's own run, not drawn: one student's verdict is everyone's.
    assert all(_request(SEED_RUN, student) == _request(SEED_RUN, SWEEP[0]) for student in SWEEP)


@pytest.mark.parametrize("name", ["np_dot", "sum_and_sign", "weights_swapped", "forward_bias"])
def test_probing_everyone_at_once_is_probing_each_student_alone(name: str) -> None:
    forward, dloss, *_ = IMPLEMENTATIONS[name]
    students = SWEEP[:4]
    for check in ALL_CHECKS:
        together = run_everyone(forward, dloss, check, students)
        alone = [run(forward, dloss, check, student) for student in students]
        assert [(v.score, v.mistakes, v.message) for v in together] == [(v.score, v.mistakes, v.message) for v in alone]


@pytest.mark.parametrize("check, samples", [(FORWARD, "FORWARD_SAMPLES"), (DLOSS, "GRADIENT_SAMPLES")])
def test_every_student_s_cases_follow_the_plan(check: str, samples: str) -> None:
    from autograder.assignments.shallow_narrow import inputs

    for student in SWEEP:
        cases = _request(check, student)["cases"]
        assert [len(c["args"][0]) for c in cases] == getattr(inputs, samples)
        for case, signs in zip(cases, inputs.SIGNS):
            w, x = np.array(case["init"]), np.array(case["args"][0])
            assert tuple(np.sign(w).astype(int)) == signs, "the same sign pattern for everyone"
            assert abs(abs(w[0]) - abs(w[1])) >= 0.2, "weights of different sizes: swapping them shows"
            if x.size == 1:
                assert x[0] >= 0.3, "a single input is kept away from 0"
            else:
                assert x.min() < 0 and x.max() >= 0.8, "inputs of both signs, not all near 0"
            if check == DLOSS:
                y = np.array(case["args"][1])
                assert abs(np.mean(x * (y - w[0] * w[1] * x))) >= 0.05, "the gradient is never close to 0"
    for student in SWEEP:
        cases = _request(CURVE, student)["cases"]
        assert [tuple(np.sign(c["init"]).astype(int)) for c in cases] == [(1, -1), (-1, -1)]
