"""Helpers for the learning-landscape assignment (shipped to students with the notebook).

Everything here is given code: seeding, data, plots, sliders and self-checks.
Your work is in the notebook.  (Adapted from Neuromatch Academy's Deep Learning
course, W1D2 "Learning Hyperparameters", section 1.2.)

The plotting functions take *your* functions as arguments (``loss_grid``,
``loss_gradient``, ...), so what you see is drawn with your code. The self-checks
(``check_...``) each test one function only: where a check needs a gradient to train
with, it uses finite differences of the loss formula, never your ``loss_gradient``, so
a mistake in one exercise cannot make another one look wrong.
"""

from __future__ import annotations

import functools
import html
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

# course_helpers.py, the helpers all assignments share, sits beside this file (a notebook's folder
# is on the import path).
from course_helpers import (
    SEED,
    LiveFigure,
    _caption_html,
    _caption_widget,
    _figure,
    _number,
    _point,
    _self_check,
    _show,
    gen_samples,
    set_seed,
)

LossGrid = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
LossGradient = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple]


def weight_grid(span: float = 1.9, step: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The grid ``W1, W2`` of weights in [-span, span] (``np.meshgrid``; rows follow w2, columns w1)."""
    w = np.arange(-span, span + step / 2, step)
    return np.meshgrid(w, w)


# -- what your functions return ----------------------------------------------------------------------


def _message(first: str, *details: str) -> str:
    """A message for a student: what is wrong on the first line, the numbers indented below.

    nbgrader's Validate button cuts every line at 87 characters, so each line stays short.
    Empty details are left out.
    """
    return "\n".join([first, *(f"  {line}" for line in details if line)])


def _loss_problem(surface: Any, shape: tuple[int, ...]) -> str | None:
    """What is wrong with what ``loss_grid`` returned for a grid of `shape` (None: nothing)."""
    got = np.shape(surface)
    if got == shape:
        return None
    hint = ""
    if got == shape[::-1]:
        hint = "rows and columns swapped? W1[i, j] and W2[i, j] are one grid point"
    elif got == ():
        hint = "a single number: the loss of each grid point is needed"
    elif got[: len(shape)] == shape:
        hint = "one value per sample too: average over the samples (the last axis)"
    return _message(f"loss_grid should return one loss per grid point, shape {shape}:",
                    f"yours has shape {got}", hint)


def _gradient_problem(result: Any, shape: tuple[int, ...]) -> str | None:
    """What is wrong with what ``loss_gradient`` returned for a grid of `shape` (None: nothing)."""
    try:
        g1, g2 = result
    except (TypeError, ValueError):
        return _message("loss_gradient should return two arrays, (dL_dW1, dL_dW2):",
                        f"yours returned {type(result).__name__} {np.shape(result)}")
    shapes = (np.shape(g1), np.shape(g2))
    if shapes == (shape, shape):
        return None
    hint = "a single number: average over the samples only (the last axis)" if () in shapes else ""
    return _message(f"loss_gradient should return two arrays of the grid's shape {shape}:",
                    f"yours have shapes {shapes[0]} and {shapes[1]}", hint)


# -- training ----------------------------------------------------------------------------------------


def descend(
    loss_gradient: LossGradient,
    inits: Sequence[Sequence[float]],
    x: np.ndarray,
    y: np.ndarray,
    lr: float,
    n_ep: int,
) -> np.ndarray:
    """Gradient descent from several starting points at once, with the given ``loss_gradient``.

    The starting points are passed to ``loss_gradient`` as a grid of shape ``(k, 1)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(k, n_ep + 1, 2)``: the weights of each run, its start included.

    Raises
    ------
    ValueError
        If ``loss_gradient`` does not return two arrays of the grid's shape.
    """
    w = np.array(inits, dtype=float).reshape(-1, 2)
    w1, w2 = w[:, :1].copy(), w[:, 1:].copy()
    paths = np.empty((len(w), n_ep + 1, 2))
    paths[:, 0] = w
    with np.errstate(all="ignore"):  # a diverging run is a lesson, not an error
        for i in range(n_ep):
            result = loss_gradient(w1, w2, x, y)
            problem = _gradient_problem(result, w1.shape)
            if problem:
                raise ValueError(problem)
            g1, g2 = result
            w1, w2 = w1 - lr * np.asarray(g1, dtype=float), w2 - lr * np.asarray(g2, dtype=float)
            paths[:, i + 1, 0], paths[:, i + 1, 1] = w1[:, 0], w2[:, 0]
    return paths


def _path_losses(loss_grid: LossGrid, path: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        surface = loss_grid(path[:, :1], path[:, 1:], x, y)
    problem = _loss_problem(surface, (len(path), 1))
    if problem:
        raise ValueError(problem)
    return np.asarray(surface, dtype=float)[:, 0]


# -- a trusted gradient for the self-checks ------------------------------------------------------------


def _loss_of_product(p: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean squared error at every product ``p = w1 * w2``, written as in section 1:
    ``mean(y**2) - 2 p mean(x y) + p**2 mean(x**2)``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return np.mean(y * y) - 2 * p * np.mean(x * y) + p**2 * np.mean(x * x)


def _numerical_gradient(W1: np.ndarray, W2: np.ndarray, x: np.ndarray, y: np.ndarray,
                        h: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """Central finite differences of the mean squared error at every point of a grid.

    The self-checks train with this instead of your ``loss_gradient``, so that each check
    depends only on the function it checks. The loss is a parabola in each weight, so a
    central difference is exact for any step `h`; a large step keeps rounding errors small.
    The loss does not change when w1 and w2 swap places, so the derivative in w2 is the one
    in w1 with the roles swapped: that keeps a run started on a diagonal exactly on it, as
    the true gradient does.
    """
    def along_first(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (_loss_of_product((a + h) * b, x, y) - _loss_of_product((a - h) * b, x, y)) / (2 * h)

    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float)
    return along_first(W1, W2), along_first(W2, W1)


# -- the landscape -----------------------------------------------------------------------------------


@dataclass
class Landscape:
    """What a landscape plot draws, computed with your functions before any figure is made."""

    span: float
    w1: np.ndarray  # a fine grid of weights...
    w2: np.ndarray
    surface: np.ndarray  # ...and the loss on it
    arrows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None  # a coarse grid and its gradient
    slope: float  # the best product w1 * w2


def landscape_data(loss_grid: LossGrid, loss_gradient: LossGradient | None, x: np.ndarray, y: np.ndarray,
                   span: float = 1.9) -> Landscape:
    """Your loss on a fine grid and your gradient on a coarse one (None: no arrows).

    Raises
    ------
    ValueError
        If a function returns arrays of the wrong shape.
    """
    w1, w2 = weight_grid(span, span / 40)
    with np.errstate(all="ignore"):
        surface = loss_grid(w1, w2, x, y)
    problem = _loss_problem(surface, w1.shape)
    if problem:
        raise ValueError(problem)
    arrows = None
    if loss_gradient is not None:
        q1, q2 = weight_grid(span, 0.2)
        with np.errstate(all="ignore"):
            result = loss_gradient(q1, q2, x, y)
        problem = _gradient_problem(result, q1.shape)
        if problem:
            raise ValueError(problem)
        arrows = (q1, q2, np.asarray(result[0], dtype=float), np.asarray(result[1], dtype=float))
    slope = float(np.mean(x * y) / np.mean(x * x))
    return Landscape(span, w1, w2, np.asarray(surface, dtype=float), arrows, slope)


def _hyperbola(ax: Any, slope: float, span: float) -> None:
    """Draw the minima ``w1 * w2 = slope``: both branches, inside the square [-span, span]^2."""
    lo = abs(slope) / span
    for sign in (1.0, -1.0):
        w1 = sign * np.geomspace(lo, span, 200)
        ax.plot(w1, slope / w1, color="deepskyblue", linewidth=4, alpha=0.8,
                label=f"minima $w_1 w_2 = {slope:.3g}$" if sign > 0 else None)


def _draw_landscape(ax: Any, land: Landscape) -> None:
    """Log-loss contours, the hyperbola of minima, the negative-gradient field and the saddle, on `ax`."""
    with np.errstate(all="ignore"):
        filled = ax.contourf(land.w1, land.w2, np.log(land.surface + 1e-3), levels=24, cmap="viridis")
    ax.figure.colorbar(filled, ax=ax, label="log(loss)")
    if land.arrows is not None:
        q1, q2, g1, g2 = land.arrows
        with np.errstate(all="ignore"):
            norm = np.hypot(g1, g2) + 1e-12  # arrows show the direction; their colour shows the size
            ax.quiver(q1, q2, -g1 / norm, -g2 / norm, np.log(norm), cmap="Greys", scale=40, width=0.003)
    _hyperbola(ax, land.slope, land.span)
    ax.plot([0], [0], marker="P", markersize=13, color="orange", markeredgecolor="k", linestyle="none",
            label="saddle (0, 0)")
    span = land.span
    ax.set(xlim=(-span, span), ylim=(-span, span), xlabel="$w_1$", ylabel="$w_2$", aspect="equal")


def _extremes(values: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> str:
    """Where a grid of values is lowest and highest, in words: "from 0.001 at (1, 1) to 9.2 at (-1.9, 1.9)"."""
    finite = np.where(np.isfinite(values), values, np.nan)
    if np.all(np.isnan(finite)):
        return "not a number anywhere"
    low, high = np.nanargmin(finite), np.nanargmax(finite)
    return (
        f"from {_number(finite.flat[low])} at {_point(w1.flat[low], w2.flat[low])} "
        f"to {_number(finite.flat[high])} at {_point(w1.flat[high], w2.flat[high])}"
    )


def describe_landscape(land: Landscape) -> str:
    """What :func:`_draw_landscape` shows, in words, with its numbers (part of a picture's description)."""
    centre = np.unravel_index(np.argmin(np.hypot(land.w1, land.w2)), land.w1.shape)
    quadrants = "where w1 and w2 have the same sign" if land.slope > 0 else "where w1 and w2 have opposite signs"
    text = (
        f"Map of log(loss) over w1 and w2 from {-land.span:g} to {land.span:g}, dark where the loss is low. "
        f"Your loss goes {_extremes(land.surface, land.w1, land.w2)}; "
        f"at the saddle (0, 0) it is {_number(land.surface[centre])}. "
        f"The minima w1 w2 = {_number(land.slope)} are drawn as a hyperbola, its two branches {quadrants}."
    )
    if land.arrows is not None:
        q1, q2, g1, g2 = land.arrows
        with np.errstate(all="ignore"):
            size = np.hypot(g1, g2)
        text += f" Arrows point along minus your gradient at {q1.size} points; its size goes {_extremes(size, q1, q2)}."
    return text


def describe_trajectory(path: np.ndarray, losses: np.ndarray, slope: float) -> str:
    """Where one run of gradient descent goes, in words: its start, its end and what the end is.

    Parameters
    ----------
    path : numpy.ndarray
        Shape ``(n_ep + 1, 2)``: the weights, start included.
    losses : numpy.ndarray
        The loss at each point of `path`.
    slope : float
        The best product ``w1 * w2`` (where the minima are).
    """
    (w1, w2), (e1, e2) = path[0], path[-1]
    text = f"from {_point(w1, w2)} to {_point(e1, e2)}"
    if not (np.isfinite(e1) and np.isfinite(e2) and np.isfinite(losses[-1])):
        return text + ": it diverged"
    if np.hypot(e1, e2) < 0.05:
        return text + f", the saddle (loss {_number(losses[-1])})"
    if abs(e1 * e2 - slope) <= 0.01 * abs(slope) + 1e-3:
        return text + f", a minimum (w1 w2 = {_number(e1 * e2)}, loss {_number(losses[-1])})"
    return text + f", still on its way (w1 w2 = {_number(e1 * e2)}, loss {_number(losses[-1])})"


def draw_landscape(
    ax: Any,
    loss_grid: LossGrid,
    loss_gradient: LossGradient | None,
    x: np.ndarray,
    y: np.ndarray,
    span: float = 1.9,
) -> None:
    """Log-loss contours, the hyperbola of minima, the negative-gradient field and the saddle, on `ax`."""
    _draw_landscape(ax, landscape_data(loss_grid, loss_gradient, x, y, span))


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
    # Everything is computed before the figure exists: if your function fails, no empty axes are left.
    land = landscape_data(loss_grid, loss_gradient, x, y)
    paths = descend(loss_gradient, inits, x, y, lr, n_ep) if loss_gradient is not None and len(inits) else []
    fig, ax = plt.subplots(figsize=(7.5, 6))
    _draw_landscape(ax, land)
    for k, path in enumerate(paths):
        ax.plot(path[:, 0], path[:, 1], color="white", linewidth=1.5, marker=".", markersize=4,
                label="trajectory" if k == 0 else None)
        ax.plot(*path[0], "o", color="blue", markersize=8, label="start" if k == 0 else None)
        ax.plot(*path[-1], "X", color="red", markersize=10, label="end" if k == 0 else None)
    ax.set_title(f"Loss landscape and gradient descent (lr {lr}, {n_ep} epochs)")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    description = describe_landscape(land)
    if len(paths):
        runs = [describe_trajectory(path, _path_losses(loss_grid, path, x, y), land.slope) for path in paths]
        description += (
            f" {len(paths)} gradient-descent runs ({n_ep} epochs at learning rate {lr}, start: blue dot, end: red X): "
            + "; ".join(runs) + "."
        )
    _show(fig, description)
    return fig


@_figure
def plot_surface(loss_grid: LossGrid, loss_gradient: LossGradient, x: np.ndarray, y: np.ndarray,
                 inits: Sequence[Sequence[float]] = ((-1.8, 1.7), (1.5, -1.5)),
                 lr: float = 0.02, n_ep: int = 240) -> Figure:
    """The landscape as a 3-D surface of ``log(loss + 0.5)``, with trajectories on it."""
    land = landscape_data(loss_grid, None, x, y)
    paths = descend(loss_gradient, inits, x, y, lr, n_ep)
    losses = [_path_losses(loss_grid, path, x, y) for path in paths]
    heights = [np.log(loss + 0.5) for loss in losses]
    with np.errstate(all="ignore"):
        surface = np.log(land.surface + 0.5)
    fig = plt.figure(figsize=(7.5, 6))
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(land.w1, land.w2, surface, cmap="viridis", alpha=0.7, linewidth=0)
    for k, (path, height) in enumerate(zip(paths, heights)):
        ax.plot(path[:, 0], path[:, 1], height, color="red", linewidth=2, label="trajectory" if k == 0 else None)
        ax.scatter(*path[0], height[0], color="blue", s=40)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", zlabel="log(loss + 0.5)", title="The loss surface")
    ax.legend(loc="upper left")
    runs = [describe_trajectory(path, loss, land.slope) for path, loss in zip(paths, losses)]
    _show(fig, (
        f"3-D surface of log(loss + 0.5) over w1 and w2 from {-land.span:g} to {land.span:g}: "
        f"{_extremes(surface, land.w1, land.w2)}; the valley of minima is the hyperbola "
        f"w1 w2 = {_number(land.slope)}. {len(paths)} gradient-descent runs "
        f"({n_ep} epochs at learning rate {lr}, start: blue dot) run down it in red: " + "; ".join(runs) + "."
    ))
    return fig


# -- the sliders -------------------------------------------------------------------------------------


EXERCISE_OF = {"loss_grid": 1, "loss_gradient": 2}
"""Which coding exercise writes each function the explorer calls."""


class YourFunctionFailed(Exception):
    """One of your functions raised an error while the sliders called it."""

    def __init__(self, name: str, error: Exception) -> None:
        super().__init__(f"{name} raised {type(error).__name__}: {error}")
        self.name = name
        self.error = error


def _blamed(function: Callable, name: str) -> Callable:
    """`function`, whose errors say which of your functions raised them."""

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as error:
            raise YourFunctionFailed(name, error) from error

    return call


def _latest(function: Callable) -> Callable:
    """The notebook's current definition of `function`.

    A function defined in the notebook lives in its ``__main__`` module; after you fix it and
    run its cell again, that name holds the new version, and the sliders use it on their
    next move (no need to run the explorer's cell again).
    """
    if getattr(function, "__module__", None) != "__main__":
        return function
    latest = getattr(sys.modules.get("__main__"), getattr(function, "__name__", ""), None)
    return latest if callable(latest) else function


def problem_text(error: Exception) -> str:
    """A short note for the student, in place of the picture: which function failed and what to do."""
    if isinstance(error, YourFunctionFailed):
        exercise = EXERCISE_OF.get(error.name)
        where = f"Coding exercise {exercise}" if exercise else error.name
        if isinstance(error.error, NotImplementedError):
            return (f"{error.name} is not written yet (it raised NotImplementedError).\n"
                    f"Finish {where}, run its cell, then move a slider.")
        detail = str(error.error)
        detail = detail if len(detail) <= 200 else detail[:200] + "..."
        return (f"{error.name} raised {type(error.error).__name__}: {detail}\n"
                f"Fix {where}, run its cell again, then move a slider.")
    return f"{error}\nFix that function, run its cell again, then move a slider."


class _Explorer:
    """What the landscape explorer's sliders drive: a figure for the current functions and its picture."""

    def __init__(self, loss_grid: LossGrid, loss_gradient: LossGradient, x: np.ndarray, y: np.ndarray,
                 n_epochs: int, image: Any, message: Any, caption: Any) -> None:
        self.functions = (loss_grid, loss_gradient)
        self.x, self.y, self.n_epochs = x, y, n_epochs
        self.image, self.message, self.caption = image, message, caption
        self.description = ""  # what the picture shows, in words ("" while a note replaces it)
        self.drawn_with: tuple[Callable, Callable] | None = None  # the functions the figure shows
        self.figure: Figure | None = None
        self.widget: Any = None  # the interactive, once it exists

    def _draw(self, loss_grid: LossGrid, loss_gradient: LossGradient) -> None:
        """The static figure (landscape, axes) for these functions; the moving lines come empty."""
        land = landscape_data(loss_grid, loss_gradient, self.x, self.y)  # first: no figure if it fails
        fig = Figure(figsize=(11, 4.6))
        ax_map, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        _draw_landscape(ax_map, land)
        (self.path_line,) = ax_map.plot([], [], color="white", linewidth=1.5, marker=".", markersize=4,
                                        label="trajectory")
        (self.start,) = ax_map.plot([], [], "o", color="blue", markersize=8, label="start")
        (self.end,) = ax_map.plot([], [], "X", color="red", markersize=10, label="end")
        ax_map.legend(loc="lower left", fontsize=7, framealpha=0.8)
        ax_map.set_title("Trajectory on the loss landscape")
        (self.curve,) = ax_loss.plot([], [], color="red", linewidth=2)
        ax_loss.set(xlim=(0, self.n_epochs), ylim=(1e-10, 1e2), yscale="log", xlabel="epochs",
                    ylabel="mean squared error")
        self.status = ax_loss.set_title(" ")
        fig.tight_layout()
        self.live = LiveFigure(fig, [self.path_line, self.start, self.end, self.curve, self.status])
        self.landscape = land
        self.figure = fig
        if self.widget is not None:
            self.widget.figure = fig

    def retrain(self, lr: float = 0.15, w1_init: float = -1.8,
                w2_init: float = 1.7) -> dict[str, np.ndarray] | None:
        """Train from the sliders' start and redraw; on an error, show what went wrong instead."""
        current = (_latest(self.functions[0]), _latest(self.functions[1]))
        loss_grid, loss_gradient = _blamed(current[0], "loss_grid"), _blamed(current[1], "loss_gradient")
        try:
            if self.drawn_with != current:  # new functions (a fixed cell was run again): a new landscape
                self._draw(loss_grid, loss_gradient)
                self.drawn_with = current
            path = descend(loss_gradient, [(w1_init, w2_init)], self.x, self.y, lr, self.n_epochs)[0]
            losses = _path_losses(loss_grid, path, self.x, self.y)
        except Exception as error:  # the widget swallows errors: say it where the picture would be
            self.message.value = (
                '<pre style="color:#a00000; border:1px solid #a00000; padding:8px; white-space:pre-wrap">'
                f"{html.escape(problem_text(error))}</pre>"
            )
            self.image.layout.display = "none"
            self.caption.layout.display = "none"
            self.description = ""
            return None
        self.path_line.set_data(path[:, 0], path[:, 1])
        self.start.set_data(path[:1, 0], path[:1, 1])
        self.end.set_data(path[-1:, 0], path[-1:, 1])
        self.curve.set_data(np.arange(len(losses)), losses)
        final = losses[-1]
        self.status.set_text(f"Loss (final {final:.3g})" if np.isfinite(final) else "Loss (diverged)")
        self.description = (
            f"Left: {describe_landscape(self.landscape)} The run ({self.n_epochs} epochs at learning rate {lr:.3g}) "
            f"goes {describe_trajectory(path, losses, self.landscape.slope)}. "
            f"Right: its loss (log scale) goes from {_number(losses[0])} to {_number(losses[-1])}."
        )
        self.image.value = self.live.png()
        self.caption.value = _caption_html(self.description)
        self.message.value = ""
        self.image.layout.display = None
        self.caption.layout.display = None
        return {"path": path, "loss": losses}


@_figure
def landscape_explorer(loss_grid: LossGrid, loss_gradient: LossGradient, x: np.ndarray, y: np.ndarray,
                       n_epochs: int = 60) -> Any:
    """Sliders for the learning rate and the initial weights; each move retrains and redraws.

    Left: the trajectory on the landscape (start: blue dot, end: red X). Right: its loss curve.
    If one of your functions fails, a note in place of the picture says which one; fix it, run
    its cell again and move a slider.

    Returns
    -------
    ipywidgets.interactive
        Display it, or drive it from code: ``.children[0..2]`` are the sliders (lr, w1, w2),
        ``.children[-3]`` the caption (what the picture shows, in words), ``.children[-2]`` the
        note shown on an error, ``.children[-1]`` the picture, ``.result`` the last run
        (``path``, ``loss``), ``.figure`` the matplotlib figure, ``.explorer.description`` the
        caption's text.
    """
    import ipywidgets as widgets

    span = 1.9
    image, message, caption = widgets.Image(format="png"), widgets.HTML(), _caption_widget()
    explorer = _Explorer(loss_grid, loss_gradient, x, y, n_epochs, image, message, caption)
    controls = widgets.interactive(
        explorer.retrain,
        lr=widgets.FloatLogSlider(value=0.15, base=10, min=-2, max=0.3, step=0.02, description="learning rate"),
        w1_init=widgets.FloatSlider(value=-1.8, min=-span, max=span, step=0.05, description="initial w1"),
        w2_init=widgets.FloatSlider(value=1.7, min=-span, max=span, step=0.05, description="initial w2"),
    )
    # The caption, the note and the picture take the place of the interactive's output area.
    controls.children = (*controls.children[:-1], caption, message, image)
    controls.figure = explorer.figure
    controls.explorer = explorer
    explorer.widget = controls
    return controls


# -- the largest stable learning rate ----------------------------------------------------------------


def distance_after_training(loss_gradient: LossGradient, w1: float, w2: float, x: np.ndarray, y: np.ndarray,
                            lrs: Sequence[float], n_ep: int = 60, nudge: float = 1e-4) -> np.ndarray:
    """Start each run a step `nudge` off the minimum ``(w1, w2)``, across the valley.

    Returns
    -------
    numpy.ndarray
        For each learning rate in `lrs`: the distance from the minimum after `n_ep` epochs.
    """
    direction = np.array([w2, w1]) / np.hypot(w1, w2)
    start = np.array([w1, w2]) + nudge * direction
    out = []
    for lr in lrs:
        end = descend(loss_gradient, [start], x, y, lr, n_ep)[0, -1]
        out.append(np.hypot(*(end - [w1, w2])))
    return np.array(out)


def _learning_rate(max_stable_lr: Callable, w1: float, w2: float, x: np.ndarray, y: np.ndarray) -> float:
    """Your ``max_stable_lr`` at the minimum ``(w1, w2)``, as a float.

    Raises
    ------
    ValueError
        If it is not one positive number.
    """
    value = max_stable_lr(w1, w2, x, y)
    where = f"at the minimum ({w1:.3g}, {w2:.3g})"
    if np.size(value) != 1:
        raise ValueError(_message(f"max_stable_lr should return one number, {where}:",
                                  f"yours returned shape {np.shape(value)}"))
    lr = float(np.asarray(value, dtype=float).reshape(-1)[0])
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(_message(f"max_stable_lr should return a positive number, {where}:",
                                  f"yours returned {lr}"))
    return lr


@_figure
def plot_stability(max_stable_lr: Callable, x: np.ndarray, y: np.ndarray,
                   w1_values: Sequence[float] = (0.6, 1.0, 1.6)) -> Figure:
    """Training runs from near minima: distance from the minimum after 60 epochs against the learning rate.

    The vertical dashed lines are your ``max_stable_lr`` at each minimum: runs to their left should
    come back (distance below the start's 1e-4), runs to their right should fly off. The runs use
    finite differences of the loss for the gradient, so the picture tests ``max_stable_lr`` alone.
    """
    slope = float(np.mean(x * y) / np.mean(x * x))
    runs = []  # computed first: if max_stable_lr fails, no empty axes are left behind
    for w1 in w1_values:
        w2 = slope / w1
        predicted = _learning_rate(max_stable_lr, w1, w2, x, y)
        lrs = predicted * np.linspace(0.2, 1.6, 57)
        dist = distance_after_training(_numerical_gradient, w1, w2, x, y, lrs)
        runs.append((w1, w2, predicted, lrs, np.where(np.isfinite(dist) & (dist > 0), dist, np.nan)))
    # Fixed limits: runs that all fly off (or all land at one distance) leave nothing to autoscale.
    shown = np.concatenate([dist[np.isfinite(dist)] for *_, dist in runs] + [np.array([1e-4])])
    low, high = max(shown.min(), 1e-300) / 10, min(shown.max(), 1e300) * 10
    fig, ax = plt.subplots(figsize=(8, 4))
    for k, (w1, w2, predicted, lrs, dist) in enumerate(runs):
        color = f"C{k}"
        ax.semilogy(lrs, dist, color=color, label=f"minimum ({w1:.2g}, {w2:.2g})")
        ax.axvline(predicted, color=color, linestyle="--")
    ax.axhline(1e-4, color="gray", linewidth=0.8, label="starting distance")
    ax.set(ylim=(low, high), xlabel="learning rate", ylabel="distance from the minimum after 60 epochs",
           title="Training near a minimum: converges left of the dashed line, not right of it")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _show(fig, (
        "Distance from the minimum after 60 epochs (log scale) against the learning rate, for runs started "
        f"1e-4 away from {len(runs)} minima, with your η_max as a dashed line: "
        + "; ".join(_describe_stability(*run) for run in runs) + "."
    ))
    return fig


def _describe_stability(w1: float, w2: float, predicted: float, lrs: np.ndarray, dist: np.ndarray) -> str:
    """One minimum's curve of :func:`plot_stability` in words: your η_max and where the runs stop converging."""
    came_back = np.isfinite(dist) & (dist < 1e-4)
    text = f"at the minimum {_point(w1, w2)} your η_max is {_number(predicted)}"
    if came_back.all():
        return text + f", and every run converges, up to learning rate {_number(lrs[-1])}"
    if not came_back.any():
        return text + f", and no run converges, from learning rate {_number(lrs[0])} up"
    last_good = lrs[came_back].max()
    first_bad = lrs[~came_back & (lrs > last_good)].min() if np.any(~came_back & (lrs > last_good)) else None
    text += f"; the runs converge up to learning rate {_number(last_good)}"
    return text + (f" and move away from {_number(first_bad)} on" if first_bad is not None else "")


# -- the self-checks ---------------------------------------------------------------------------------


def _constant_ratio(got: np.ndarray, expected: np.ndarray) -> float | None:
    """The factor `got` / `expected` if it is the same at every entry (where expected is not 0), else None."""
    scale = np.max(np.abs(expected))
    nonzero = np.abs(expected) > 1e-6 * scale
    if not nonzero.any() or not np.all(np.isfinite(got)):
        return None
    ratio = got[nonzero] / expected[nonzero]
    if np.allclose(ratio, ratio[0], rtol=1e-4) and np.allclose(got[~nonzero], 0, atol=1e-6 * scale):
        return float(ratio[0])
    return None


def _factor_hint(ratio: float, n: int) -> str:
    """A guess at where a constant factor comes from."""
    if np.isclose(ratio, n):
        return f"x has {n} samples: a sum over them instead of a mean?"
    if np.isclose(ratio, 0.5) or np.isclose(ratio, 2):
        return "look for a factor 2 (or 1/2) in your formula"
    return ""


@_self_check
def check_loss_grid(loss_grid: LossGrid) -> None:
    """Compare your ``loss_grid`` with losses worked out by hand, on a 3 x 2 grid with 2 samples.

    Raises
    ------
    AssertionError
        Saying what is wrong (shape or values) and at which grid point.
    """
    W1, W2 = np.meshgrid([2.0, 0.0], [-1.0, 1.0, 0.5])
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    got = loss_grid(W1, W2, x, y)
    problem = _loss_problem(got, W1.shape)
    assert problem is None, problem
    got = np.asarray(got, dtype=float)
    expected = _loss_of_product(W1 * W2, x, y)
    if not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
        i, j = np.unravel_index(np.argmax(np.nan_to_num(np.abs(got - expected), nan=np.inf)), got.shape)
        ratio = _constant_ratio(got, expected)
        first = (f"loss_grid is {ratio:.3g} times the mean squared error at every grid point:"
                 if ratio is not None else "loss_grid is wrong at some grid points:")
        raise AssertionError(_message(
            first,
            f"at grid point [{i}, {j}]: w1 = {W1[i, j]}, w2 = {W2[i, j]}, x = [1, 2], y = [0, 0]",
            f"yours: {got[i, j]:.5g}",
            f"the mean squared error, by hand: {expected[i, j]:.5g}",
            _factor_hint(ratio, len(x)) if ratio is not None else "",
        ))
    print("loss_grid is right on a small grid.")


@_self_check
def check_loss_gradient(loss_gradient: LossGradient) -> None:
    """Compare your ``loss_gradient`` with finite differences of the loss, on a 2 x 3 grid.

    The finite differences use the loss formula of section 1, not your ``loss_grid``: a
    mistake there cannot make a right gradient look wrong.

    Raises
    ------
    AssertionError
        Naming the gradient and the grid point where it and the finite difference disagree.
    """
    W1, W2 = np.meshgrid([-1.2, 0.3, 1.7], [-0.8, 1.1])
    x, y = np.array([0.2, 0.5, 0.9]), np.array([0.5, 0.8, 2.1])
    result = loss_gradient(W1, W2, x, y)
    problem = _gradient_problem(result, W1.shape)
    assert problem is None, problem
    got = [np.asarray(g, dtype=float) for g in result]
    numeric = _numerical_gradient(W1, W2, x, y)
    for k, name in enumerate(("dL_dW1", "dL_dW2")):
        if np.allclose(got[k], numeric[k], rtol=1e-4, atol=1e-6):
            continue
        i, j = np.unravel_index(np.argmax(np.nan_to_num(np.abs(got[k] - numeric[k]), nan=np.inf)), W1.shape)
        ratio = _constant_ratio(got[k], numeric[k])
        hint = ""
        if np.allclose(got[k], numeric[1 - k], rtol=1e-4, atol=1e-6):
            first = f"{name} looks like the derivative in the other weight:"
            hint = "are dL_dW1 and dL_dW2 swapped?"
        elif ratio is not None and np.isclose(ratio, -1):
            first = f"{name} has the wrong sign at every grid point:"
        elif ratio is not None:
            first = f"{name} is {ratio:.3g} times a finite difference of the loss everywhere:"
            hint = _factor_hint(ratio, len(x))
        else:
            first = f"{name} disagrees with a finite difference of the loss:"
        raise AssertionError(_message(
            first,
            f"at grid point [{i}, {j}]: w1 = {W1[i, j]}, w2 = {W2[i, j]}",
            f"yours: {got[k][i, j]:.5g}",
            f"a finite difference of the loss: {numeric[k][i, j]:.5g}",
            hint,
        ))
    print("loss_gradient agrees with finite differences of the loss at 6 grid points.")


@_self_check
def check_ends_at_saddle(ends_at_saddle: Callable, x: np.ndarray) -> None:
    """Compare your ``ends_at_saddle`` with training runs on noiseless data of slope 1 and -1.

    Each run trains for 2000 epochs at learning rate 0.05 with finite differences of the loss
    (not your ``loss_gradient``), and counts as ending at the saddle if it ends within 1e-3 of (0, 0).

    Raises
    ------
    AssertionError
        Naming the start and slope where your answer and the training run disagree.
    """
    starts = [(0.5, -0.5), (1.0, -1.0), (0.55, -0.45), (-1.8, 1.7), (1.2, 1.2), (0.0, 0.0)]
    lr, n_ep = 0.05, 2000
    for a in (1.0, -1.0):
        ends = descend(_numerical_gradient, starts, x, a * x, lr, n_ep)[:, -1]
        for (w1, w2), end in zip(starts, ends):
            trained = bool(np.hypot(*end) < 1e-3)
            yours = ends_at_saddle(w1, w2, a)
            if bool(yours) != trained:
                where = ("at the saddle (0, 0)" if trained
                         else f"at ({end[0]:.3g}, {end[1]:.3g}), a minimum: w1 * w2 = {end[0] * end[1]:.3g}")
                raise AssertionError(_message(
                    f"ends_at_saddle is wrong for the start ({w1}, {w2}) with slope a = {a}:",
                    f"yours: {yours}",
                    f"training (lr {lr}, {n_ep} epochs) ends {where}",
                ))
    print(f"ends_at_saddle agrees with {2 * len(starts)} training runs.")


@_self_check
def check_max_lr_by_training(max_stable_lr: Callable, x: np.ndarray, y: np.ndarray) -> None:
    """Train just below and just above your ``max_stable_lr`` at three minima; say whether each run came back.

    The runs start 1e-4 from the minimum and train for 60 epochs with finite differences of the
    loss (not your ``loss_gradient``), so this checks ``max_stable_lr`` alone.

    Raises
    ------
    AssertionError
        When a run at 0.9 times your value does not converge, or one at 1.1 times it does.
    """
    slope = float(np.mean(x * y) / np.mean(x * x))
    for w1 in (0.6, 1.0, -1.6):
        w2 = slope / w1
        lr = _learning_rate(max_stable_lr, w1, w2, x, y)
        below, above = distance_after_training(_numerical_gradient, w1, w2, x, y, [0.9 * lr, 1.1 * lr])
        minimum = f"at the minimum ({w1:.3g}, {w2:.3g})"
        assert below < 1e-4, _message(
            f"max_stable_lr is too large {minimum}:",
            f"your η_max: {lr:.4g}; training at 0.9 × it (= {0.9 * lr:.4g}) does not converge:",
            f"after 60 epochs it is {below:.3g} from the minimum (it started 1e-4 away)",
        )
        assert above > 1e-4, _message(
            f"max_stable_lr is too small {minimum}:",
            f"your η_max: {lr:.4g}; training at 1.1 × it (= {1.1 * lr:.4g}) still converges:",
            f"after 60 epochs it is {above:.3g} from the minimum (it started 1e-4 away)",
            "compare your formula with the condition |1 - η λ| < 1",
        )
        print(f"minimum ({w1:5.2f}, {w2:5.2f}): your η_max {lr:.4f}; "
              "training converges at 0.9 × it, not at 1.1 × it")
    print("max_stable_lr agrees with training at three minima.")
