"""Plots the grader draws: a student's training run against the reference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.plotting import loss_panel, mark_divergence, until_it_leaves

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WEIGHT_COLORS = ("tab:blue", "tab:orange")


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

    loss_exit = loss_panel(ax_loss, loss, ref_loss, "mean squared error", "Loss curve")

    w_span = 1.5 * float(np.nanmax(np.abs(ref_weights))) + 0.1
    for k, color in enumerate(WEIGHT_COLORS):
        # Each reference weight in its student weight's colour, wide and pale: which is which stays clear.
        ax_w.plot(ref_weights[:, k], color=color, linewidth=5, alpha=0.3, label=f"reference $w_{k + 1}$")
        shown, exit_at = until_it_leaves(weights[:, k], -w_span, w_span)
        ax_w.plot(shown, color=color, label=f"your $w_{k + 1}$")
        if exit_at is not None:
            # Where the weight leaves the chart: a triangle on the edge, pointing the way it went.
            down = bool(weights[exit_at, k] < 0)
            ax_w.plot([exit_at], [-w_span if down else w_span], marker="v" if down else "^", color=color,
                      markersize=9, clip_on=False, linestyle="none")
    ax_w.set_ylim(-w_span, w_span)
    ax_w.set(xlabel="epochs", ylabel="weight", title="Weights")

    mark_divergence(ax_loss, [ax_w], loss_exit)
    ax_loss.legend(loc="lower left")
    ax_w.legend(loc="lower left", fontsize=8, ncol=2)
    fig.tight_layout()
    return fig
