"""Helpers for the learning-landscape assignment (shipped to students with the notebook).

Everything here is given code: seeding, data, plots, sliders and self-checks.
Your work is in the notebook.  (Adapted from Neuromatch Academy's Deep Learning
course, W1D2 "Learning Hyperparameters", section 1.2.)

The plotting functions take *your* functions as arguments (``loss_grid``,
``loss_gradient``, ...), so what you see is drawn with your code.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import random
from typing import Any, Callable, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SEED = 2021

# matplotlib logs "findfont" lines on stderr for fonts it lacks; stderr in a graded cell costs points.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

LossGrid = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
LossGradient = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple]



def _figure(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a helper that draws: it is skipped while the autograder runs the notebook.

    The grader sets ``AUTOGRADER_FIGURES=skip`` in its kernel: no test reads a figure, and
    your feedback draws your training run against the reference by itself. Run the
    notebook to see the figure.
    """

    @functools.wraps(draw)
    def figure_or_note(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get("AUTOGRADER_FIGURES") == "skip":
            print(f"({draw.__name__}: no figure in the graded copy; run the notebook to see it.)")
            return None
        return draw(*args, **kwargs)

    return figure_or_note


def set_seed(seed: int | None = None) -> None:
    """Seed Python's and numpy's global random generators (prints the seed)."""
    if seed is None:
        seed = np.random.choice(2**32)
    random.seed(seed)
    np.random.seed(seed)
    print(f"Random seed {seed} has been set.")


def gen_samples(n: int, a: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """`n` samples of the line ``y = a * x`` (slope `a`) plus Gaussian noise of std `sigma`.

    With ``sigma == 0`` the inputs are evenly spaced on [0, 1]; otherwise uniform on [0, 1).
    """
    assert n > 0
    assert sigma >= 0
    if sigma > 0:
        x = np.random.rand(n)
        noise = np.random.normal(scale=sigma, size=n)
        y = a * x + noise
    else:
        x = np.linspace(0.0, 1.0, n, endpoint=True)
        y = a * x
    return x, y


def weight_grid(span: float = 1.9, step: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The grid ``W1, W2`` of weights in [-span, span] (``np.meshgrid``; rows follow w2, columns w1)."""
    w = np.arange(-span, span + step / 2, step)
    return np.meshgrid(w, w)


def descend(
    loss_gradient: LossGradient,
    inits: Sequence[Sequence[float]],
    x: np.ndarray,
    y: np.ndarray,
    lr: float,
    n_ep: int,
) -> np.ndarray:
    """Gradient descent from several starting points at once, with your ``loss_gradient``.

    The starting points are passed to ``loss_gradient`` as a grid of shape ``(k, 1)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(k, n_ep + 1, 2)``: the weights of each run, its start included.
    """
    w = np.array(inits, dtype=float).reshape(-1, 2)
    w1, w2 = w[:, :1].copy(), w[:, 1:].copy()
    paths = np.empty((len(w), n_ep + 1, 2))
    paths[:, 0] = w
    with np.errstate(all="ignore"):  # a diverging run is a lesson, not an error
        for i in range(n_ep):
            g1, g2 = loss_gradient(w1, w2, x, y)
            w1, w2 = w1 - lr * np.asarray(g1), w2 - lr * np.asarray(g2)
            paths[:, i + 1, 0], paths[:, i + 1, 1] = w1[:, 0], w2[:, 0]
    return paths


def _path_losses(loss_grid: LossGrid, path: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(loss_grid(path[:, :1], path[:, 1:], x, y), dtype=float)[:, 0]


def _hyperbola(ax: Any, slope: float, span: float) -> None:
    """Draw the minima ``w1 * w2 = slope``: both branches, inside the square [-span, span]^2."""
    lo = abs(slope) / span
    for sign in (1.0, -1.0):
        w1 = sign * np.geomspace(lo, span, 200)
        ax.plot(w1, slope / w1, color="deepskyblue", linewidth=4, alpha=0.8,
                label=f"minima $w_1 w_2 = {slope:.3g}$" if sign > 0 else None)


def draw_landscape(
    ax: Any,
    loss_grid: LossGrid,
    loss_gradient: LossGradient | None,
    x: np.ndarray,
    y: np.ndarray,
    span: float = 1.9,
) -> None:
    """Log-loss contours, the hyperbola of minima, the negative-gradient field and the saddle, on `ax`."""
    w1, w2 = weight_grid(span, span / 40)
    with np.errstate(all="ignore"):
        surface = np.asarray(loss_grid(w1, w2, x, y), dtype=float)
    filled = ax.contourf(w1, w2, np.log(surface + 1e-3), levels=24, cmap="viridis")
    ax.figure.colorbar(filled, ax=ax, label="log(loss)")
    if loss_gradient is not None:
        q1, q2 = weight_grid(span, 0.2)
        g1, g2 = loss_gradient(q1, q2, x, y)
        norm = np.hypot(g1, g2) + 1e-12  # arrows show the direction; their colour shows the size
        ax.quiver(q1, q2, -g1 / norm, -g2 / norm, np.log(norm), cmap="Greys", scale=40, width=0.003)
    _hyperbola(ax, float(np.mean(x * y) / np.mean(x * x)), span)
    ax.plot([0], [0], marker="P", markersize=13, color="orange", markeredgecolor="k", linestyle="none",
            label="saddle (0, 0)")
    ax.set(xlim=(-span, span), ylim=(-span, span), xlabel="$w_1$", ylabel="$w_2$", aspect="equal")


@_figure
def plot_landscape(
    loss_grid: LossGrid,
    loss_gradient: LossGradient | None,
    x: np.ndarray,
    y: np.ndarray,
    inits: Sequence[Sequence[float]] = ((0.5, -0.5), (0.55, -0.45), (-1.8, 1.7)),
    lr: float = 0.15,
    n_ep: int = 40,
) -> Figure:
    """The loss landscape with training trajectories (start: blue dot, end: red X).

    Parameters
    ----------
    loss_grid, loss_gradient : callable
        Your functions (``loss_gradient`` may be None: no arrows, no trajectories).
    x, y : numpy.ndarray
        The data.
    inits : sequence of (w1, w2)
        Starting points of the trajectories.
    lr, n_ep : float, int
        Learning rate and number of epochs of each trajectory.
    """
    fig, ax = plt.subplots(figsize=(7.5, 6))
    draw_landscape(ax, loss_grid, loss_gradient, x, y)
    if loss_gradient is not None and len(inits):
        for k, path in enumerate(descend(loss_gradient, inits, x, y, lr, n_ep)):
            ax.plot(path[:, 0], path[:, 1], color="white", linewidth=1.5, marker=".", markersize=4,
                    label="trajectory" if k == 0 else None)
            ax.plot(*path[0], "o", color="blue", markersize=8, label="start" if k == 0 else None)
            ax.plot(*path[-1], "X", color="red", markersize=10, label="end" if k == 0 else None)
    ax.set_title(f"Loss landscape and gradient descent (lr {lr}, {n_ep} epochs)")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    plt.show()
    return fig


@_figure
def plot_surface(loss_grid: LossGrid, loss_gradient: LossGradient, x: np.ndarray, y: np.ndarray,
                 inits: Sequence[Sequence[float]] = ((-1.8, 1.7), (1.5, -1.5)),
                 lr: float = 0.02, n_ep: int = 240) -> Figure:
    """The landscape as a 3-D surface of ``log(loss + 0.5)``, with trajectories on it."""
    w1, w2 = weight_grid(1.9, 0.05)
    fig = plt.figure(figsize=(7.5, 6))
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(w1, w2, np.log(loss_grid(w1, w2, x, y) + 0.5), cmap="viridis", alpha=0.7, linewidth=0)
    for k, path in enumerate(descend(loss_gradient, inits, x, y, lr, n_ep)):
        height = np.log(_path_losses(loss_grid, path, x, y) + 0.5)
        ax.plot(path[:, 0], path[:, 1], height, color="red", linewidth=2, label="trajectory" if k == 0 else None)
        ax.scatter(*path[0], height[0], color="blue", s=40)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", zlabel="log(loss + 0.5)", title="The loss surface")
    ax.legend(loc="upper left")
    plt.show()
    return fig


class LiveFigure:
    """A figure drawn once; later only its moving artists are drawn again, onto the saved background.

    Axes, ticks, labels, contours and arrows are rendered a single time.  A slider move changes
    the data of a few lines and calls :meth:`png`, which restores the background, draws those lines
    and encodes the pixels: a few milliseconds instead of re-plotting the figure.
    """

    def __init__(self, fig: Figure, moving: Sequence[Any], dpi: float = 80) -> None:
        self.fig = fig
        self.moving = list(moving)
        fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(fig)
        for artist in self.moving:
            artist.set_animated(True)  # left out of the full draw below
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self) -> bytes:
        """The current picture as PNG bytes."""
        from PIL import Image

        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        width, height = self.canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _with_image(controls: Any, image: Any, fig: Figure) -> Any:
    """Put the picture where the interactive's output was; keep the figure for inspection."""
    controls.children = (*controls.children[:-1], image)
    controls.figure = fig
    return controls


@_figure
def landscape_explorer(loss_grid: LossGrid, loss_gradient: LossGradient, x: np.ndarray, y: np.ndarray,
                       n_epochs: int = 60) -> Any:
    """Sliders for the learning rate and the initial weights; each move retrains and redraws.

    Left: the trajectory on the landscape (start: blue dot, end: red X). Right: its loss curve.

    Returns
    -------
    ipywidgets.interactive
        Display it, or drive it from code: ``.children[0..2]`` are the sliders (lr, w1, w2),
        ``.result`` the last run (``path``, ``loss``), ``.figure`` the matplotlib figure.
    """
    import ipywidgets as widgets

    span = 1.9
    fig = Figure(figsize=(11, 4.6))
    ax_map, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    draw_landscape(ax_map, loss_grid, loss_gradient, x, y, span)
    (path_line,) = ax_map.plot([], [], color="white", linewidth=1.5, marker=".", markersize=4, label="trajectory")
    (start,) = ax_map.plot([], [], "o", color="blue", markersize=8, label="start")
    (end,) = ax_map.plot([], [], "X", color="red", markersize=10, label="end")
    ax_map.legend(loc="lower left", fontsize=7, framealpha=0.8)
    ax_map.set_title("Trajectory on the loss landscape")
    (curve,) = ax_loss.plot([], [], color="red", linewidth=2)
    ax_loss.set(xlim=(0, n_epochs), ylim=(1e-10, 1e2), yscale="log", xlabel="epochs", ylabel="mean squared error")
    status = ax_loss.set_title(" ")
    fig.tight_layout()
    live = LiveFigure(fig, [path_line, start, end, curve, status])
    image = widgets.Image(format="png")

    def retrain(lr: float = 0.15, w1_init: float = -1.8, w2_init: float = 1.7) -> dict[str, np.ndarray]:
        path = descend(loss_gradient, [(w1_init, w2_init)], x, y, lr, n_epochs)[0]
        losses = _path_losses(loss_grid, path, x, y)
        path_line.set_data(path[:, 0], path[:, 1])
        start.set_data(path[:1, 0], path[:1, 1])
        end.set_data(path[-1:, 0], path[-1:, 1])
        curve.set_data(np.arange(len(losses)), losses)
        final = losses[-1]
        status.set_text(f"Loss (final {final:.3g})" if np.isfinite(final) else "Loss (diverged)")
        image.value = live.png()
        return {"path": path, "loss": losses}

    controls = widgets.interactive(
        retrain,
        lr=widgets.FloatLogSlider(value=0.15, base=10, min=-2, max=0.3, step=0.02, description="learning rate"),
        w1_init=widgets.FloatSlider(value=-1.8, min=-span, max=span, step=0.05, description="initial w1"),
        w2_init=widgets.FloatSlider(value=1.7, min=-span, max=span, step=0.05, description="initial w2"),
    )
    return _with_image(controls, image, fig)


def distance_after_training(loss_gradient: LossGradient, w1: float, w2: float, x: np.ndarray, y: np.ndarray,
                            lrs: Sequence[float], n_ep: int = 60, nudge: float = 1e-4) -> np.ndarray:
    """Start each run a step `nudge` off the minimum ``(w1, w2)``, across the valley; how far is it after `n_ep` epochs?"""
    direction = np.array([w2, w1]) / np.hypot(w1, w2)
    start = np.array([w1, w2]) + nudge * direction
    out = []
    for lr in lrs:
        end = descend(loss_gradient, [start], x, y, lr, n_ep)[0, -1]
        out.append(np.hypot(*(end - [w1, w2])))
    return np.array(out)


@_figure
def plot_stability(max_stable_lr: Callable, loss_gradient: LossGradient, x: np.ndarray, y: np.ndarray,
                   w1_values: Sequence[float] = (0.6, 1.0, 1.6)) -> Figure:
    """Training runs from near minima: distance from the minimum after 60 epochs against the learning rate.

    The vertical dashed lines are your ``max_stable_lr`` at each minimum: runs to their left should
    come back (distance below the start's 1e-4), runs to their right should fly off.
    """
    slope = float(np.mean(x * y) / np.mean(x * x))
    fig, ax = plt.subplots(figsize=(8, 4))
    for k, w1 in enumerate(w1_values):
        w2 = slope / w1
        predicted = float(max_stable_lr(w1, w2, x, y))
        lrs = predicted * np.linspace(0.2, 1.6, 57)
        dist = distance_after_training(loss_gradient, w1, w2, x, y, lrs)
        color = f"C{k}"
        ax.semilogy(lrs, dist, color=color, label=f"minimum ({w1:.2g}, {w2:.2g})")
        ax.axvline(predicted, color=color, linestyle="--")
    ax.axhline(1e-4, color="gray", linewidth=0.8, label="starting distance")
    ax.set(xlabel="learning rate", ylabel="distance from the minimum after 60 epochs",
           title="Training near a minimum: converges left of the dashed line, not right of it")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
    return fig


def check_max_lr_by_training(max_stable_lr: Callable, loss_gradient: LossGradient, x: np.ndarray,
                             y: np.ndarray) -> None:
    """Train just below and just above your ``max_stable_lr`` at three minima; say whether each run came back.

    Raises
    ------
    AssertionError
        When a run at 0.9x your value does not converge, or one at 1.1x does.
    """
    slope = float(np.mean(x * y) / np.mean(x * x))
    for w1 in (0.6, 1.0, -1.6):
        w2 = slope / w1
        lr = float(max_stable_lr(w1, w2, x, y))
        below, above = distance_after_training(loss_gradient, w1, w2, x, y, [0.9 * lr, 1.1 * lr])
        assert below < 1e-4, f"At the minimum ({w1:.3g}, {w2:.3g}) training with 0.9 x {lr:.4g} does not converge."
        assert above > 1e-4, f"At the minimum ({w1:.3g}, {w2:.3g}) training with 1.1 x {lr:.4g} still converges."
        print(f"minimum ({w1:5.2f}, {w2:5.2f}): largest stable learning rate {lr:.4f}; "
              "training converges just below it and not just above it.")
