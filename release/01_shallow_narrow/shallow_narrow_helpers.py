"""Helpers for the shallow narrow network exercise (shipped to students with the notebook).

Everything here is given code: seeding, data, plots, sliders and self-checks.
Your work is in the notebook.  (Adapted from Neuromatch Academy's Deep Learning
course, W1D2 "Learning Hyperparameters".)
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from typing import Any, Callable, NamedTuple

import matplotlib.pyplot as plt
import numpy as np

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
    xkcd_style,
)


def _diverged_at(loss_log: np.ndarray) -> int | None:
    """The first epoch whose loss is inf or nan; None when the whole run stays finite."""
    bad = np.flatnonzero(~np.isfinite(np.asarray(loss_log, dtype=float)))
    return int(bad[0]) if bad.size else None


class SeedRun(NamedTuple):
    """The values of the training run of section 3 (:func:`my_seed_run`)."""

    a: float
    sigma: float
    w1: float
    w2: float
    lr: float
    seed: int
    n: int = 73
    n_epochs: int = 211


_WORKED_SOLUTION = {"a": 2.0, "sigma": 0.2, "w1": 1.4, "w2": -1.6, "lr": 0.02, "seed": SEED}
"""The worked solution's run (where the assignment folder says nothing else)."""


def my_seed_run(student_id: str = "") -> SeedRun:
    """Your values for the training run of section 3, printed, and returned.

    Parameters
    ----------
    student_id : str, optional
        Your student id, when you work without a hub (see ``variant_values``).

    Returns
    -------
    SeedRun
        The slope and noise of the data, its seed, the starting weights and the learning rate.
    """
    values, whose = variant_values(student_id)
    run = SeedRun(**{**_WORKED_SOLUTION, **values})
    print(f"Training run with {whose}:")
    print(f"  data: {run.n} samples of y = {run.a} x + noise (sigma {run.sigma}), seed {run.seed}")
    print(f"  start: w1 = {run.w1}, w2 = {run.w2}; learning rate {run.lr}; {run.n_epochs} epochs")
    return run


def describe_run(loss_log: np.ndarray, weight_log: np.ndarray) -> str:
    """One line about a training run: where it ends, or at which epoch it diverged.

    Parameters
    ----------
    loss_log : numpy.ndarray
        Loss per epoch.
    weight_log : numpy.ndarray
        Weights per epoch, shape ``(n_ep, 2)``.

    Returns
    -------
    str
    """
    epoch = _diverged_at(loss_log)
    if epoch is not None:
        return (
            f"training diverged: the loss became {loss_log[epoch]} at epoch {epoch}\n"
            "  the weights ran away from the minimum: check dloss_dw with its test above"
        )
    w1, w2 = weight_log[-1]
    return f"final weights: w1 = {w1:.5f}, w2 = {w2:.5f}, final loss {loss_log[-1]:.7f}"


def _weight_story(name: str, values: np.ndarray) -> str:
    """How one weight moves during a run, in words: where it starts and ends, and when it crosses zero."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return f"{name} is not a number from the first epoch"
    text = f"{name} goes from {_number(finite[0])} to {_number(finite[-1])}"
    crossings = np.flatnonzero(np.sign(finite[:-1]) * np.sign(finite[1:]) < 0)
    if crossings.size:
        text += f", crossing zero at epoch {int(crossings[0]) + 1}"
    return text


def describe_training(
    x_t: np.ndarray,
    y_t: np.ndarray,
    x_ev: np.ndarray,
    y_ev: np.ndarray,
    loss_log: np.ndarray,
    weight_log: np.ndarray,
) -> str:
    """The three panels of :func:`plot_x_y_` in words, with their numbers (the picture's description).

    Parameters
    ----------
    x_t, y_t, x_ev, y_ev, loss_log, weight_log : numpy.ndarray
        What :func:`plot_x_y_` draws.

    Returns
    -------
    str
        For example "Data and fit: 73 training points around a line of slope 2.01; the model's
        prediction is a line of slope 2.03. Loss (log scale): falls from 6.35 to 0.034 in 211
        epochs. Weights: w1 goes from 1.39 to -1.33, crossing zero at epoch 36; w2 ..."
    """
    x_t, y_t = np.asarray(x_t, dtype=float), np.asarray(y_t, dtype=float)
    x_ev, y_ev = np.asarray(x_ev, dtype=float), np.asarray(y_ev, dtype=float)
    loss_log, weight_log = np.asarray(loss_log, dtype=float), np.asarray(weight_log, dtype=float)
    best = float(np.mean(x_t * y_t) / np.mean(x_t * x_t))
    with np.errstate(all="ignore"):
        slope = float((y_ev[-1] - y_ev[0]) / (x_ev[-1] - x_ev[0]))
    fit = (
        f"a line of slope {_number(slope)}" if np.isfinite(slope)
        else "not a number (training diverged), so no line is drawn"
    )
    data = (
        f"Data and fit: {len(x_t)} training points around a line of slope {_number(best)}; "
        f"the model's prediction is {fit}."
    )
    epoch = _diverged_at(loss_log)
    if epoch is not None:
        climb = f"goes from {_number(loss_log[0])} to {_number(loss_log[:epoch].max())} and " if epoch else ""
        loss = (
            f"Loss (log scale): {climb}is not a number from epoch {epoch} of {len(loss_log)}: training diverged."
        )
    else:
        trend = "falls" if loss_log[-1] < loss_log[0] else "rises"
        loss = (
            f"Loss (log scale): {trend} from {_number(loss_log[0])} to {_number(loss_log[-1])} "
            f"in {len(loss_log)} epochs."
        )
    weights = f"Weights: {_weight_story('w1', weight_log[:, 0])}; {_weight_story('w2', weight_log[:, 1])}."
    return " ".join([data, loss, weights])


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

    A run that diverged is drawn up to the epoch where it left the finite numbers, and
    the loss panel's title names that epoch.

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
    epoch = _diverged_at(loss_log_)
    if epoch is not None:
        axes[1].set_title(f"Loss (diverged at epoch {epoch})")
        for ax in axes[1:]:  # the whole run's time axis: it shows how early training broke down
            ax.set_xlim(0, len(loss_log_))
    fig.tight_layout()
    _show(fig, "Three panels. " + describe_training(x_t_, y_t_, x_ev_, y_ev_, loss_log_, weight_log_))
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


# -- what your methods return, in words ---------------------------------------------------------------


def _short(value: Any, width: int = 50) -> str:
    """``repr(value)`` cut to `width` characters, on one line."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _two_numbers(returned: Any, n: int) -> tuple[np.ndarray | None, list[str]]:
    """What ``dloss_dw`` returned, as two floats; or None and the lines of a message saying what is wrong.

    Parameters
    ----------
    returned : object
        What ``dloss_dw`` returned.
    n : int
        How many samples it was given.
    """
    expected = "dloss_dw should return two numbers: (dloss_dw1, dloss_dw2)"
    try:
        parts = list(returned)
    except TypeError:
        return None, [expected, f"  yours returned {_short(returned)}"]
    if len(parts) != 2:
        return None, [expected, f"  yours returned {len(parts)} values"]
    for i, part in enumerate(parts, start=1):
        try:
            shape = np.shape(part)
        except ValueError:  # a ragged list
            shape = None
        if shape != ():
            first = f"dloss_dw{i} is an array of shape {shape}, not one number"
            if shape and n in shape:
                return None, [first, f"  it has one value per sample ({n} samples)",
                              "  dloss_dw returns the mean gradients (section 2)"]
            return None, [first, "  dloss_dw returns two numbers, the mean gradients (section 2)"]
        try:
            float(part)
        except (TypeError, ValueError):
            return None, [f"dloss_dw{i} is not a number: it is {_short(part)}"]
    return np.array([float(part) for part in parts]), []


# -- the self-checks of the notebook's test cells ------------------------------------------------------


def _mse(w1: float, w2: float, x: np.ndarray, y: np.ndarray) -> float:
    """The loss L of section 1, written out plainly: the mean squared error of ``w1 * w2 * x``.

    The gradient check differentiates this, not your ``forward`` or the notebook's ``loss``:
    a mistake there is not blamed on a right gradient.
    """
    return float(np.mean((y - w1 * w2 * x) ** 2))


def _gradient_problem(got: np.ndarray, numeric: np.ndarray, n: int) -> tuple[str, str]:
    """What is wrong with `got` compared with `numeric`: the message's first line, and a hint line."""
    if not np.all(np.isfinite(got)):
        return "dloss_dw returned inf or nan", "  at these weights the loss and its slope are ordinary numbers"
    if not np.any(got):
        return "dloss_dw returned 0 for both weights", "  the loss does change here: see the finite differences"
    close = functools.partial(np.isclose, rtol=1e-4, atol=1e-6)
    if np.all(close(got, numeric[::-1])):
        hint = "  each weight's gradient is scaled by the other weight (section 2)"
        return "dloss_dw1 and dloss_dw2 seem swapped", hint
    wrong = np.flatnonzero(~close(got, numeric))
    name = "dloss_dw" if wrong.size == 2 else f"dloss_dw{wrong[0] + 1}"
    if np.all(np.abs(numeric[wrong]) > 1e-9):
        ratios = got[wrong] / numeric[wrong]
        ratio = float(ratios[0])
        times = max(abs(ratio), 1 / abs(ratio)) if ratio else 0.0
        # one wrong value is off by *some* factor: worth naming only when it is a whole number
        whole = np.isclose(times, round(times), rtol=1e-3)
        if times > 0 and np.allclose(ratios, ratio, rtol=1e-3) and (wrong.size == 2 or whole):
            if np.isclose(ratio, -1.0, rtol=1e-3):
                return f"{name} has the wrong sign", "  look at where the minus sign comes from (section 2)"
            size = "too large" if abs(ratio) > 1 else "too small"
            sign = ", with the wrong sign" if ratio < 0 else ""
            samples = f" (there are {n} samples)" if np.isclose(abs(ratio), n, rtol=1e-3) else ""
            return f"{name} is {times:.3g} times {size}{sign}{samples}", "  compare it with the formulas of section 2"
    what = f"{name} is wrong" if wrong.size == 1 else "dloss_dw1 and dloss_dw2 are both wrong"
    return what, "  compare your code with the formulas of section 2, factor by factor"


@_self_check
def check_gradient_numerically(model_class: Callable[[list[float]], Any], seed: int = 0) -> None:
    """Compare ``dloss_dw`` with a finite difference of the loss, at weights of both signs.

    The finite differences are taken of the loss L of section 1 (the mean squared error
    of ``w1 * w2 * x``), computed here: only your ``dloss_dw`` is tested, not your
    ``forward``.

    Parameters
    ----------
    model_class : callable
        Your ``ShallowNarrowExercise``.
    seed : int, optional
        Seed of the test data (a private generator: global state is untouched).

    Raises
    ------
    AssertionError
        Saying what is wrong on its first line, then the weights, your gradient and the
        finite differences.
    """
    rng = np.random.default_rng(seed)
    h = 1e-6
    n = 20
    for w1, w2 in ((0.7, 1.9), (-1.3, 0.4), (1.1, -2.2), (-0.6, -1.5)):
        x = rng.uniform(0, 1, n)
        y = 2.0 * x + rng.normal(0, 0.2, n)
        model = model_class([w1, w2])
        got, problem = _two_numbers(model.dloss_dw(x.copy(), y.copy()), n)
        if got is None:
            raise AssertionError("\n".join([problem[0], f"  at w1 = {w1}, w2 = {w2}", *problem[1:]]))
        try:
            unchanged = np.array_equal([model.w1, model.w2], [w1, w2])
        except (AttributeError, ValueError):
            unchanged = False
        if not unchanged:
            raise AssertionError(
                "dloss_dw changed the weights; it should only compute the gradient\n"
                "  train is the one place that updates the weights"
            )
        numeric = np.array([
            (_mse(w1 + h, w2, x, y) - _mse(w1 - h, w2, x, y)) / (2 * h),
            (_mse(w1, w2 + h, x, y) - _mse(w1, w2 - h, x, y)) / (2 * h),
        ])
        if not np.allclose(got, numeric, rtol=1e-4, atol=1e-6):
            first, hint = _gradient_problem(got, numeric, n)
            raise AssertionError(
                f"{first}:\n"
                f"  {f'at w1 = {w1}, w2 = {w2}':<24}{'dloss_dw1':>12}{'dloss_dw2':>12}\n"
                f"  {'yours:':<24}{got[0]:>12.5g}{got[1]:>12.5g}\n"
                f"  {'finite difference:':<24}{numeric[0]:>12.5g}{numeric[1]:>12.5g}\n"
                f"{hint}"
            )
    print("dloss_dw agrees with finite differences at four weights of both signs.")


_NO_RUN = (
    "there is no training run: the training cell above failed\n"
    "  fix the error it shows, run it again, then run this cell"
)
"""What the checks say when the training cell failed (it left ``loss_log`` and ``weight_log`` at None)."""

_GIVEN_TRAIN = "  train is given code: run the class cell and the training cell again"


def _diverged(what: str) -> str:
    """The message for a run that diverged: `what` went inf or nan."""
    return (
        f"training diverged: {what}\n"
        "  a wrong gradient pushes the weights away from the minimum:\n"
        "  check dloss_dw with its test above (check_gradient_numerically)"
    )


@_self_check
def check_training_curve(loss_log: Any, weight_log: Any, n_epochs: int) -> None:
    """Check the training run of the cell above: one loss per epoch, and the loss goes down.

    Parameters
    ----------
    loss_log, weight_log : numpy.ndarray or None
        What ``train`` returned (None when the training cell failed).
    n_epochs : int
        The number of epochs of that run.

    Raises
    ------
    AssertionError
        Saying what is wrong on its first line, and where to look.
    """
    assert loss_log is not None and weight_log is not None, _NO_RUN
    loss_log, weight_log = np.asarray(loss_log, dtype=float), np.asarray(weight_log, dtype=float)
    assert loss_log.shape == (n_epochs,) and weight_log.shape == (n_epochs, 2), (
        f"the training run has shapes {loss_log.shape} and {weight_log.shape}\n"
        f"  expected ({n_epochs},) for loss_log and ({n_epochs}, 2) for weight_log\n" + _GIVEN_TRAIN
    )
    epoch = _diverged_at(loss_log)
    assert epoch is None, _diverged(f"the loss became {loss_log[epoch]} at epoch {epoch} of {n_epochs}")
    assert loss_log[-1] < loss_log[0], (
        f"the loss went up during training: {loss_log[0]:.4g} -> {loss_log[-1]:.4g}\n"
        "  gradient descent goes downhill: check dloss_dw with its test above"
    )
    print("The loss goes down during training.")


def _descend_numerically(w1: float, w2: float, x: np.ndarray, y: np.ndarray, lr: float, n_epochs: int) -> np.ndarray:
    """Where gradient descent on the loss of section 1 ends, with finite-difference slopes.

    The slopes come from the loss alone (as in the gradient test above), so this tells where
    your run should end without showing the formula of section 2.
    """
    h = 1e-6
    for _ in range(n_epochs):
        d1 = (_mse(w1 + h, w2, x, y) - _mse(w1 - h, w2, x, y)) / (2 * h)
        d2 = (_mse(w1, w2 + h, x, y) - _mse(w1, w2 - h, x, y)) / (2 * h)
        w1, w2 = w1 - lr * d1, w2 - lr * d2
    return np.array([w1, w2])


@_self_check
def check_seed_run(weight_log: Any, x_train: Any, y_train: Any, run: SeedRun) -> None:
    """Check where the training run of the cell above ends.

    Parameters
    ----------
    weight_log : numpy.ndarray or None
        The weights after each epoch (None when the training cell failed).
    x_train, y_train : numpy.ndarray
        The data it trained on.
    run : SeedRun
        Its values (:func:`my_seed_run`).

    Raises
    ------
    AssertionError
        Saying what is wrong on its first line, and where to look.
    """
    assert weight_log is not None, _NO_RUN
    weight_log = np.asarray(weight_log, dtype=float)
    assert weight_log.ndim == 2 and weight_log.shape[0] > 0 and weight_log.shape[1] == 2, (
        f"weight_log has shape {weight_log.shape}, not (n_epochs, 2)\n" + _GIVEN_TRAIN
    )
    w1, w2 = weight_log[-1]
    assert np.isfinite(w1) and np.isfinite(w2), _diverged(f"the final weights are w1 = {w1}, w2 = {w2}")
    x, y = np.asarray(x_train, dtype=float), np.asarray(y_train, dtype=float)
    expected = _descend_numerically(run.w1, run.w2, x, y, run.lr, run.n_epochs)
    assert np.allclose([w1, w2], expected, atol=1e-4), (
        f"the run ends at w1 = {w1:.5f}, w2 = {w2:.5f}, not where it should\n"
        f"  expected:     w1 = {expected[0]:.5f}, w2 = {expected[1]:.5f}\n"
        "  if dloss_dw passes its test above, run the training cell again:\n"
        "  it must run unchanged, with the data drawn right after set_seed"
    )
    print("The run ends where it should.")


# -- the slider explorer ---------------------------------------------------------------------------------


class _WrongReturn(Exception):
    """One of your methods returned something of the wrong kind (the message says what)."""


_YOUR_METHODS = ("__init__", "forward", "dloss_dw", "train")
"""The methods of your class: the ones the explorer can name when training fails."""


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
    if isinstance(error, _WrongReturn):
        lines = str(error).splitlines()
    elif isinstance(error, NotImplementedError):
        lines = [f"{where} is not written yet (NotImplementedError)."]
    else:
        first = f"{where} raised {type(error).__name__}"
        detail = (str(error).strip().splitlines() or [""])[0]
        room = max(20, 80 - len(first) - 2)  # keep the line short enough to read at a glance
        if detail:
            first += ": " + (detail if len(detail) <= room else detail[: room - 3] + "...")
        lines = [first]
        if frames and frames[-1].name == "train":
            lines.append("train is given code: check what forward and dloss_dw return.")
    lines += ["Finish forward and dloss_dw (section 2) until their tests pass,",
              "run the class cell again, then move a slider."]
    return "\n".join(lines)


def _explorer_run(
    model_class: type, x: np.ndarray, y: np.ndarray, lr: float, start: list[float], n_epochs: int, x_eval: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train `model_class` from `start`; raise :class:`_WrongReturn` if a method returns the wrong kind of thing.

    Returns
    -------
    loss_log, weight_log, y_eval : numpy.ndarray
        The run, and the trained model's predictions at `x_eval`.
    """
    name = model_class.__name__
    with np.errstate(all="ignore"):  # a diverging run is a lesson, not an error
        # forward and dloss_dw are looked at before train uses them: train's own error
        # ("setting an array element with a sequence") would not say which one is wrong
        y_start = model_class(list(start)).forward(x_eval.copy())
        if np.shape(y_start) != x_eval.shape:
            raise _WrongReturn(
                f"{name}.forward returned shape {np.shape(y_start)} for {len(x_eval)} inputs,\n"
                f"not one prediction per input, shape ({len(x_eval)},)."
            )
        got, problem = _two_numbers(model_class(list(start)).dloss_dw(x.copy(), y.copy()), len(x))
        if got is None:
            raise _WrongReturn("\n".join(problem))
        model = model_class(list(start))
        loss_log, weight_log = model.train(x, y, lr, n_epochs)
        y_eval = np.asarray(model.forward(x_eval.copy()), dtype=float)
    loss_log, weight_log = np.asarray(loss_log, dtype=float), np.asarray(weight_log, dtype=float)
    if loss_log.shape != (n_epochs,) or weight_log.shape != (n_epochs, 2):
        raise _WrongReturn(
            f"{name}.train returned shapes {loss_log.shape} and {weight_log.shape},\n"
            f"not ({n_epochs},) and ({n_epochs}, 2): train is given code, run its cell again."
        )
    return loss_log, weight_log, y_eval


def training_explorer(
    model_class: Callable[[list[float]], Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    n_epochs: int = 211,
) -> Any:
    """Sliders for the learning rate and both initial weights; each move retrains and redraws.

    When your class fails (a method not written yet, or returning the wrong kind of
    thing), a message takes the picture's place; fix the class, run its cell again and
    move a slider.

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
        (learning rate, initial w1, initial w2), then the caption (what the picture
        shows, in words), the message shown when your class fails, and the picture last;
        ``.result`` the last run (``loss``, ``weights``, or ``error``: the message);
        ``.figure`` the matplotlib figure; ``.screen`` the caption, the message and the
        picture.  None while ``nbgrader autograde`` runs the notebook.
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
    screen = _Screen()
    epochs = np.arange(n_epochs)

    def retrain(lr: float = 0.02, w1_init: float = 1.4, w2_init: float = -1.6) -> dict[str, Any]:
        model = _current_class(model_class)
        try:
            loss_log, weight_log, y_eval = _explorer_run(
                model, x_train, y_train, lr, [w1_init, w2_init], n_epochs, x_eval
            )
        except Exception as error:  # your code failed: say so where the picture would be
            screen.fail(_explain_failure(error, model))
            return {"error": screen.text}
        lines["fit"].set_ydata(y_eval)
        lines["curve"].set_data(epochs, loss_log)
        lines["w1"].set_data(epochs, weight_log[:, 0])
        lines["w2"].set_data(epochs, weight_log[:, 1])
        final = loss_log[-1]
        status.set_text(f"Loss (final {final:.3g})" if np.isfinite(final) else "Loss (diverged)")
        start = f"Learning rate {lr:.3g}, starting at w1 = {w1_init:.3g}, w2 = {w2_init:.3g}. "
        screen.show(live.png(), start + describe_training(x_train, y_train, x_eval, y_eval, loss_log, weight_log))
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
    # interactive's own Output (where it would print an exception) is replaced by the screen,
    # so every failure must be caught in retrain and shown there
    controls.children = (*controls.children[:-1], *screen.children)
    controls.figure = fig
    controls.screen = screen
    return controls


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
    _show(fig, "Diagram of the network: the input x is multiplied by the weight w1 to give the hidden neuron "
               "h = w1 x, which is multiplied by the weight w2 to give the output ŷ = w2 h.")
    return fig
