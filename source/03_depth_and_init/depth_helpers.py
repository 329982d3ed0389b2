"""Helpers for the depth-and-initialization assignment (shipped to students with the notebook).

Everything here is given code: seeding, data, plots, sliders and a self-check.
Your work is in the notebook.  (Adapted from Neuromatch Academy's Deep Learning
course, W1D2 "Learning Hyperparameters", sections 2.1-2.4.)

The plots and sliders train *your* ``DeepNarrowLNN``.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, Callable, NamedTuple, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

# course_helpers.py, the helpers all assignments share, sits beside this file (a notebook's folder
# is on the import path).
from course_helpers import (
    SEED,
    LiveFigure,
    _current_class,
    _figure,
    _number,
    _Screen,
    _self_check,
    _show,
    gen_samples,
    set_seed,
    variant_values,
)

THRESHOLD = 1e-2
"""A run has converged once its loss goes below this and stays there to the end."""


class TrainingData(NamedTuple):
    """The data of the training runs of section 3 (:func:`my_data`): ``n`` noisy samples of ``y = a x``."""

    a: float
    sigma: float
    seed: int
    n: int = 100


_WORKED_SOLUTION = {"a": 2.0, "sigma": 0.1, "seed": SEED}
"""Neuromatch's data (where the assignment folder says nothing else)."""


def my_data(student_id: str = "") -> TrainingData:
    """Your values for the data of section 3, printed, and returned.

    Parameters
    ----------
    student_id : str, optional
        Your student id, when you work without a hub (see ``variant_values``).

    Returns
    -------
    TrainingData
        The slope and noise of the data, and its seed.
    """
    values, whose = variant_values(student_id)
    data = TrainingData(**{**_WORKED_SOLUTION, **values})
    print(f"Training data with {whose}:")
    print(f"  {data.n} samples of y = {data.a} x + noise (sigma {data.sigma}), seed {data.seed}")
    return data


def train_network(model_class: Callable, depth: int, lr: float, init: float, x: np.ndarray, y: np.ndarray,
                  n_ep: int) -> tuple[np.ndarray, np.ndarray]:
    """Train ``model_class(np.full(depth, init))``; a diverging run stops early (shorter records)."""
    model = model_class(np.full(depth, float(init)))
    with np.errstate(all="ignore"):  # an exploding run is a lesson, not an error
        losses, weights = model.train(x, y, lr, n_ep)
    return np.asarray(losses, dtype=float), np.asarray(weights, dtype=float).reshape(len(losses), depth)


def describe_run(loss_log: np.ndarray, weight_log: np.ndarray, n_ep: int) -> str:
    """One line about a training run: first and last loss, the final slope, and whether it converged.

    Parameters
    ----------
    loss_log, weight_log : np.ndarray
        What ``train`` returned: shorter than `n_ep` when the run exploded and stopped early.
    n_ep : int
        The number of epochs asked for.
    """
    losses = np.asarray(loss_log, dtype=float)
    if losses.size == 0:
        return "stopped before the first update: the first gradient was not finite"
    line = f"loss {losses[0]:.4f} -> {losses[-1]:.4g}"
    if len(weight_log):
        with np.errstate(all="ignore"):
            line += f", slope {np.prod(weight_log[-1]):.4f}"
    return f"{line}, {_status(losses, n_ep)}"


def convergence_epoch(losses: np.ndarray, n_ep: int | None = None, threshold: float = THRESHOLD) -> int | None:
    """The first epoch from which the loss stays below `threshold` until the end (None: never, or the run stopped early)."""
    losses = np.asarray(losses, dtype=float)
    if losses.size == 0 or (n_ep is not None and losses.size < n_ep):
        return None
    above = np.flatnonzero(~(losses < threshold))
    if above.size and above[-1] == losses.size - 1:
        return None
    return int(above[-1] + 1) if above.size else 0


def _describe_losses(losses: np.ndarray, n_ep: int) -> str:
    """A loss curve in words (part of a picture's description): where it starts and ends, and its fate."""
    losses = np.asarray(losses, dtype=float)
    if losses.size == 0:
        return "no loss curve: the first gradient was not finite."
    return f"the loss (log scale) goes from {_number(losses[0])} to {_number(losses[-1])}: {_status(losses, n_ep)}."


def _describe_slope(weights: np.ndarray, best: float) -> str:
    """The curve of the network's slope in words: where the product of the weights ends, against the best slope."""
    if len(weights) == 0:
        return "has no curve."
    with np.errstate(all="ignore"):
        slope = np.prod(weights, axis=1)
    return f"goes from {_number(slope[0])} to {_number(slope[-1])}; the best slope is {_number(best)}."


def _status(losses: np.ndarray, n_ep: int) -> str:
    if len(losses) < n_ep:
        return f"exploded at epoch {len(losses)}"
    epoch = convergence_epoch(losses, n_ep)
    if epoch is None:
        return f"not converged (final loss {losses[-1]:.3g})"
    return f"converged at epoch {epoch}"


_YOUR_METHODS = ("__init__", "forward", "loss", "dloss_dw", "train")
"""The methods of your class: the ones an explorer can name when training fails."""


def _explain_failure(error: BaseException, model_class: type) -> str:
    """A short message, in words, for an exception raised while training `model_class`.

    It names the method of your class that raised (the innermost one in the traceback),
    what went wrong, and which exercise to finish first.
    """
    def yours(frame: traceback.FrameSummary) -> bool:
        """A frame of your class: one of its method names, outside this module and installed packages."""
        path = os.path.abspath(frame.filename)
        return frame.name in _YOUR_METHODS and path != os.path.abspath(__file__) and "-packages" not in path

    frames = [f for f in traceback.extract_tb(error.__traceback__) if yours(f)]
    where = f"{model_class.__name__}.{frames[-1].name}" if frames else f"training {model_class.__name__}"
    if isinstance(error, NotImplementedError):
        first = f"{where} is not written yet (NotImplementedError)."
    else:
        first = f"{where} raised {type(error).__name__}"
        detail = (str(error).strip().splitlines() or [""])[0]
        room = max(20, 80 - len(first) - 2)  # keep the line short enough to read at a glance
        if detail:
            first += ": " + (detail if len(detail) <= room else detail[: room - 3] + "...")
    lines = [first]
    if frames and frames[-1].name == "train":
        lines.append("train is given code: check the shapes that forward, loss and dloss_dw return.")
    lines += ["Finish forward, loss and dloss_dw (section 2) until their tests pass,",
              "run the class cell again, then move a slider."]
    return "\n".join(lines)


def _widget_or_value(spec: Any) -> Any:
    """A slider passes through; a plain number becomes a fixed argument of the interactive."""
    import ipywidgets as widgets

    return spec if isinstance(spec, widgets.Widget) else widgets.fixed(spec)


@_figure
def deep_explorer(model_class: Callable, x: np.ndarray, y: np.ndarray, n_epochs: int = 600,
                  depth: Any = 50, lr: Any = 0.01, init: Any = 0.9) -> Any:
    """Train a deep narrow network and plot its loss and its slope; `depth`, `lr`, `init` are numbers or sliders.

    Returns
    -------
    ipywidgets.interactive
        ``.children`` holds the sliders (in the order depth, lr, init, for those that are sliders),
        then the caption (what the picture shows, in words), the message shown when your class
        fails, and the picture last; ``.result`` the last run (``loss``, ``weights``, or
        ``error``: the message); ``.figure`` the figure; ``.screen`` the caption, the message and
        the picture.
    """
    import ipywidgets as widgets

    best_slope = float(np.mean(x * y) / np.mean(x * x))
    fig = Figure(figsize=(11, 4))
    ax_loss, ax_slope = fig.subplots(1, 2)
    (curve,) = ax_loss.plot([], [], color="red", linewidth=2)
    ax_loss.axhline(THRESHOLD, color="gray", linestyle=":", label=f"convergence threshold {THRESHOLD:g}")
    ax_loss.set(xlim=(0, n_epochs), ylim=(1e-3, 1e3), yscale="log", xlabel="epochs", ylabel="training loss (half MSE)")
    ax_loss.legend(loc="upper right", fontsize=8)
    (slope,) = ax_slope.plot([], [], color="purple", linewidth=2, label=r"$\prod_i w_i$")
    ax_slope.axhline(best_slope, color="gray", linestyle="--", label=f"best slope {best_slope:.3g}")
    ax_slope.set(xlim=(0, n_epochs), ylim=(-0.2, 1.6 * best_slope), xlabel="epochs",
                 ylabel="the network's slope", title="Product of the weights")
    ax_slope.legend(loc="lower right", fontsize=8)
    status = ax_loss.set_title(" ")
    fig.tight_layout()
    live = LiveFigure(fig, [curve, slope, status])
    screen = _Screen()

    def retrain(depth: int, lr: float, init: float) -> dict[str, Any]:
        model = _current_class(model_class)
        try:
            losses, weights = train_network(model, int(depth), lr, init, x, y, n_epochs)
        except Exception as error:  # your code failed: say so where the picture would be
            screen.fail(_explain_failure(error, model))
            return {"error": screen.text}
        epochs = np.arange(len(losses))
        curve.set_data(epochs, losses)
        with np.errstate(all="ignore"):
            slope.set_data(epochs, np.prod(weights, axis=1))
        status.set_text(f"depth {int(depth)}, lr {lr:.3g}, init {init:.3g}: {_status(losses, n_epochs)}")
        screen.show(live.png(), (
            f"Depth {int(depth)}, learning rate {lr:.3g}, every weight starting at {init:.3g}, {n_epochs} epochs. "
            f"Left: {_describe_losses(losses, n_epochs)} "
            f"Right: the network's slope (the product of its weights) {_describe_slope(weights, best_slope)}"
        ))
        return {"loss": losses, "weights": weights}

    controls = widgets.interactive(retrain, depth=_widget_or_value(depth), lr=_widget_or_value(lr),
                                   init=_widget_or_value(init))
    # interactive's own Output (where it would print an exception) is replaced by the screen,
    # so every failure must be caught above and shown there
    controls.children = (*controls.children[:-1], *screen.children)
    controls.figure = fig
    controls.screen = screen
    return controls


@_figure
def depth_explorer(model_class: Callable, x: np.ndarray, y: np.ndarray) -> Any:
    """NMA's depth demo: depth 1 to 50, learning rate 0.01, every weight starting at 0.9, 600 epochs."""
    import ipywidgets as widgets

    slider = widgets.IntSlider(value=1, min=1, max=50, step=1, description="depth")
    return deep_explorer(model_class, x, y, 600, depth=slider, lr=0.01, init=0.9)


@_figure
def lr_explorer(model_class: Callable, x: np.ndarray, y: np.ndarray) -> Any:
    """NMA's learning-rate demo: lr 0.005 to 0.045 at depth 50, init 0.9, 600 epochs."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=0.005, min=0.005, max=0.045, step=0.005, readout_format=".3f",
                                 description="learning rate")
    return deep_explorer(model_class, x, y, 600, depth=50, lr=slider, init=0.9)


@_figure
def init_explorer(model_class: Callable, x: np.ndarray, y: np.ndarray) -> Any:
    """NMA's initialization demo: every weight starting at 0.70 to 1.05, depth 15, lr 0.02, 250 epochs."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=0.9, min=0.7, max=1.05, step=0.05, description="initial w")
    return deep_explorer(model_class, x, y, 250, depth=15, lr=0.02, init=slider)


@_figure
def all_explorer(model_class: Callable, x: np.ndarray, y: np.ndarray) -> Any:
    """NMA's bonus demo: depth, learning rate and initial weight together."""
    import ipywidgets as widgets

    return deep_explorer(
        model_class, x, y, 600,
        depth=widgets.IntSlider(value=20, min=10, max=50, step=1, description="depth"),
        lr=widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=-1, step=0.05, description="learning rate"),
        init=widgets.FloatSlider(value=0.9, min=0.1, max=3.0, step=0.05, description="initial w"),
    )


@_figure
def plot_gradient_vs_depth(model_class: Callable, x: np.ndarray, y: np.ndarray,
                           inits: Sequence[float] = (0.5, 0.9, 1.0, 1.1, 2.0), max_depth: int = 50) -> Figure:
    """The size of the first weight's gradient at the start of training, against depth, for several initial weights."""
    depths = np.arange(1, max_depth + 1)
    # compute everything before making the figure: if dloss_dw fails, no empty axes are left behind
    sizes = {init: [abs(float(model_class(np.full(d, init)).dloss_dw(x, y)[0])) for d in depths] for init in inits}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for init in inits:
        ax.semilogy(depths, sizes[init], marker=".", label=f"every weight {init}")
    ax.set(xlabel="depth D", ylabel=r"$|\partial L / \partial w_1|$ at the start",
           title="Vanishing and exploding gradients")
    ax.legend(fontsize=8)
    fig.tight_layout()
    curves = []
    for init in inits:
        first, last = sizes[init][0], sizes[init][-1]
        with np.errstate(all="ignore"):
            ratio = last / first
        trend = "changes" if not np.isfinite(ratio) else (
            "shrinks" if ratio < 0.5 else "grows" if ratio > 2 else "stays about the same"
        )
        curves.append(
            f"every weight {init}: {_number(first)} at depth 1, {_number(last)} at depth {max_depth} ({trend})"
        )
    _show(fig, (
        f"The size of the gradient of the first weight at the start of training (log scale) against the depth, "
        f"1 to {max_depth}, one curve per initial weight: " + "; ".join(curves) + "."
    ))
    return fig


@_figure
def plot_init_curves(model_class: Callable, x: np.ndarray, y: np.ndarray, depth: int = 15, lr: float = 0.02,
                     n_ep: int = 250, inits: Sequence[float] = tuple(np.round(np.arange(0.70, 1.051, 0.05), 2))) -> Figure:
    """Loss curves (log scale) of one depth and learning rate, for several initial weights (NMA's section 2.4)."""
    # train every run before making the figure: if your class fails, no empty axes are left behind
    runs = [train_network(model_class, depth, lr, init, x, y, n_ep)[0] for init in inits]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = plt.cm.viridis(np.linspace(0, 1, len(inits)))
    for init, losses, color in zip(inits, runs, colors):
        ax.semilogy(losses, color=color, label=f"init {init:.2f}")
    ax.set(xlabel="epochs", ylabel="training loss (half MSE)", title=f"Depth {depth}, learning rate {lr}: initialization")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    curves = [
        f"init {init:.2f}: {_number(losses[0])} to {_number(losses[-1])}, {_status(losses, n_ep)}" if len(losses)
        else f"init {init:.2f}: exploded at once"
        for init, losses in zip(inits, runs)
    ]
    _show(fig, (
        f"Loss curves (log scale) over {n_ep} epochs at depth {depth} and learning rate {lr}, one per initial "
        f"weight: " + "; ".join(curves) + "."
    ))
    return fig


def best_learning_rates(x: np.ndarray, y: np.ndarray, depths: Sequence[int], lrs: np.ndarray, init: float,
                        n_ep: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid search: for each depth, the learning rate that converges fastest, and its convergence epoch.

    When every weight starts at the same value, every weight gets the same gradient, so the
    weights stay equal for ever: the network is ``w**D`` for one number ``w``. That makes it
    cheap to train all the learning rates of the grid at once (this is the same model you
    wrote, trained the same way). An entry is NaN where no learning rate converged.
    """
    s, c, yy = float(np.mean(x * x)), float(np.mean(x * y)), float(np.mean(y * y))
    lrs = np.asarray(lrs, dtype=float)
    best_lr, best_epoch = [], []
    for d in depths:
        w = np.full(lrs.shape, float(init))
        losses = np.empty((n_ep, lrs.size))
        with np.errstate(all="ignore"):
            for t in range(n_ep):
                p = w**d
                losses[t] = (yy - 2 * p * c + p * p * s) / 2
                grad = -(c - p * s) * w ** (d - 1)
                w = np.where(np.isfinite(grad), w - lrs * grad, np.nan)
        epochs = [convergence_epoch(losses[:, k], n_ep) for k in range(lrs.size)]
        found = [(e, lr) for e, lr in zip(epochs, lrs) if e is not None]
        best_epoch.append(min(found)[0] if found else np.nan)
        best_lr.append(min(found)[1] if found else np.nan)
    return np.array(best_lr), np.array(best_epoch, dtype=float)


@_figure
def lr_depth_game(model_class: Callable, x: np.ndarray, y: np.ndarray, n_epochs: int = 600, init: float = 0.9) -> Any:
    """The game: find the learning rate that learns fastest at each depth.

    Left: the loss curve of your choice of depth and learning rate. Middle and right: the epochs
    to converge and the learning rate, against depth: your best try at each depth (dots) and the
    best of a fine grid search (line).

    Returns
    -------
    ipywidgets.interactive
        ``.children[0]`` is the depth slider, ``.children[1]`` the learning rate, then the caption,
        the message shown when your class fails, the picture last; ``.result`` the last run (or ``error``);
        ``.best`` your best try per depth, ``{depth: (epoch, lr)}``; ``.screen`` as in :func:`deep_explorer`.
    """
    import ipywidgets as widgets

    depths = list(range(10, 61, 10))
    grid_lr, grid_epoch = best_learning_rates(x, y, depths, np.geomspace(1e-3, 0.3, 60), init, n_epochs)
    fig = Figure(figsize=(13, 4))
    ax_loss, ax_time, ax_lr = fig.subplots(1, 3)
    (curve,) = ax_loss.plot([], [], color="red", linewidth=2)
    ax_loss.axhline(THRESHOLD, color="gray", linestyle=":")
    ax_loss.set(xlim=(0, n_epochs), ylim=(1e-3, 1e3), yscale="log", xlabel="epochs", ylabel="training loss")
    status = ax_loss.set_title(" ")
    ax_time.plot(depths, grid_epoch, color="gray", marker="o", label="grid search")
    (my_time,) = ax_time.plot([], [], "o", color="red", markersize=9, label="your best try")
    ax_time.set(xlim=(5, 65), ylim=(0, n_epochs), xlabel="depth", ylabel="epochs to converge", title="Learning time")
    ax_time.legend(loc="upper left", fontsize=8)
    ax_lr.plot(depths, grid_lr, color="gray", marker="o", label="grid search")
    (my_lr,) = ax_lr.plot([], [], "o", color="red", markersize=9, label="your best try")
    ax_lr.set(xlim=(5, 65), ylim=(1e-3, 0.3), yscale="log", xlabel="depth", ylabel="learning rate",
              title="Fastest learning rate")
    ax_lr.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    live = LiveFigure(fig, [curve, status, my_time, my_lr])
    screen = _Screen()
    best: dict[int, tuple[int, float]] = {}

    def play(depth: int = 10, lr: float = 0.01) -> dict[str, Any]:
        model = _current_class(model_class)
        try:
            losses, weights = train_network(model, depth, lr, init, x, y, n_epochs)
        except Exception as error:  # your code failed: say so where the picture would be
            screen.fail(_explain_failure(error, model))
            return {"error": screen.text}
        curve.set_data(np.arange(len(losses)), losses)
        epoch = convergence_epoch(losses, n_epochs)
        if epoch is not None and (depth not in best or epoch < best[depth][0]):
            best[depth] = (epoch, lr)
        tried = sorted(best)
        my_time.set_data(tried, [best[d][0] for d in tried])
        my_lr.set_data(tried, [best[d][1] for d in tried])
        status.set_text(f"depth {depth}, lr {lr:.4g}: {_status(losses, n_epochs)}")
        grid = depths.index(depth) if depth in depths else None
        search = (
            f" The grid search's fastest at depth {depth}: epoch {grid_epoch[grid]:.0f} at learning rate "
            f"{grid_lr[grid]:.3g}." if grid is not None and np.isfinite(grid_epoch[grid]) else ""
        )
        tries = "; ".join(f"depth {d}: epoch {best[d][0]} at learning rate {best[d][1]:.3g}" for d in sorted(best))
        screen.show(live.png(), (
            f"Depth {depth}, learning rate {lr:.4g}: {_describe_losses(losses, n_epochs)}{search} "
            f"Your best tries: {tries or 'none has converged yet'}."
        ))
        return {"loss": losses, "weights": weights, "epoch": epoch}

    controls = widgets.interactive(
        play,
        depth=widgets.IntSlider(value=10, min=10, max=60, step=10, description="depth"),
        lr=widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=-0.6, step=0.01, description="learning rate"),
    )
    controls.children = (*controls.children[:-1], *screen.children)  # failures are caught in play
    controls.figure = fig
    controls.screen = screen
    controls.best = best
    controls.grid = {"depths": depths, "lr": grid_lr, "epoch": grid_epoch}
    return controls


def _half_mse(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The loss L of section 1, written out plainly: half the mean squared error of ``prod(w) * x``.

    The gradient check differentiates this, not your ``forward`` and ``loss``: a mistake
    in those is reported by their own tests, and does not make a right gradient look wrong.
    """
    return float(np.mean((y - np.prod(w) * x) ** 2) / 2)


def _numbers(values: np.ndarray, width: int = 58) -> str:
    """``[0.1234, -5.678]`` in at most `width` characters (fewer digits, then fewer entries).

    nbgrader's Validate cuts every line of a message at 87 characters.
    """
    values = np.ravel(values)
    for digits in (4, 3, 2):
        text = "[" + ", ".join(f"{v:.{digits}g}" for v in values) + "]"
        if len(text) <= width:
            return text
    shown = []
    for v in values:
        if len(", ".join(shown + [f"{v:.2g}"])) + 7 > width:
            break
        shown.append(f"{v:.2g}")
    return "[" + ", ".join(shown) + ", ...]"


def _gradient_problem(got: np.ndarray, numeric: np.ndarray, n: int) -> str:
    """The first line of the message: what is wrong with `got`, compared with `numeric`."""
    if not np.all(np.isfinite(got)):
        return "dloss_dw is not finite (inf or nan), although no weight is 0 here"
    if np.allclose(got, -numeric, rtol=1e-4, atol=1e-7):
        return "dloss_dw has the wrong sign"
    usable = np.abs(numeric) > 1e-6
    if usable.any():
        ratios = got[usable] / numeric[usable]
        ratio = float(np.median(ratios))
        same_ratio = np.allclose(ratios, ratio, rtol=1e-3) and np.allclose(got, ratio * numeric, rtol=1e-3, atol=1e-7)
        if same_ratio and not np.isclose(ratio, 1.0, rtol=1e-3):  # a ratio of 1 is only lost precision
            size = "too large" if abs(ratio) > 1 else "too small"
            sign = ", with the wrong sign" if ratio < 0 else ""
            extra = f" (there are {n} samples)" if np.isclose(abs(ratio), n, rtol=1e-3) else ""
            return f"dloss_dw is {abs(ratio):.3g} times {size}{sign}{extra}"
    wrong = int(np.flatnonzero(~np.isclose(got, numeric, rtol=1e-4, atol=1e-7))[0])
    return f"dloss_dw[{wrong}] is wrong (it belongs to weight w_{wrong + 1})"


@_self_check
def check_gradient_numerically(model_class: Callable, seed: int = 0) -> None:
    """Compare ``dloss_dw`` with finite differences of the loss, at depths 1 to 6 with weights of both signs.

    The finite differences are taken of the loss L of section 1 (half the mean squared
    error of the product of the weights times x), computed here: only your ``dloss_dw``
    is tested, not your ``forward`` or ``loss``.

    Parameters
    ----------
    model_class : callable
        Your ``DeepNarrowLNN``.
    seed : int, optional
        Seed of the test data (a private generator: the global one is untouched).

    Raises
    ------
    AssertionError
        Saying what is wrong on its first line, then the weights, your gradient and the
        finite differences.
    """
    rng = np.random.default_rng(seed)
    h = 1e-6
    n = 20
    for depth in range(1, 7):
        w = rng.uniform(0.5, 1.3, depth) * rng.choice([-1, 1], depth)
        x = rng.uniform(0, 1, n)
        y = 1.5 * x + rng.normal(0, 0.2, n)
        model = model_class(w.copy())
        returned = model.dloss_dw(x, y)
        try:
            got = np.asarray(returned, dtype=float)
        except (TypeError, ValueError):
            raise AssertionError(
                f"dloss_dw did not return numbers at depth {depth}:\n  it returned {str(returned)[:60]}"
            ) from None
        assert got.shape == (depth,), (
            f"dloss_dw should return one number per weight, shape ({depth},)\n"
            f"  yours has shape {got.shape}, at depth {depth} with {n} samples"
            + ("\n  the gradient is a mean over the samples" if n in got.shape else "")
        )
        assert np.array_equal(np.asarray(model.w, dtype=float), w), (
            "dloss_dw changed self.w: it should only compute and return\n"
            "  train is the one place that updates the weights"
        )
        numeric = np.array([(_half_mse(w + h * e, x, y) - _half_mse(w - h * e, x, y)) / (2 * h) for e in np.eye(depth)])
        assert np.allclose(got, numeric, rtol=1e-4, atol=1e-7), (
            f"{_gradient_problem(got, numeric, n)}, at depth {depth}:\n"
            f"  weights:           {_numbers(w)}\n"
            f"  yours:             {_numbers(got)}\n"
            f"  finite difference: {_numbers(numeric)}"
        )
    print("dloss_dw agrees with finite differences of the loss L at depths 1 to 6, weights of both signs.")
