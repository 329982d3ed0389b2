"""02_learning_landscape's catalogue: typical wrong answers get the diagnosis they deserve, for every student.

Each implementation is student code: the body a student writes in place of one stub of the released
notebook (``release/02_learning_landscape/learning_landscape.ipynb``), the other three stubs filled
with a right answer.  It runs in-process like ``tests/test_diagnosis.py`` does for 01: the filled-in
solution cells are executed into a namespace, the probe collects from it, the payload makes the
JSON round trip it makes under the secure grader, and the check's own judge scores it.

- :data:`WRONG`: typical mistakes, each with the mistake codes it must be named by (and nothing else);
- :data:`UNKNOWN`: wrong in a way no known mistake explains: caught, nothing named, and the message
  says which output is off, on which input and by how much;
- :data:`RIGHT`: right answers written differently: full marks, no mistake named.

Fairness: every student id draws its own inputs, and each check's implementations are run on the
inputs of :data:`SWEEP` (300) student ids: every wrong one loses its test with its diagnosis for
every id, every right one keeps full marks for every id.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import nbformat
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograder.core import checks, probe
from autograder.core.verdict import Verdict
from autograder.course.submissions import fill_stubs
from conftest import ROOT, solution_namespace

ASSIGNMENT = "02_learning_landscape"
NOTEBOOK = ROOT / "release" / ASSIGNMENT / "learning_landscape.ipynb"
FUNCTIONS = ("loss_grid", "loss_gradient", "ends_at_saddle", "max_stable_lr")
"""The stubs of the released notebook, in order."""
CHECK_OF = {
    "loss_grid": "landscape.loss_grid",
    "loss_gradient": "landscape.gradient",
    "ends_at_saddle": "landscape.saddle",
    "max_stable_lr": "landscape.max_lr",
}
SWEEP = [f"student-{i:03d}" for i in range(297)] + ["alice", "Bob <o'Neil> & \"co\"", "zoë 42"]
"""The student ids whose inputs every implementation is run on (300)."""


@dataclass(frozen=True)
class Student:
    """One implementation of one function, as a student writes it in place of the stub."""

    function: str
    body: str
    mistakes: frozenset[str] = frozenset()
    """The codes the verdict must carry (empty: none, for a right or an unknown implementation)."""


def wrong(function: str, body: str, *codes: str) -> Student:
    return Student(function, textwrap.dedent(body).strip(), frozenset(codes))


def right(function: str, body: str) -> Student:
    return Student(function, textwrap.dedent(body).strip())


# ---------------------------------------------------------------------------------------
# The right answers the other stubs are filled with (the instructor's solution)
# ---------------------------------------------------------------------------------------

SOLUTION = {
    "loss_grid": right("loss_grid", "L = ((y - (W1 * W2)[..., None] * x) ** 2).mean(axis=-1)"),
    "loss_gradient": right(
        "loss_gradient",
        """
        xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)
        dL_dW1 = -2 * W2 * xr
        dL_dW2 = -2 * W1 * xr
        """,
    ),
    "ends_at_saddle": right("ends_at_saddle", "saddle = bool(w1 == -np.sign(a) * w2)"),
    "max_stable_lr": right(
        "max_stable_lr",
        """
        s, c, p = (x * x).mean(), (x * y).mean(), w1 * w2
        off_diagonal = 2 * (2 * p * s - c)
        hessian = np.array([[2 * s * w2**2, off_diagonal], [off_diagonal, 2 * s * w1**2]])
        lr_max = 2 / np.linalg.eigvalsh(hessian)[-1]
        """,
    ),
}

_LOOPS = """
L = np.zeros(W1.shape)
for i in range({rows}):
    for j in range({cols}):
        L[i, j] = np.mean((y - W1[i, j] * W2[i, j] * x) ** 2)
"""

_GRADIENT = """
r = y - (W1 * W2)[..., None] * x
dL_dW1 = {g1}
dL_dW2 = {g2}
"""

_HESSIAN = """
s, c, p = np.mean(x * x), np.mean(x * y), w1 * w2
off_diagonal = {off}
hessian = np.array([[2 * s * w2**2, off_diagonal], [off_diagonal, 2 * s * w1**2]])
lr_max = {lr}
"""


def _hessian(off: str = "2 * (2 * p * s - c)", lr: str = "2 / np.linalg.eigvalsh(hessian)[-1]") -> str:
    return _HESSIAN.format(off=off, lr=lr)


# ---------------------------------------------------------------------------------------
# Typical mistakes, with the diagnosis each must get
# ---------------------------------------------------------------------------------------

WRONG: dict[str, Student] = {
    # -- loss_grid -------------------------------------------------------------------------
    "loss_half_mse": wrong(
        "loss_grid", "L = np.mean((y - (W1 * W2)[..., None] * x) ** 2, axis=-1) / 2", "grid_loss_half"
    ),
    "loss_sum_for_mean": wrong(
        "loss_grid", "L = np.sum((y - W1[..., None] * W2[..., None] * x) ** 2, axis=-1)", "grid_loss_sum"
    ),
    "loss_square_of_mean": wrong(
        "loss_grid", "L = np.mean(y - (W1 * W2)[..., None] * x, axis=-1) ** 2", "grid_loss_square_of_mean"
    ),
    "loss_rmse": wrong(
        "loss_grid", "L = np.sqrt(np.mean((y - (W1 * W2)[..., None] * x) ** 2, axis=-1))", "grid_loss_rmse"
    ),
    "loss_abs": wrong("loss_grid", "L = np.abs(y - (W1 * W2)[..., None] * x).mean(axis=-1)", "grid_loss_abs"),
    "loss_variance": wrong("loss_grid", "L = np.var(y - (W1 * W2)[..., None] * x, axis=-1)", "grid_loss_variance"),
    "loss_adds_weights_loops": wrong(
        "loss_grid",
        """
        L = np.zeros_like(W1)
        for i in range(W1.shape[0]):
            for j in range(W1.shape[1]):
                L[i, j] = np.mean((y - (W1[i, j] + W2[i, j]) * x) ** 2)
        """,
        "grid_loss_adds_weights",
    ),
    "loss_drops_w2": wrong("loss_grid", "L = np.mean((y - W1[..., None] * x) ** 2, axis=-1)", "grid_loss_drops_w2"),
    "loss_drops_w1": wrong(
        "loss_grid",
        """
        L = np.zeros(W1.shape)
        for i in range(W1.shape[0]):
            for j in range(W1.shape[1]):
                L[i, j] = np.mean((y - W2[i, j] * x) ** 2)
        """,
        "grid_loss_drops_w1",
    ),
    "loss_no_square": wrong("loss_grid", "L = np.mean(y - (W1 * W2)[..., None] * x, axis=-1)", "grid_loss_no_square"),
    "loss_prediction_sign": wrong(
        "loss_grid", "L = np.mean((y + W1[..., None] * W2[..., None] * x) ** 2, axis=-1)", "grid_loss_prediction_sign"
    ),
    "loss_x_squared": wrong(
        "loss_grid", "L = np.mean((y - (W1 * W2)[..., None] * x**2) ** 2, axis=-1)", "grid_loss_x_squared"
    ),
    "loss_loop_skips_last_row": wrong(
        "loss_grid", _LOOPS.format(rows="W1.shape[0] - 1", cols="W1.shape[1]"), "grid_unfilled"
    ),
    "loss_loop_skips_first_column": wrong(
        "loss_grid", _LOOPS.format(rows="W1.shape[0]", cols="1, W1.shape[1]"), "grid_unfilled"
    ),
    "loss_loop_skips_last_sample": wrong(
        "loss_grid",
        """
        L = np.zeros_like(W1)
        for k in range(len(x) - 1):
            L += (y[k] - W1 * W2 * x[k]) ** 2
        L = L / len(x)
        """,
        "grid_loss_skips_a_sample",
    ),
    "loss_transposed_loops": wrong(
        "loss_grid",
        """
        m, k = W1.shape
        L = np.zeros((k, m))
        for i in range(m):
            for j in range(k):
                L[j, i] = np.mean((y - W1[i, j] * W2[i, j] * x) ** 2)
        """,
        "grid_transposed",
    ),
    "loss_float32": wrong(
        "loss_grid",
        "L = np.mean(((y - (W1 * W2)[..., None] * x) ** 2).astype(np.float32), axis=-1)",
        "lost_precision",
    ),
    # -- loss_gradient ---------------------------------------------------------------------
    "gradient_missing_factor_2": wrong(
        "loss_gradient", _GRADIENT.format(g1="-W2 * np.mean(x * r, axis=-1)", g2="-W1 * np.mean(x * r, axis=-1)"),
        "grad_missing_factor_2",
    ),
    "gradient_sign_flipped": wrong(
        "loss_gradient",
        _GRADIENT.format(g1="2 * W2 * np.mean(x * r, axis=-1)", g2="2 * W1 * np.mean(x * r, axis=-1)"),
        "grad_sign_flipped",
    ),
    "gradient_sum_for_mean": wrong(
        "loss_gradient",
        _GRADIENT.format(g1="-2 * W2 * np.sum(x * r, axis=-1)", g2="-2 * W1 * np.sum(x * r, axis=-1)"),
        "grad_sum_not_mean",
    ),
    "gradient_own_weight": wrong(
        "loss_gradient",
        _GRADIENT.format(g1="-2 * W1 * np.mean(x * r, axis=-1)", g2="-2 * W2 * np.mean(x * r, axis=-1)"),
        "grad_swapped_weights",
    ),
    "gradient_returned_swapped": wrong(
        "loss_gradient",
        """
        xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)
        dL_dW1, dL_dW2 = -2 * W1 * xr, -2 * W2 * xr
        """,
        "grad_swapped_weights",
    ),
    "gradient_missing_x": wrong(
        "loss_gradient",
        _GRADIENT.format(g1="-2 * W2 * np.mean(r, axis=-1)", g2="-2 * W1 * np.mean(r, axis=-1)"),
        "grad_missing_x",
    ),
    "gradient_prediction_for_residual": wrong(
        "loss_gradient",
        """
        y_hat = (W1 * W2)[..., None] * x
        dL_dW1 = -2 * W2 * np.mean(x * y_hat, axis=-1)
        dL_dW2 = -2 * W1 * np.mean(x * y_hat, axis=-1)
        """,
        "grad_prediction_for_residual",
    ),
    "gradient_target_for_residual": wrong(
        "loss_gradient",
        "dL_dW1, dL_dW2 = -2 * W2 * np.mean(x * y), -2 * W1 * np.mean(x * y)",
        "grad_target_for_residual",
    ),
    "gradient_one_sign_flipped": wrong(
        "loss_gradient",
        _GRADIENT.format(g1="-2 * W2 * np.mean(x * r, axis=-1)", g2="2 * W1 * np.mean(x * r, axis=-1)"),
        "grad_sign_flipped",
    ),
    "gradient_sign_and_factor_2": wrong(
        "loss_gradient",
        _GRADIENT.format(g1="W2 * np.mean(x * r, axis=-1)", g2="W1 * np.mean(x * r, axis=-1)"),
        "grad_sign_flipped",
        "grad_missing_factor_2",
    ),
    "gradient_product_of_means": wrong(
        "loss_gradient",
        _GRADIENT.format(
            g1="-2 * W2 * np.mean(x) * np.mean(r, axis=-1)", g2="-2 * W1 * np.mean(x) * np.mean(r, axis=-1)"
        ),
        "grad_product_of_means",
    ),
    "gradient_abs_weights": wrong(
        "loss_gradient",
        _GRADIENT.format(
            g1="-2 * np.abs(W2) * np.mean(x * r, axis=-1)", g2="-2 * np.abs(W1) * np.mean(x * r, axis=-1)"
        ),
        "grad_positive_weights_only",
    ),
    "gradient_loop_skips_last_column": wrong(
        "loss_gradient",
        """
        dL_dW1 = np.zeros(W1.shape)
        dL_dW2 = np.zeros(W1.shape)
        for i in range(W1.shape[0]):
            for j in range(W1.shape[1] - 1):
                r = y - W1[i, j] * W2[i, j] * x
                dL_dW1[i, j] = -2 * W2[i, j] * np.mean(x * r)
                dL_dW2[i, j] = -2 * W1[i, j] * np.mean(x * r)
        """,
        "grid_unfilled",
    ),
    # -- ends_at_saddle --------------------------------------------------------------------
    "saddle_ignores_slope_sign": wrong("ends_at_saddle", "saddle = w1 == -w2", "saddle_ignores_slope_sign"),
    "saddle_wrong_diagonal": wrong("ends_at_saddle", "saddle = bool(w1 == np.sign(a) * w2)", "saddle_wrong_diagonal"),
    "saddle_conservation_only": wrong(
        "ends_at_saddle",
        "saddle = w1**2 - w2**2 == 0  # the conserved quantity is 0 at the saddle",
        "saddle_both_diagonals",
    ),
    "saddle_abs_equal": wrong("ends_at_saddle", "saddle = abs(w1) == abs(w2)", "saddle_both_diagonals"),
    "saddle_loose_tolerance": wrong(
        "ends_at_saddle", "saddle = abs(w1 + np.sign(a) * w2) < 1e-2", "saddle_tolerance_too_loose"
    ),
    "saddle_tolerance_of_a_thousandth": wrong(
        "ends_at_saddle", "saddle = abs(w1 + np.sign(a) * w2) <= 1e-3", "saddle_tolerance_too_loose"
    ),
    "saddle_relative_tolerance": wrong(
        "ends_at_saddle", "saddle = bool(np.isclose(w1, -np.sign(a) * w2, rtol=1e-2))", "saddle_tolerance_too_loose"
    ),
    "saddle_ignores_sign_loosely": wrong(
        "ends_at_saddle", "saddle = abs(w1 + w2) < 0.05", "saddle_ignores_slope_sign", "saddle_tolerance_too_loose"
    ),
    "saddle_sign_test": wrong("ends_at_saddle", "saddle = w1 * w2 * a < 0", "saddle_sign_test"),
    "saddle_sign_test_without_slope": wrong(
        "ends_at_saddle", "saddle = np.sign(w1) != np.sign(w2)", "saddle_sign_test", "saddle_ignores_slope_sign"
    ),
    "saddle_uses_slope_value": wrong("ends_at_saddle", "saddle = w1 == -a * w2", "saddle_uses_slope_value"),
    "saddle_origin_only": wrong("ends_at_saddle", "saddle = w1 == 0 and w2 == 0", "saddle_origin_only"),
    "saddle_always_false": wrong("ends_at_saddle", "saddle = False", "saddle_constant_answer"),
    # -- max_stable_lr ---------------------------------------------------------------------
    "lr_one_over_lambda": wrong(
        "max_stable_lr", _hessian(lr="1 / np.linalg.eigvalsh(hessian)[-1]"), "lr_one_over_lambda"
    ),
    "lr_half_loss_hessian": wrong(
        "max_stable_lr",
        """
        s, c, p = np.mean(x * x), np.mean(x * y), w1 * w2
        hessian = np.array([[s * w2**2, 2 * p * s - c], [2 * p * s - c, s * w1**2]])  # of half the squared error
        lr_max = 2 / np.linalg.eigvalsh(hessian)[-1]
        """,
        "lr_half_loss_curvature",
    ),
    "lr_diagonal_only": wrong("max_stable_lr", _hessian(off="0.0"), "lr_diagonal_only"),
    "lr_missing_product_rule_term": wrong(
        "max_stable_lr", _hessian(off="-2 * (c - p * s)  # d/dw2 of -2 w2 mean(x r), w2 only"), "lr_diagonal_only"
    ),
    "lr_off_diagonal_sign_slip": wrong("max_stable_lr", _hessian(off="2 * (2 * p * s + c)"), "lr_wrong_off_diagonal"),
    "lr_off_diagonal_without_c": wrong("max_stable_lr", _hessian(off="4 * p * s"), "lr_wrong_off_diagonal"),
    "lr_smallest_eigenvalue": wrong(
        "max_stable_lr", _hessian(lr="2 / np.linalg.eigvalsh(hessian)[0]"), "lr_smallest_eigenvalue"
    ),
    "lr_sum_for_mean": wrong(
        "max_stable_lr",
        """
        s, c, p = np.sum(x * x), np.sum(x * y), w1 * w2
        off_diagonal = 2 * (2 * p * s - c)
        hessian = np.array([[2 * s * w2**2, off_diagonal], [off_diagonal, 2 * s * w1**2]])
        lr_max = 2 / np.linalg.eigvalsh(hessian)[-1]
        """,
        "lr_sum_not_mean",
    ),
    "lr_square_of_mean_x": wrong(
        "max_stable_lr", "lr_max = 2 / (2 * np.mean(x) ** 2 * (w1**2 + w2**2))", "lr_square_of_mean_x"
    ),
    "lr_curvature_in_the_product": wrong(
        "max_stable_lr",
        "lr_max = 2 / (2 * np.mean(x**2))  # the loss is a parabola in p = w1 w2",
        "lr_ignores_the_weights",
    ),
    "lr_negated_hessian": wrong(
        "max_stable_lr",
        """
        s, c, p = np.mean(x * x), np.mean(x * y), w1 * w2
        off_diagonal = -2 * (2 * p * s - c)
        hessian = -np.array([[2 * s * w2**2, -off_diagonal], [-off_diagonal, 2 * s * w1**2]])
        lr_max = 2 / np.linalg.eigvalsh(hessian)[0]
        """,
        "lr_wrong_sign",
    ),
}


# ---------------------------------------------------------------------------------------
# Wrong in a way no known mistake explains: caught, and told what, where and how much
# ---------------------------------------------------------------------------------------

UNKNOWN: dict[str, Student] = {
    "loss_weight_decay": right(
        "loss_grid", "L = np.mean((y - (W1 * W2)[..., None] * x) ** 2, axis=-1) + 0.01 * (W1**2 + W2**2)"
    ),
    "loss_loops_rows_for_columns": right("loss_grid", _LOOPS.format(rows="W1.shape[0]", cols="W1.shape[0]")),
    "gradient_weight_decay": right(
        "loss_gradient",
        _GRADIENT.format(g1="-2 * W2 * np.mean(x * r, axis=-1) + 0.1 * W1", g2="-2 * W1 * np.mean(x * r, axis=-1)"),
    ),
    "gradient_product_of_weights": right(
        "loss_gradient",
        _GRADIENT.format(g1="-2 * W1 * W2 * np.mean(x * r, axis=-1)", g2="-2 * W1 * W2 * np.mean(x * r, axis=-1)"),
    ),
    "gradient_one_slip_one_unknown": right(
        "loss_gradient",
        _GRADIENT.format(g1="2 * W2 * np.mean(x * r, axis=-1)", g2="-2 * W1 * np.mean(x * r, axis=-1) + 0.1"),
    ),
    "saddle_smaller_weight_rule": right("ends_at_saddle", "saddle = abs(w1) < abs(w2)"),
    "lr_safety_margin": right("max_stable_lr", _hessian(lr="0.95 * 2 / np.linalg.eigvalsh(hessian)[-1]")),
    "lr_coarse_forward_differences": right(
        "max_stable_lr",
        """
        h = 0.05
        def grad(a, b):
            g1, g2 = loss_gradient(np.array([[a]]), np.array([[b]]), x, y)
            return np.array([g1[0, 0], g2[0, 0]])
        hessian = np.column_stack([(grad(w1 + h, w2) - grad(w1, w2)) / h, (grad(w1, w2 + h) - grad(w1, w2)) / h])
        lr_max = 2 / np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1]
        """,
    ),
}


# ---------------------------------------------------------------------------------------
# Right answers, written differently: full marks, no mistake named
# ---------------------------------------------------------------------------------------

RIGHT: dict[str, Student] = {
    **{f"solution_{name}": student for name, student in SOLUTION.items()},
    # -- loss_grid -------------------------------------------------------------------------
    "loss_loops": right("loss_grid", _LOOPS.format(rows="W1.shape[0]", cols="W1.shape[1]")),
    "loss_expanded_square": right(
        "loss_grid",
        """
        P = W1 * W2  # the loss depends on the weights through their product only
        L = np.mean(y**2) - 2 * P * np.mean(x * y) + P**2 * np.mean(x**2)
        """,
    ),
    "loss_einsum": right(
        "loss_grid",
        """
        r = y[None, None, :] - np.einsum("ij,k->ijk", W1 * W2, x)
        L = np.einsum("ijk,ijk->ij", r, r) / len(x)
        """,
    ),
    "loss_comprehension": right(
        "loss_grid",
        "L = np.array([[np.mean((y - a * b * x) ** 2) for a, b in zip(r1, r2)] for r1, r2 in zip(W1, W2)])",
    ),
    "loss_vectorize": right("loss_grid", "L = np.vectorize(lambda a, b: np.mean((y - a * b * x) ** 2))(W1, W2)"),
    "loss_sample_loop": right(
        "loss_grid",
        """
        L = np.zeros(W1.shape)
        for xi, yi in zip(x, y):
            L = L + (yi - W1 * W2 * xi) ** 2
        L = L / len(x)
        """,
    ),
    "loss_outer": right("loss_grid", "L = np.average((y - np.multiply.outer(W1 * W2, x)) ** 2, axis=2)"),
    # -- loss_gradient ---------------------------------------------------------------------
    "gradient_loops": right(
        "loss_gradient",
        """
        dL_dW1 = np.zeros(W1.shape)
        dL_dW2 = np.zeros(W1.shape)
        for i in range(W1.shape[0]):
            for j in range(W1.shape[1]):
                r = y - W1[i, j] * W2[i, j] * x
                dL_dW1[i, j] = np.mean(-2 * W2[i, j] * x * r)
                dL_dW2[i, j] = np.mean(-2 * W1[i, j] * x * r)
        """,
    ),
    "gradient_einsum": right(
        "loss_gradient",
        """
        r = y - np.einsum("ij,k->ijk", W1 * W2, x)
        xr = np.einsum("ijk,k->ij", r, x) / x.size
        dL_dW1, dL_dW2 = -2 * W2 * xr, -2 * W1 * xr
        """,
    ),
    "gradient_chain_rule": right(
        "loss_gradient",
        """
        y_hat = W1[..., None] * W2[..., None] * x
        dL_dyhat = 2 * (y_hat - y) / len(x)
        dL_dW1 = np.sum(dL_dyhat * W2[..., None] * x, axis=-1)
        dL_dW2 = np.sum(dL_dyhat * W1[..., None] * x, axis=-1)
        """,
    ),
    "gradient_expanded": right(
        "loss_gradient",
        """
        P = W1 * W2
        common = 2 * (P * np.mean(x**2) - np.mean(x * y))
        dL_dW1 = common * W2
        dL_dW2 = common * W1
        """,
    ),
    "gradient_matmul": right(
        "loss_gradient",
        """
        xr = (y - (W1 * W2)[..., None] * x) @ x / len(x)
        dL_dW1 = -2 * W2 * xr
        dL_dW2 = -2 * W1 * xr
        """,
    ),
    "gradient_vectorize": right(
        "loss_gradient",
        """
        def at(a, b):
            m = np.mean(x * (y - a * b * x))
            return -2 * b * m, -2 * a * m
        dL_dW1, dL_dW2 = np.vectorize(at, otypes=[float, float])(W1, W2)
        """,
    ),
    # -- ends_at_saddle --------------------------------------------------------------------
    "saddle_branches_tiny_tolerance": right(
        "ends_at_saddle", "saddle = abs(w1 + w2) < 1e-12 if a > 0 else abs(w1 - w2) < 1e-12"
    ),
    "saddle_isclose": right("ends_at_saddle", "saddle = bool(np.isclose(w1, -np.sign(a) * w2))"),
    "saddle_conservation_and_signs": right(
        "ends_at_saddle",
        """
        on_a_diagonal = w1**2 - w2**2 == 0  # w1² - w2² is conserved and 0 at the saddle
        uphill = w1 * w2 * a < 0  # the product has the slope's opposite sign: the ridge into the saddle
        saddle = bool(on_a_diagonal and (uphill or w1 == 0))
        """,
    ),
    "saddle_math_isclose": right(
        "ends_at_saddle",
        """
        import math
        saddle = math.isclose(w1 + math.copysign(1.0, a) * w2, 0.0, abs_tol=1e-9)
        """,
    ),
    "saddle_if_else": right(
        "ends_at_saddle",
        """
        if a > 0:
            saddle = w1 + w2 == 0
        else:
            saddle = w1 - w2 == 0
        """,
    ),
    "saddle_scaled_by_slope": right("ends_at_saddle", "saddle = abs(a * w1 + abs(a) * w2) < 1e-9"),
    # -- max_stable_lr ---------------------------------------------------------------------
    "lr_closed_form": right("max_stable_lr", "lr_max = 1 / (np.mean(x**2) * (w1**2 + w2**2))"),
    "lr_trace_at_the_minimum": right(
        "max_stable_lr", _hessian(lr="2 / np.trace(hessian)  # at a minimum the other eigenvalue is 0")
    ),
    "lr_eig": right("max_stable_lr", _hessian(lr="2 / np.max(np.linalg.eig(hessian)[0].real)")),
    "lr_outer_product": right(
        "max_stable_lr",
        """
        v = np.array([w2, w1])  # at a minimum the Hessian is 2 mean(x²) v vᵀ
        lr_max = 2 / np.linalg.eigvalsh(2 * np.mean(x**2) * np.outer(v, v))[-1]
        """,
    ),
    "lr_power_iteration": right(
        "max_stable_lr",
        _hessian(lr="None").replace(
            "lr_max = None",
            """v = np.array([1.0, 0.3])
for _ in range(100):
    v = hessian @ v
    v = v / np.linalg.norm(v)
lr_max = 2 / (v @ hessian @ v)""",
        ),
    ),
    "lr_numerical_hessian_of_the_loss": right(
        "max_stable_lr",
        """
        h = 1e-4
        def loss(a, b):
            return loss_grid(np.array([[a]]), np.array([[b]]), x, y)[0, 0]
        h11 = (loss(w1 + h, w2) - 2 * loss(w1, w2) + loss(w1 - h, w2)) / h**2
        h22 = (loss(w1, w2 + h) - 2 * loss(w1, w2) + loss(w1, w2 - h)) / h**2
        h12 = (loss(w1 + h, w2 + h) - loss(w1 + h, w2 - h) - loss(w1 - h, w2 + h) + loss(w1 - h, w2 - h)) / (4 * h * h)
        lr_max = 2 / np.linalg.eigvalsh(np.array([[h11, h12], [h12, h22]]))[-1]
        """,
    ),
    "lr_central_differences_of_the_gradient": right(
        "max_stable_lr",
        """
        h = 1e-5
        hessian = np.zeros((2, 2))
        for k in range(2):
            plus, minus = [w1, w2], [w1, w2]
            plus[k] += h
            minus[k] -= h
            gp = loss_gradient(np.array([[plus[0]]]), np.array([[plus[1]]]), x, y)
            gm = loss_gradient(np.array([[minus[0]]]), np.array([[minus[1]]]), x, y)
            hessian[:, k] = [(gp[0][0, 0] - gm[0][0, 0]) / (2 * h), (gp[1][0, 0] - gm[1][0, 0]) / (2 * h)]
        lr_max = 2 / max(np.linalg.eigvalsh((hessian + hessian.T) / 2))
        """,
    ),
}


FORMULA_TEXT = re.compile(
    r"-\s*2\s*\*?\s*w[12]|2\s*·?\s*w[12]\s*·?\s*x|w1\s*(\*\*\s*2|²)\s*\+\s*w2\s*(\*\*\s*2|²)|"
    r"2\s*\*?\s*p\s*\*?\s*s|mean\(\s*x\s*\*\*?\s*2|x̄²|\(\s*y\s*-\s*w1\s*\*?\s*w2|w1\s*=\s*-\s*w2|w1\s*=\s*±",
    re.IGNORECASE,
)
"""What a message must never contain: the gradient, the Hessian's closed form, the saddle line."""


# ---------------------------------------------------------------------------------------
# Running an implementation in-process
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _release() -> str:
    return nbformat.writes(nbformat.read(NOTEBOOK, as_version=4))


@lru_cache(maxsize=None)
def namespace_of(student: Student) -> dict[str, Any]:
    """The notebook's namespace with `student`'s body in its stub and the solution in the others."""
    bodies = [student.body if name == student.function else SOLUTION[name].body for name in FUNCTIONS]
    nb = fill_stubs(nbformat.reads(_release(), as_version=4), bodies)
    namespace = solution_namespace(nb)
    assert all(callable(namespace.get(name)) for name in FUNCTIONS)
    return namespace


@lru_cache(maxsize=None)
def request_for(check: str, student_id: str) -> dict[str, Any]:
    """The request one student id draws, made once (the probe and the judges only read it)."""
    return checks.make_request(check, ASSIGNMENT, student_id)


def run(student: Student, student_id: str) -> Verdict:
    """Probe and judge the check of `student`'s function, as the grader would (minus the kernel)."""
    check = CHECK_OF[student.function]
    request = request_for(check, student_id)
    with np.errstate(all="ignore"):  # a wrong answer may warn in the student's kernel, not here
        payload = json.loads(json.dumps(probe.collect(namespace_of(student), request)))
        return checks.CHECKS[check].judge(request, payload)


def assert_teaches(verdict: Verdict) -> None:
    """A failing message names no formula, and every code it carries is a known one, whose title it shows."""
    assert not FORMULA_TEXT.search(verdict.message), verdict.message
    known = checks.all_mistakes()
    for code in verdict.mistakes:
        assert code in known, code
        assert known[code].title in verdict.message, verdict.message


def of(function: str, catalogue: dict[str, Student]) -> list[str]:
    return sorted(name for name, student in catalogue.items() if student.function == function)


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------


def test_the_catalogue_is_large_and_covers_every_function() -> None:
    assert len(WRONG) >= 20 and len(RIGHT) >= 8
    for function in FUNCTIONS:
        assert len(of(function, WRONG)) >= 4 and len(of(function, RIGHT)) >= 3, function
    named = {code for student in WRONG.values() for code in student.mistakes}
    assert named <= {m.code for m in checks.all_mistakes()}, named - {m.code for m in checks.all_mistakes()}


def test_every_mistake_of_the_assignment_is_in_the_catalogue() -> None:
    # A registered mistake no implementation here gets is one nobody checked can be named.
    from autograder.assignments.landscape import mistakes

    named = {code for student in WRONG.values() for code in student.mistakes}
    assert {m.code for m in mistakes.MISTAKES} <= named, {m.code for m in mistakes.MISTAKES} - named


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_implementation_is_caught_and_named_for_every_student(name: str) -> None:
    student = WRONG[name]
    for student_id in SWEEP:
        verdict = run(student, student_id)
        assert verdict.score == 0.0, f"{student_id}: {verdict.message}"
        assert set(verdict.mistakes) == student.mistakes, f"{student_id}: {verdict.message}"
    assert_teaches(verdict)


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_a_right_implementation_keeps_full_marks_for_every_student(name: str) -> None:
    for student_id in SWEEP:
        verdict = run(RIGHT[name], student_id)
        assert verdict.score == 1.0 and verdict.mistakes == [], f"{student_id}: {verdict.message}"
        assert "mistake" not in verdict.message.lower()


@pytest.mark.parametrize("name", sorted(UNKNOWN))
def test_an_unknown_mistake_is_caught_for_every_student_and_named_never(name: str) -> None:
    for student_id in SWEEP:
        verdict = run(UNKNOWN[name], student_id)
        assert verdict.score == 0.0 and verdict.mistakes == [], f"{student_id}: {verdict.message}"


NUMBER = r"-?\d+(\.\d+)?(e[+-]?\d+)?"


@pytest.mark.parametrize("name", sorted(UNKNOWN))
@pytest.mark.parametrize("student_id", SWEEP[:3] + SWEEP[-3:])
def test_an_unknown_mistake_is_told_which_output_which_input_and_how_much(name: str, student_id: str) -> None:
    student = UNKNOWN[name]
    verdict = run(student, student_id)
    assert_teaches(verdict)
    message = verdict.message
    assert f"`{student.function}`" in message, message  # which output
    if "raised an error" in message:  # the error itself says how, the input where
        assert "grid of shape" in message, message
        return
    assert re.search(rf"w1 = {NUMBER}, w2 = {NUMBER}", message), message  # on which input
    if student.function == "ends_at_saddle":  # a yes/no answer: how often, on which kinds of start
        kinds = "on the line|elsewhere|near the line|on the other|with a zero|at the saddle"
        assert re.search(rf"\d+ of \d+ ({kinds})", message), message
        assert "slope a =" in message, message
    else:
        assert re.search(rf"off by {NUMBER}%|within 2%", message), message  # by how much
    if student.function == "loss_gradient":
        assert re.search(r"dL_dW1 is (right|wrong)", message) and "dL_dW2 is" in message, message


def test_a_gradient_with_one_wrong_component_says_which() -> None:
    message = run(WRONG["gradient_one_sign_flipped"], "alice").message
    assert "dL_dW1 is right" in message and "dL_dW2 is wrong" in message, message
    message = run(UNKNOWN["gradient_weight_decay"], "alice").message
    assert "dL_dW2 is right" in message and "dL_dW1 is wrong" in message, message


def test_unfilled_rows_are_located() -> None:
    message = run(WRONG["loss_loop_skips_last_row"], "alice").message
    assert re.search(r"row\(s\) \[3\] of 4 keep the value 0", message), message


def test_the_saddle_feedback_says_where_training_really_ends() -> None:
    message = run(UNKNOWN["saddle_smaller_weight_rule"], "alice").message
    assert "gradient descent" in message and ("ends at the saddle" in message or "valley of minima" in message)


def test_the_learning_rate_feedback_cites_training_runs() -> None:
    message = run(UNKNOWN["lr_safety_margin"], "alice").message
    assert "still converges, so yours is too small" in message, message
    assert "off by 5%" in message, message


def test_two_mistakes_with_the_same_numbers_name_neither() -> None:
    # On balanced minima alone, "diagonal only" and "twice the value" give the same numbers: neither is named.
    from autograder.assignments.landscape import judges

    request = json.loads(json.dumps(request_for(CHECK_OF["max_stable_lr"], "alice")))  # a copy to change
    request["cases"] = [c for c in request["cases"] if np.isclose(abs(c["args"][0]), abs(c["args"][1]))]
    assert len(request["cases"]) == 2
    payload = probe.collect(namespace_of(WRONG["lr_diagonal_only"]), request)
    verdict = judges.judge_max_lr(request, json.loads(json.dumps(payload)))
    assert verdict.score == 0 and verdict.mistakes == [], verdict.message


def _saddle_situations(request: dict[str, Any]) -> set[tuple[str, ...]]:
    """The situations a saddle request covers: (kind, slope sign, slope size) and the near misses' distances."""
    from autograder.assignments.landscape import judges
    from autograder.assignments.landscape.inputs import SADDLE_OFFSETS

    found: set[tuple[str, ...]] = set()
    for case in request["cases"]:
        w1, w2, a = case["args"]
        size = "one" if abs(a) == 1 else ("small" if abs(a) < 1 else "large")
        sign = "positive" if a > 0 else "negative"
        kind = judges._saddle_kind(w1, w2, a)
        if kind == "elsewhere":
            kind += " (line's quadrant)" if w1 * w2 * a < 0 else " (valley's quadrant)"
        found.add((kind, sign, size))
        distance = abs(w1 + np.sign(a) * w2)
        for low, high in SADDLE_OFFSETS:
            if low - 1e-4 <= distance <= high + 1e-4 and abs(w1) != abs(w2):
                found.add(("off the line by", sign, size, f"{low}-{high}"))
    return found


def test_every_student_draws_the_same_situations() -> None:
    """Signs, boundaries, zeros, balance and near misses: the same for all, only the numbers differ."""
    saddle, grids, minima = [], [], []
    for student_id in SWEEP:
        saddle.append(_saddle_situations(request_for(CHECK_OF["ends_at_saddle"], student_id)))
        grid_request = request_for(CHECK_OF["loss_grid"], student_id)
        grids.append(
            [
                (np.shape(w1), len(x), *(  # an axis of one weight is one number: its sign is the student's own
                    (bool(np.any(np.less(w, 0))), bool(np.any(np.greater(w, 0))), bool(np.any(np.equal(w, 0))))
                    if np.shape(w1)[axis] > 1 else () for w, axis in ((w1, 1), (w2, 0))
                ))
                for w1, w2, x, _ in (case["args"] for case in grid_request["cases"])
            ]
        )
        lr_request = request_for(CHECK_OF["max_stable_lr"], student_id)
        minima.append(
            [
                (len(x), w1 * w2 > 0, "balanced" if np.isclose(abs(w1), abs(w2)) else abs(w1) > abs(w2))
                for w1, w2, x, _ in (case["args"] for case in lr_request["cases"])
            ]
        )
    assert all(s == saddle[0] for s in saddle), set.symmetric_difference(*saddle[:2])
    for sign in ("positive", "negative"):
        for size in ("small", "large"):
            assert {band for *key, band in saddle[0] if key == ["off the line by", sign, size]} == {
                "0.0003-0.0003", "0.002-0.009", "0.01-0.09", "0.1-0.6"
            }, (sign, size)
    assert {kind for kind, *_ in saddle[0]} >= {
        "on the line that flows into the saddle", "at the saddle (0, 0) itself", "on the other diagonal",
        "with a zero weight", "elsewhere (line's quadrant)", "elsewhere (valley's quadrant)",
    }
    assert all(g == grids[0] for g in grids)
    for shape, _, *signs in grids[0]:  # both signs along every axis of two weights or more
        assert [flags[:2] for flags in signs if flags] == [(True, True)] * ((shape[1] > 1) + (shape[0] > 1)), shape
    assert any(g[2] and g[3] and g[2][2] and g[3][2] for g in grids[0])  # a grid through w1 = 0 and w2 = 0
    assert all(m == minima[0] for m in minima)
    assert {m[2] for m in minima[0]} == {"balanced", True, False} and {m[1] for m in minima[0]} == {True, False}


def _scaled(function: str, factor: float) -> dict[str, Any]:
    """A namespace whose `function` returns the right answer times `factor` (a mistake no catalogue lists)."""
    from autograder.assignments.landscape import reference as ref

    if function == "loss_gradient":
        return {function: lambda *args: tuple(factor * g for g in ref.gradient_grid(*args))}
    right_answer = {"loss_grid": ref.loss_grid, "max_stable_lr": ref.max_stable_lr}[function]
    return {function: lambda *args: factor * right_answer(*args)}


KNOWN_FACTORS = {
    "loss_grid": (0.5, 1.0),
    "loss_gradient": (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0),  # the sign, the factor 2, and both
    "max_stable_lr": (-1.0, 0.5, 1.0, 2.0),
}
"""Factors of the right answer that a known mistake gives (or that are right)."""


@settings(max_examples=60)
@given(
    function=st.sampled_from(sorted(KNOWN_FACTORS)),
    factor=st.floats(-4, 4).filter(lambda f: abs(f) > 0.05),
    student_id=st.sampled_from(SWEEP),
)
def test_a_scaled_answer_is_named_only_when_a_known_mistake_gives_that_scale(
    function: str, factor: float, student_id: str
) -> None:
    assume(all(abs(factor - known) > 0.01 for known in KNOWN_FACTORS[function]))
    check = CHECK_OF[function]
    request = request_for(check, student_id)
    with np.errstate(all="ignore"):
        payload = json.loads(json.dumps(probe.collect(_scaled(function, factor), request)))
        verdict = checks.CHECKS[check].judge(request, payload)
    assert verdict.score == 0.0 and verdict.mistakes == [], verdict.message
    assert_teaches(verdict)


def test_held_out_measure() -> None:
    """Of the catalogue's wrong implementations: how many are named rightly, how many caught (one student)."""
    named = sum(set(run(s, "held-out").mistakes) == s.mistakes for s in WRONG.values())
    caught = sum(run(s, "held-out").score == 0 for s in [*WRONG.values(), *UNKNOWN.values()])
    kept = sum(run(s, "held-out").score == 1 for s in RIGHT.values())
    assert (named, caught, kept) == (len(WRONG), len(WRONG) + len(UNKNOWN), len(RIGHT))
