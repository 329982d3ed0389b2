"""Plots the grader draws: a student's training run against the reference."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WEIGHT_COLORS = ("tab:blue", "tab:orange")


def _inside(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, int | None]:
    """`values` with everything from the first point outside [low, high] on blanked (NaN).

    Returns the blanked copy and the index of that first point (None if there is none).
    Clipping instead would draw a run that left the chart as one that sits on its edge.
    """
    outside = np.flatnonzero(~np.isfinite(values) | (values < low) | (values > high))
    if not outside.size:
        return values, None
    shown = values.copy()
    shown[outside[0] :] = np.nan
    return shown, int(outside[0])


def training_figure(curves: dict[str, Any]) -> Figure:
    """The student's loss curve and weights against the reference's, side by side.

    Parameters
    ----------
    curves : dict
        ``loss``, ``weights``, ``ref_loss`` and ``ref_weights`` lists, as the judge keeps them.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels; a run that leaves the chart (diverges) stops there, with a marker and a note.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    loss, ref_loss = np.asarray(curves["loss"], dtype=float), np.asarray(curves["ref_loss"], dtype=float)
    weights = np.asarray(curves["weights"], dtype=float)
    ref_weights = np.asarray(curves["ref_weights"], dtype=float)
    fig = Figure(figsize=(10, 3.6))
    ax_loss, ax_w = fig.subplots(1, 2)

    # The axes follow the reference run, so a run that blows up stays readable: what leaves
    # the frame is marked, not allowed to squash the reference into a flat line.
    loss_top = 10 * float(np.nanmax(ref_loss))
    ax_loss.plot(ref_loss, color="black", linewidth=3, alpha=0.35, label="reference")
    shown_loss, loss_exit = _inside(loss, -np.inf, loss_top)
    ax_loss.plot(shown_loss, color="tab:red", label="your run")
    if np.all(ref_loss > 0):
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(float(np.min(ref_loss)) / 10, loss_top)
    ax_loss.set(xlabel="epochs", ylabel="mean squared error", title="Loss curve")

    w_span = 1.5 * float(np.nanmax(np.abs(ref_weights))) + 0.1
    for k, color in enumerate(WEIGHT_COLORS):
        # Each reference weight in its student weight's colour, wide and pale: which is which stays clear.
        ax_w.plot(ref_weights[:, k], color=color, linewidth=5, alpha=0.3, label=f"reference $w_{k + 1}$")
        shown, exit_at = _inside(weights[:, k], -w_span, w_span)
        ax_w.plot(shown, color=color, label=f"your $w_{k + 1}$")
        if exit_at is not None:
            # Where the weight leaves the chart: a triangle on the edge, pointing the way it went.
            down = bool(weights[exit_at, k] < 0)
            ax_w.plot([exit_at], [-w_span if down else w_span], marker="v" if down else "^", color=color,
                      markersize=9, clip_on=False, linestyle="none")
    ax_w.set_ylim(-w_span, w_span)
    ax_w.set(xlabel="epochs", ylabel="weight", title="Weights")

    if loss_exit is not None:
        for ax in (ax_loss, ax_w):
            ax.axvline(loss_exit, color="tab:red", linestyle=":", linewidth=1)
        ax_loss.annotate(
            f"your loss leaves the chart\nat epoch {loss_exit} (diverges)",
            xy=(loss_exit, loss_top), xytext=(0.35, 0.8), textcoords="axes fraction",
            color="tab:red", fontsize=8, arrowprops={"arrowstyle": "->", "color": "tab:red"},
        )
    ax_loss.legend(loc="lower left")
    ax_w.legend(loc="lower left", fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def curves_png_base64(curves: dict[str, Any]) -> str:
    """Draw :func:`training_figure` as a base64 PNG (what a notebook's ``image/png`` output holds)."""
    buffer = io.BytesIO()
    training_figure(curves).savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
