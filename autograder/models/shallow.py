r"""The reference math of the shallow narrow linear network.

The model is :math:`\hat y = w_1 w_2 x`, trained on the mean squared error

.. math::

    L(w_1, w_2) = \frac{1}{n} \sum_i \left(y_i - w_1 w_2 x_i\right)^2 ,

whose gradients are

.. math::

    \frac{\partial L}{\partial w_1} = -\frac{1}{n} \sum_i 2 w_2 x_i (y_i - w_1 w_2 x_i), \qquad
    \frac{\partial L}{\partial w_2} = -\frac{1}{n} \sum_i 2 w_1 x_i (y_i - w_1 w_2 x_i).

Everything here is a pure function of numpy arrays and floats, so the grader
can compute the expected answer in its own process, never in a student's kernel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

SEED = 2021
"""The seed the exercise uses (NMA's ``SEED``)."""

SEED_RUN = {"n": 73, "a": 2.0, "sigma": 0.2, "init": (1.4, -1.6), "lr": 0.02, "n_ep": 211}
"""The exercise's own training run (the notebook's last code cell)."""


def forward(w1: float, w2: float, x: ArrayLike) -> NDArray[np.float64]:
    """Predict ``w1 * w2 * x``.

    Parameters
    ----------
    w1, w2 : float
        The two weights.
    x : array_like
        Inputs, shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Predictions, same shape as `x`.
    """
    return w1 * w2 * np.asarray(x, dtype=float)


def mse(y_prediction: ArrayLike, y_true: ArrayLike) -> float:
    """Mean squared error, the exercise's ``loss``.

    Parameters
    ----------
    y_prediction, y_true : array_like
        Predictions and targets of equal shape.

    Returns
    -------
    float
        ``mean((y_true - y_prediction) ** 2)``.
    """
    residual = np.asarray(y_true, dtype=float) - np.asarray(y_prediction, dtype=float)
    return float(np.mean(residual**2))


def gradients(w1: float, w2: float, x: ArrayLike, y_true: ArrayLike) -> tuple[float, float]:
    """Mean gradient of the squared error with respect to ``(w1, w2)``.

    Parameters
    ----------
    w1, w2 : float
        The weights at which to take the gradient.
    x, y_true : array_like
        Inputs and targets, shape ``(n,)``.

    Returns
    -------
    tuple of float
        ``(dL/dw1, dL/dw2)``.
    """
    x = np.asarray(x, dtype=float)
    residual = np.asarray(y_true, dtype=float) - w1 * w2 * x
    # The minus sign comes from d(y - w1 w2 x)/dw = -w_other x (NMA's 2021 text dropped it).
    dw1 = -np.mean(2 * w2 * x * residual)
    dw2 = -np.mean(2 * w1 * x * residual)
    return float(dw1), float(dw2)


def finite_difference_gradients(
    w1: float, w2: float, x: ArrayLike, y_true: ArrayLike, step: float = 1e-6
) -> tuple[float, float]:
    """Central finite-difference estimate of :func:`gradients`.

    Used to check the analytic formula, and in feedback: it needs only the loss,
    so it tells a student what the gradient should be without showing the formula.

    Parameters
    ----------
    w1, w2 : float
        The point at which to estimate the gradient.
    x, y_true : array_like
        Inputs and targets.
    step : float, optional
        The half-width of the central difference.

    Returns
    -------
    tuple of float
        The estimates of ``(dL/dw1, dL/dw2)``.
    """

    def loss_at(a: float, b: float) -> float:
        return mse(forward(a, b, x), y_true)

    dw1 = (loss_at(w1 + step, w2) - loss_at(w1 - step, w2)) / (2 * step)
    dw2 = (loss_at(w1, w2 + step) - loss_at(w1, w2 - step)) / (2 * step)
    return dw1, dw2


def compare_with_slope(w1: float, w2: float, x: ArrayLike, y_true: ArrayLike, pair: ArrayLike) -> tuple[str, float] | None:
    """How a student's gradient at ``(w1, w2)`` compares with the finite-difference slope of the loss.

    Judges put the finding into their own words, without showing the formula.

    Parameters
    ----------
    w1, w2 : float
        The point.
    x, y_true : array_like
        The data.
    pair : array_like
        The student's ``(dL/dw1, dL/dw2)``.

    Returns
    -------
    tuple or None
        ``(finding, ratio)``: finding is ``"uphill"`` (a step against it raises the loss),
        ``"scaled"`` (the right direction, `ratio` times as long), ``"near"`` (close to the slope,
        not on it) or ``"elsewhere"``; ratio is the length of `pair` over the slope's.  None when
        nothing can be said (a non-finite or zero gradient, or a flat loss).
    """
    pair = np.asarray(pair, dtype=float)
    numeric = np.array(finite_difference_gradients(w1, w2, x, y_true))
    norm_s, norm_n = float(np.linalg.norm(pair)), float(np.linalg.norm(numeric))
    if not np.all(np.isfinite(pair)) or norm_s == 0 or norm_n < 1e-9:
        return None
    ratio = norm_s / norm_n
    cosine = float(pair @ numeric) / (norm_s * norm_n)
    if cosine < 0:
        return "uphill", ratio
    if cosine > 0.9999 and abs(ratio - 1) > 0.05:
        return "scaled", ratio
    if float(np.linalg.norm(pair - numeric)) < 0.1 * norm_n:
        return "near", ratio
    return "elsewhere", ratio


def train(
    init_weights: tuple[float, float], x: ArrayLike, y_true: ArrayLike, lr: float, n_ep: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gradient descent exactly as the exercise's ``train`` does it.

    The loss is recorded *before* each update, the weights *after* it.

    Parameters
    ----------
    init_weights : tuple of float
        ``(w1, w2)`` at the start.
    x, y_true : array_like
        Training inputs and targets.
    lr : float
        Learning rate.
    n_ep : int
        Number of epochs (gradient steps).

    Returns
    -------
    loss_records : numpy.ndarray
        Shape ``(n_ep,)``.
    weight_records : numpy.ndarray
        Shape ``(n_ep, 2)``.
    """
    w1, w2 = float(init_weights[0]), float(init_weights[1])
    loss_records = np.empty(n_ep)
    weight_records = np.empty((n_ep, 2))
    for i in range(n_ep):
        loss_records[i] = mse(forward(w1, w2, x), y_true)
        dw1, dw2 = gradients(w1, w2, x, y_true)
        w1, w2 = w1 - lr * dw1, w2 - lr * dw2
        weight_records[i] = (w1, w2)
    return loss_records, weight_records


def gen_samples(n: int, a: float, sigma: float, seed: int = SEED) -> tuple[NDArray, NDArray]:
    """The exercise's data, drawn from a private generator seeded like ``set_seed(seed)``.

    ``set_seed`` seeds numpy's global legacy generator, which is a
    ``RandomState(seed)``; drawing from our own ``RandomState`` gives the same
    numbers without touching global state.

    Parameters
    ----------
    n : int
        Number of samples (> 0).
    a : float
        Slope of the line ``y = a x``.
    sigma : float
        Standard deviation of the Gaussian noise (>= 0).
    seed : int, optional
        The seed ``set_seed`` would have been given.

    Returns
    -------
    x, y : numpy.ndarray
        Shape ``(n,)`` each.
    """
    assert n > 0 and sigma >= 0
    if sigma > 0:
        rng = np.random.RandomState(seed)
        x = rng.rand(n)
        y = a * x + rng.normal(scale=sigma, size=n)
    else:
        x = np.linspace(0, 1, n)
        y = a * x
    return x, y
