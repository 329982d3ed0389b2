"""Helpers for the shallow narrow network exercise (shipped to students with the notebook).

Everything here is given code: seeding, data, plots, sliders and a self-check.
Your work is in the notebook.  (Adapted from Neuromatch Academy's Deep Learning
course, W1D2 "Learning Hyperparameters".)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
from typing import Any, Callable, Iterator

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

SEED = 2021

# matplotlib's xkcd style asks for several fonts by name and *logs* a
# "findfont" line on stderr for each one it lacks.  In a graded cell any stderr
# output costs points, so those lines are silenced here and xkcd_style() names a
# font that is installed.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)



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
    """Seed Python's and numpy's global random generators.

    Parameters
    ----------
    seed : int, optional
        The seed; a random one when None.
    """
    if seed is None:
        seed = np.random.choice(2**32)
    random.seed(seed)
    np.random.seed(seed)
    print(f"Random seed {seed} has been set.")


def gen_samples(n: int, a: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Generate `n` samples of the line ``y = a * x`` plus Gaussian noise.

    Parameters
    ----------
    n : int
        Number of samples (> 0).
    a : float
        The slope of the line.
    sigma : float
        Standard deviation of the noise (>= 0).  With 0, x is evenly spaced on [0, 1].

    Returns
    -------
    x : numpy.ndarray
        Inputs, shape ``(n,)``: uniform on [0, 1) when ``sigma > 0``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.
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


def _comic_font() -> str:
    """The first hand-drawn font installed here, or matplotlib's default font."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in ("xkcd", "xkcd Script", "Humor Sans", "Comic Neue", "Comic Sans MS"):
        if name in installed:
            return name
    return "DejaVu Sans"


@contextlib.contextmanager
def xkcd_style() -> Iterator[None]:
    """``plt.xkcd()`` with a font that is really installed, so nothing is logged."""
    with plt.xkcd():
        plt.rcParams["font.family"] = [_comic_font()]
        yield


@_figure
def plot_x_y_(
    x_t_: np.ndarray,
    y_t_: np.ndarray,
    x_ev_: np.ndarray,
    y_ev_: np.ndarray,
    loss_log_: np.ndarray,
    weight_log_: np.ndarray,
) -> plt.Figure:
    """Plot the data with the fitted line, the loss curve and the weights.

    Parameters
    ----------
    x_t_, y_t_ : numpy.ndarray
        Training data.
    x_ev_, y_ev_ : numpy.ndarray
        Evaluation inputs and the model's predictions there.
    loss_log_ : numpy.ndarray
        Loss per epoch.
    weight_log_ : numpy.ndarray
        Weights per epoch, shape ``(n_ep, 2)``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    _draw_panels(axes, x_t_, y_t_, x_ev_, y_ev_, loss_log_, weight_log_)
    fig.tight_layout()
    plt.show()
    return fig


def _draw_panels(
    axes: Any,
    x_t: np.ndarray,
    y_t: np.ndarray,
    x_ev: np.ndarray,
    y_ev: np.ndarray,
    loss_log: np.ndarray,
    weight_log: np.ndarray,
) -> dict[str, Any]:
    """Draw the three panels; return the artists that a slider later updates."""
    ax_fit, ax_loss, ax_w = axes
    ax_fit.scatter(x_t, y_t, c="r", s=12, label="training data")
    (fit,) = ax_fit.plot(x_ev, y_ev, c="b", linewidth=2, label="model prediction")
    ax_fit.set(xlabel="x", ylabel="y", title="Data and fit")
    ax_fit.legend(loc="upper left")
    (curve,) = ax_loss.plot(np.arange(len(loss_log)), loss_log, c="r")
    ax_loss.set(xlabel="epochs", ylabel="mean squared error", title="Loss", yscale="log")
    weight_log = np.asarray(weight_log)
    (w1_line,) = ax_w.plot(weight_log[:, 0], label="$w_1$")
    (w2_line,) = ax_w.plot(weight_log[:, 1], label="$w_2$")
    ax_w.axhline(0, color="gray", linewidth=0.5)
    ax_w.set(xlabel="epochs", ylabel="weights", title="Weights")
    ax_w.legend(loc="upper right")
    return {"fit": fit, "curve": curve, "w1": w1_line, "w2": w2_line}


class LiveFigure:
    """A figure drawn once; a slider move redraws only the lines that change.

    Axes, ticks, labels and the data points are rendered a single time and kept as a
    background.  :meth:`png` restores it, draws the moving lines on top and encodes
    the pixels: milliseconds, where re-plotting the figure takes a few hundred.
    """

    def __init__(self, fig: Any, moving: list[Any], dpi: float = 80) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig, self.moving = fig, moving
        fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(fig)
        for artist in moving:
            artist.set_animated(True)  # left out of the full draw below
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self) -> bytes:
        """The current picture as PNG bytes."""
        import io

        from PIL import Image

        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        width, height = self.canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def training_explorer(
    model_class: Callable[[list[float]], Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    n_epochs: int = 211,
) -> Any:
    """Sliders for the learning rate and both initial weights; each move retrains and redraws.

    Parameters
    ----------
    model_class : callable
        Your ``ShallowNarrowExercise``.
    x_train, y_train : numpy.ndarray
        The training data.
    n_epochs : int, optional
        Epochs per training run.

    Returns
    -------
    ipywidgets.interactive or None
        Display it, or drive it from code: ``.children[0..2]`` are the sliders
        (learning rate, initial w1, initial w2), ``.result`` the last run
        (``loss``, ``weights``), ``.figure`` the matplotlib figure.
        None while ``nbgrader autograde`` runs the notebook.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        # Graded feedback cannot show a live widget: drawing one there is wasted time.
        print("(The explorer runs in JupyterLab; it is not drawn while grading.)")
        return None

    import ipywidgets as widgets
    from matplotlib.figure import Figure

    x_eval = np.linspace(0.0, 1.0, 37)
    fig = Figure(figsize=(12, 4))
    axes = fig.subplots(1, 3)
    empty = np.full(n_epochs, np.nan)
    lines = _draw_panels(axes, x_train, y_train, x_eval, np.full_like(x_eval, np.nan), empty, np.c_[empty, empty])
    # Fixed limits: the background (axes, ticks, data) is drawn once, only the lines move.
    axes[0].set_ylim(min(y_train.min(), 0) - 0.5, max(y_train.max(), 0) + 0.5)
    axes[1].set(xlim=(0, n_epochs), ylim=(1e-3, 1e3))
    axes[2].set(xlim=(0, n_epochs), ylim=(-3, 3))
    status = axes[1].set_title(" ")
    fig.tight_layout()
    live = LiveFigure(fig, [lines["fit"], lines["curve"], lines["w1"], lines["w2"], status])
    image = widgets.Image(format="png")
    epochs = np.arange(n_epochs)

    def retrain(lr: float = 0.02, w1_init: float = 1.4, w2_init: float = -1.6) -> dict[str, Any]:
        model = model_class([w1_init, w2_init])
        with np.errstate(all="ignore"):  # a diverging run is a lesson, not an error
            loss_log, weight_log = model.train(x_train, y_train, lr, n_epochs)
            y_eval = model.forward(x_eval)
        lines["fit"].set_ydata(y_eval)
        lines["curve"].set_data(epochs, loss_log)
        lines["w1"].set_data(epochs, weight_log[:, 0])
        lines["w2"].set_data(epochs, weight_log[:, 1])
        final = loss_log[-1]
        status.set_text(f"Loss (final {final:.3g})" if np.isfinite(final) else "Loss (diverged)")
        image.value = live.png()
        return {"loss": loss_log, "weights": weight_log}

    # On the seed data, from the seed start: slow (lr 0.001), fast (0.05-0.3), zigzagging but
    # converging (0.5-0.65) and diverging (0.7 and up): the range shows all four.
    label = {"style": {"description_width": "7em"}}  # room for "learning rate"
    controls = widgets.interactive(
        retrain,
        lr=widgets.FloatLogSlider(value=0.02, base=10, min=-3, max=0, step=0.05, description="learning rate", **label),
        w1_init=widgets.FloatSlider(value=1.4, min=-2.0, max=2.0, step=0.1, description="initial w1", **label),
        w2_init=widgets.FloatSlider(value=-1.6, min=-2.0, max=2.0, step=0.1, description="initial w2", **label),
    )
    controls.children = (*controls.children[:-1], image)
    controls.figure = fig
    return controls


def check_gradient_numerically(model_class: Callable[[list[float]], Any], loss: Callable, seed: int = 0) -> None:
    """Compare ``dloss_dw`` with a finite difference of the loss, at weights of both signs.

    The finite difference uses the model's definition, y = w1 * w2 * x, not your
    ``forward``: a mistake in ``forward`` does not make a right gradient look wrong.

    Parameters
    ----------
    model_class : callable
        Your ``ShallowNarrowExercise``.
    loss : callable
        ``loss(y_prediction, y_true)``.
    seed : int, optional
        Seed of the test data (a private generator: global state is untouched).

    Raises
    ------
    AssertionError
        Naming the weights where your gradient and the finite difference disagree.
    """
    rng = np.random.default_rng(seed)
    h = 1e-6
    for w in ([0.7, 1.9], [-1.3, 0.4], [1.1, -2.2], [-0.6, -1.5]):
        x = rng.uniform(0, 1, 20)
        y = 2.0 * x + rng.normal(0, 0.2, 20)
        got = model_class(list(w)).dloss_dw(x, y)
        assert len(got) == 2, "dloss_dw should return two values: (dloss_dw1, dloss_dw2)"
        for i in range(2):
            plus, minus = list(w), list(w)
            plus[i] += h
            minus[i] -= h
            numeric = (loss(plus[0] * plus[1] * x, y) - loss(minus[0] * minus[1] * x, y)) / (2 * h)
            assert np.isclose(float(got[i]), numeric, rtol=1e-4, atol=1e-6), (
                f"At w1 = {w[0]}, w2 = {w[1]}: your dloss_dw{i + 1} is {float(got[i]):.5g}, "
                f"but a finite difference of the loss gives {numeric:.5g}."
            )
    print("dloss_dw agrees with finite differences at four weights of both signs.")


@_figure
def draw_network() -> plt.Figure:
    """Draw the network: input x, one hidden neuron, output y, joined by w1 and w2."""
    fig, ax = plt.subplots(figsize=(6, 1.8))
    centers = {"x": 0.0, "h": 1.0, "ŷ": 2.0}
    for label, cx in centers.items():
        ax.add_patch(plt.Circle((cx, 0), 0.22, facecolor="#e8f0fe", edgecolor="#1a4d8f", linewidth=2))
        ax.text(cx, 0, label, ha="center", va="center", fontsize=15)
    for (a, b), w in zip([("x", "h"), ("h", "ŷ")], ["$w_1$", "$w_2$"]):
        ax.annotate("", xy=(centers[b] - 0.24, 0), xytext=(centers[a] + 0.24, 0),
                    arrowprops={"arrowstyle": "-|>", "color": "#1a4d8f", "linewidth": 2})
        ax.text((centers[a] + centers[b]) / 2, 0.12, w, ha="center", fontsize=14)
    ax.text(0, -0.42, "input", ha="center", fontsize=10)
    ax.text(1, -0.42, "hidden neuron\n$h = w_1 x$", ha="center", va="top", fontsize=10)
    ax.text(2, -0.42, "output\n$\\hat y = w_2 h$", ha="center", va="top", fontsize=10)
    ax.set(xlim=(-0.4, 2.4), ylim=(-0.9, 0.45), aspect="equal")
    ax.axis("off")
    plt.show()
    return fig
