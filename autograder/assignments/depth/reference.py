r"""The reference math of ``03_depth_and_init``: a deep narrow linear network.

The network has :math:`D` weights in a chain, :math:`\hat y = \left(\prod_{j=1}^{D} w_j\right) x`, and is
trained on half the mean squared error (as in NMA's ``DeepNarrowLNN``)

.. math::

    L = \frac{1}{2n} \sum_i (y_i - \hat y_i)^2, \qquad
    \frac{\partial L}{\partial w_i} = -\overline{x (y - \hat y)} \prod_{j \ne i} w_j .

NMA writes the product of the other weights as ``prod(W) / w_i``, which is 0/0 when ``w_i = 0``;
here it is the product of the others, which is always defined.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEMO = {"n": 100, "a": 2.0, "sigma": 0.1, "n_ep": 600, "init": 0.9}
"""NMA's depth demo: ``gen_samples(100, 2.0, 0.1)``, 600 epochs, every weight starting at 0.9."""

THRESHOLD = 1e-2
"""A run has converged once its loss goes below this and stays there (NMA's criterion)."""


def forward(w: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
    """``prod(w) * x``."""
    return float(np.prod(np.asarray(w, dtype=float))) * np.asarray(x, dtype=float)


def loss(y_true: ArrayLike, y_prediction: ArrayLike) -> float:
    """Half the mean squared error."""
    r = np.asarray(y_true, dtype=float) - np.asarray(y_prediction, dtype=float)
    return float(np.mean(r**2) / 2)


def others_product(w: ArrayLike) -> NDArray[np.float64]:
    """``[prod of all weights but w_i for each i]``, exact when some weights are 0 (prefix times suffix products)."""
    w = np.asarray(w, dtype=float).ravel()
    before = np.concatenate(([1.0], np.cumprod(w)[:-1]))
    after = np.concatenate((np.cumprod(w[::-1])[:-1][::-1], [1.0]))
    return before * after


def gradients(w: ArrayLike, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """``dL/dw``, shape ``(D,)``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    residual = y - forward(w, x)
    return -float(np.mean(x * residual)) * others_product(w)


def train(init: ArrayLike, x: ArrayLike, y: ArrayLike, lr: float, n_ep: int) -> tuple[NDArray, NDArray]:
    """Gradient descent exactly as the notebook's given ``train``: loss before each update, weights after;
    it stops early (shorter records) at the first gradient that is not finite."""
    w = np.asarray(init, dtype=float).ravel().copy()
    loss_records = np.empty(n_ep)
    weight_records = np.empty((n_ep, w.size))
    with np.errstate(all="ignore"):
        for i in range(n_ep):
            loss_records[i] = loss(y, forward(w, x))
            g = gradients(w, x, y)
            if not np.all(np.isfinite(g)):
                return loss_records[:i], weight_records[:i]
            w = w - lr * g
            weight_records[i] = w
    return loss_records, weight_records


def convergence_epoch(losses: ArrayLike, threshold: float = THRESHOLD) -> int | None:
    """The first epoch from which the loss stays below `threshold` to the end (None if it never does)."""
    losses = np.asarray(losses, dtype=float)
    above = np.flatnonzero(~(losses < threshold))
    if losses.size == 0 or (above.size and above[-1] == losses.size - 1):
        return None
    return int(above[-1] + 1) if above.size else 0
