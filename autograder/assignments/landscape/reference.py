r"""The reference math of ``02_learning_landscape``: the loss of the shallow narrow net over its weights.

The model is :math:`\hat y = w_1 w_2 x` with the mean squared error
:math:`L(w_1, w_2) = \frac1n \sum_i (y_i - w_1 w_2 x_i)^2` (as in the first assignment).
Writing :math:`S = \overline{x^2}` and :math:`C = \overline{x y}`,

.. math::

    L = \overline{y^2} - 2 p C + p^2 S, \qquad p = w_1 w_2 ,

so the minima are the hyperbola :math:`w_1 w_2 = C / S` and the origin is a saddle.  At a
minimum the Hessian is :math:`2 S\, v v^\top` with :math:`v = (w_2, w_1)`: its eigenvalues are
0 (along the valley) and :math:`\lambda = 2 S (w_1^2 + w_2^2)`, so gradient descent near the
minimum converges for learning rates below :math:`2 / \lambda = 1 / (S (w_1^2 + w_2^2))`.

Gradient flow conserves :math:`w_1^2 - w_2^2`; with data of slope :math:`a > 0` the points with
:math:`w_1 = -w_2` (:math:`w_1 = w_2` when :math:`a < 0`) flow straight into the saddle, and
gradient descent keeps them on that line exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...models import shallow as reference

LANDSCAPE = {"n": 10, "a": 1.0, "sigma": 0.0, "lr": 0.15, "n_ep": 40, "span": 1.9}
"""NMA's vector-field setting: noiseless data y = x, lr 0.15, 40 epochs, weights in [-1.9, 1.9]."""


def loss_grid(w1: ArrayLike, w2: ArrayLike, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Mean squared error at every point of a grid of weights (arrays of equal shape)."""
    w1, w2 = np.asarray(w1, dtype=float), np.asarray(w2, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    residual = y - (w1 * w2)[..., None] * x
    return np.mean(residual**2, axis=-1)


def gradient_grid(w1: ArrayLike, w2: ArrayLike, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """``(dL/dw1, dL/dw2)`` at every point of a grid of weights."""
    w1, w2 = np.asarray(w1, dtype=float), np.asarray(w2, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    m = np.mean(x * (y - (w1 * w2)[..., None] * x), axis=-1)  # mean of x times the residual
    return -2 * w2 * m, -2 * w1 * m


def best_slope(x: ArrayLike, y: ArrayLike) -> float:
    """The product ``w1 * w2`` at the minima: the least-squares slope through the origin."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean(x * y) / np.mean(x * x))


def ends_at_saddle(w1: float, w2: float, a: float) -> bool:
    """Whether gradient descent from ``(w1, w2)`` on noiseless data ``y = a x`` ends at the saddle."""
    return bool(w1 + np.sign(a) * w2 == 0)


def hessian_top_eigenvalue(w1: float, w2: float, x: ArrayLike, y: ArrayLike) -> float:
    """Largest eigenvalue of the loss's Hessian at ``(w1, w2)`` (exact, any point)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    s, c = float(np.mean(x * x)), float(np.mean(x * y))
    p = w1 * w2
    off = 2 * (p * s - c) + 2 * s * p
    h = np.array([[2 * s * w2 * w2, off], [off, 2 * s * w1 * w1]])
    return float(np.linalg.eigvalsh(h)[-1])


def max_stable_lr(w1: float, w2: float, x: ArrayLike, y: ArrayLike) -> float:
    """``2 / lambda_max`` at a minimum ``(w1, w2)``: the largest learning rate that still converges there."""
    return 2.0 / hessian_top_eigenvalue(w1, w2, x, y)


def train_path(init: tuple[float, float], x: ArrayLike, y: ArrayLike, lr: float, n_ep: int) -> NDArray[np.float64]:
    """Weights ``(n_ep + 1, 2)`` of gradient descent, the start included."""
    path = np.empty((n_ep + 1, 2))
    w1, w2 = float(init[0]), float(init[1])
    path[0] = w1, w2
    with np.errstate(all="ignore"):
        for i in range(n_ep):
            g1, g2 = reference.gradients(w1, w2, x, y)
            w1, w2 = w1 - lr * g1, w2 - lr * g2
            path[i + 1] = w1, w2
    return path


def descend_end(w1: float, w2: float, s: float, c: float, lr: float, n_ep: int) -> tuple[float, float]:
    """Where gradient descent from ``(w1, w2)`` is after `n_ep` epochs, on data with mean(x²) = s, mean(xy) = c.

    The loss depends on the data only through ``s`` and ``c`` (and a constant), so this is
    :func:`train_path`'s last point in plain float arithmetic (stopped once it diverges): a judge
    that trains once per message stays cheap.  Negating a float is exact, so a start on a diagonal
    ``w1 = ±w2`` whose gradient keeps it there stays on it exactly, as :func:`train_path` does.
    """
    for _ in range(n_ep):
        common = -2.0 * (c - w1 * w2 * s)  # dL/dw1 = common · w2, dL/dw2 = common · w1
        w1, w2 = w1 - lr * common * w2, w2 - lr * common * w1
        if not (abs(w1) < 1e150 and abs(w2) < 1e150):
            break
    return w1, w2


def converges_near(
    w1: float, w2: float, x: ArrayLike, y: ArrayLike, lr: float, n_ep: int = 60, nudge: float = 1e-4
) -> bool:
    """Training run: start a small step off the minimum ``(w1, w2)`` across the valley; does it come back?

    Near the minimum the step across the valley is multiplied by ``1 - lr * lambda`` each epoch, so
    the run comes back exactly when ``lr < 2 / lambda``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    size = float(np.hypot(w1, w2))
    start = (w1 + nudge * w2 / size, w2 + nudge * w1 / size)  # a nudge in the stiff direction, across the valley
    end = descend_end(*start, float(np.mean(x * x)), float(np.mean(x * y)), lr, n_ep)
    return bool(np.all(np.isfinite(end)) and np.hypot(end[0] - w1, end[1] - w2) < nudge)
