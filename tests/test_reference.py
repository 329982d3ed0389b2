"""The reference math: gradients, training and the exercise's own numbers."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autograder.models import shallow as reference
from conftest import load_student_module

weights = st.floats(-3, 3, allow_nan=False)
samples = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        arrays(float, n, elements=st.floats(-2, 2, allow_nan=False)),
        arrays(float, n, elements=st.floats(-5, 5, allow_nan=False)),
    )
)


@given(weights, weights, samples)
def test_gradients_match_finite_differences(w1: float, w2: float, data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    analytic = reference.gradients(w1, w2, x, y)
    numeric = reference.finite_difference_gradients(w1, w2, x, y, step=1e-5)
    scale = 1 + np.mean(np.abs(2 * x * (y - w1 * w2 * x))) * (abs(w1) + abs(w2))
    assert np.allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * scale)


@given(weights, weights, samples)
def test_gradient_descent_step_lowers_the_loss(w1: float, w2: float, data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    g1, g2 = reference.gradients(w1, w2, x, y)
    assume(np.hypot(g1, g2) >= 1e-6)  # at a stationary point no step lowers the loss
    before = reference.mse(reference.forward(w1, w2, x), y)
    # A step within 1/L (L bounds the loss's curvature here) against the gradient; halved while it
    # overshoots: if the gradient points uphill, no step size along it ever lowers the loss.
    curvature = 2 * np.mean(x * x) * (w1**2 + w2**2) + 4 * abs(np.mean(2 * w1 * w2 * x * x - x * y))
    step = 1.0 / max(curvature, 1e-12)
    for _ in range(30):
        after = reference.mse(reference.forward(w1 - step * g1, w2 - step * g2, x), y)
        if after < before:
            break
        step /= 2
    assert after < before


@given(weights, weights, samples, st.floats(0.001, 0.1), st.integers(1, 30))
def test_train_records_loss_before_and_weights_after_each_update(w1, w2, data, lr, n_ep) -> None:
    x, y = data
    loss_log, weight_log = reference.train((w1, w2), x, y, lr, n_ep)
    assert loss_log.shape == (n_ep,) and weight_log.shape == (n_ep, 2)
    assert np.isclose(loss_log[0], reference.mse(reference.forward(w1, w2, x), y))
    g1, g2 = reference.gradients(w1, w2, x, y)
    assert np.allclose(weight_log[0], [w1 - lr * g1, w2 - lr * g2])


def test_the_seed_run_reproduces_the_reference_numbers() -> None:
    run = reference.SEED_RUN
    x, y = reference.gen_samples(run["n"], run["a"], run["sigma"])
    assert np.allclose(x[:3], [0.6060, 0.7334, 0.1389], atol=1e-4)
    assert np.isclose(x.mean(), 0.52199, atol=1e-5) and np.isclose(y.mean(), 1.08403, atol=1e-5)
    loss_log, weight_log = reference.train(run["init"], x, y, run["lr"], run["n_ep"])
    assert np.isclose(loss_log[0], 6.354732577804807, rtol=1e-12)
    assert np.allclose(weight_log[0], [1.30530, -1.51714], atol=1e-5)
    assert np.isclose(loss_log[100], 0.12995, atol=1e-5)
    assert np.allclose(weight_log[-1], [-1.3311630651058926, -1.5254625996561189], rtol=1e-10)
    assert np.isclose(loss_log[-1], 0.03402565896322818, rtol=1e-10)
    assert weight_log[0, 0] > 0 > weight_log[-1, 0]  # w1 changes sign on the way


def _student_helpers():
    return load_student_module("01_shallow_narrow", "shallow_narrow_helpers")


@given(st.integers(1, 200), st.floats(-3, 3), st.sampled_from([0.0, 0.1, 0.2, 1.0]), st.integers(0, 2**31))
def test_grader_data_equals_the_students_gen_samples(n: int, a: float, sigma: float, seed: int) -> None:
    helpers = _student_helpers()
    np.random.seed(seed)
    x_student, y_student = helpers.gen_samples(n, a, sigma)
    x_ref, y_ref = reference.gen_samples(n, a, sigma, seed=seed)
    assert np.array_equal(x_student, x_ref) and np.array_equal(y_student, y_ref)


@given(weights, weights, samples, st.floats(2.0, 10.0))
def test_a_gradient_is_compared_with_the_slope_of_the_loss(w1, w2, data, factor) -> None:
    x, y = data
    exact = np.array(reference.gradients(w1, w2, x, y))
    assume(np.linalg.norm(exact) > 1e-3)
    near = reference.compare_with_slope(w1, w2, x, y, exact)
    assert near is not None and near[0] == "near" and np.isclose(near[1], 1, rtol=1e-3)
    assert reference.compare_with_slope(w1, w2, x, y, -exact)[0] == "uphill"
    finding, ratio = reference.compare_with_slope(w1, w2, x, y, factor * exact)
    assert finding == "scaled" and np.isclose(ratio, factor, rtol=1e-3)
    assert reference.compare_with_slope(w1, w2, x, y, exact[::-1] * [1, -1])[0] in ("elsewhere", "uphill")
    assert reference.compare_with_slope(w1, w2, x, y, [0.0, 0.0]) is None
    assert reference.compare_with_slope(w1, w2, x, y, [np.nan, 1.0]) is None
