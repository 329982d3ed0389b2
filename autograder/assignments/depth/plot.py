"""The feedback plot of ``03_depth_and_init``: a student's training run of the deep narrow network against the reference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.plotting import loss_panel, mark_divergence, until_it_leaves

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def training_figure(curves: dict[str, Any]) -> Figure:
    """The student's loss curve and the network's slope (the product of its weights) against the reference's.

    With up to 30 layers, one line per weight would be unreadable; what the network computes is
    ``w_1 ⋯ w_D · x``, so the product of the weights is the one number that says how far training got.

    Parameters
    ----------
    curves : dict
        ``loss``, ``weights`` (epochs × depth), ``ref_loss`` and ``ref_weights`` lists, as the judge keeps them.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels; a run that leaves the chart (diverges) stops there, with a note.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    loss, ref_loss = np.asarray(curves["loss"], dtype=float), np.asarray(curves["ref_loss"], dtype=float)
    with np.errstate(all="ignore"):  # a diverged run's product overflows: it leaves the chart anyway
        slope = np.prod(np.asarray(curves["weights"], dtype=float), axis=1)
        ref_slope = np.prod(np.asarray(curves["ref_weights"], dtype=float), axis=1)
    depth = np.asarray(curves["ref_weights"]).shape[1]
    fig = Figure(figsize=(10, 3.6))
    ax_loss, ax_slope = fig.subplots(1, 2)

    loss_exit = loss_panel(ax_loss, loss, ref_loss, "loss", f"Loss curve (depth {depth})")

    span = 1.5 * float(np.nanmax(np.abs(ref_slope))) + 0.1
    ax_slope.plot(ref_slope, color="tab:blue", linewidth=5, alpha=0.3, label="reference")
    shown, _ = until_it_leaves(slope, -span, span)
    ax_slope.plot(shown, color="tab:blue", label="your run")
    ax_slope.set_ylim(-span, span)
    ax_slope.set(xlabel="epochs", ylabel=r"$w_1 \cdots w_D$", title="The network's slope (product of the weights)")
    mark_divergence(ax_loss, [ax_slope], loss_exit)
    ax_loss.legend(loc="lower left")
    ax_slope.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
