"""Plots the grader draws: a student's training run against the reference."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np


def curves_png_base64(curves: dict[str, Any]) -> str:
    """Draw the student's loss curve and weights against the reference, as base64 PNG.

    Parameters
    ----------
    curves : dict
        ``loss``, ``weights``, ``ref_loss`` and ``ref_weights`` lists, as the judge keeps them.

    Returns
    -------
    str
        The PNG, base64-encoded (what a notebook's ``image/png`` output holds).
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
    ax_loss.plot(np.clip(loss, None, loss_top), color="tab:red", label="your run")
    if np.all(ref_loss > 0):
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(float(np.min(ref_loss)) / 10, loss_top)
    ax_loss.set(xlabel="epochs", ylabel="mean squared error", title="Loss curve")
    w_span = 1.5 * float(np.nanmax(np.abs(ref_weights))) + 0.1
    for k, color in enumerate(["tab:blue", "tab:orange"]):
        ax_w.plot(ref_weights[:, k], color="black", linewidth=3, alpha=0.35, label="reference" if k == 0 else None)
        ax_w.plot(np.clip(weights[:, k], -w_span, w_span), color=color, label=f"your $w_{k + 1}$")
    ax_w.set_ylim(-w_span, w_span)
    ax_w.set(xlabel="epochs", ylabel="weight", title="Weights")
    away = np.flatnonzero(~np.isfinite(loss) | (loss > loss_top))
    if away.size:
        for ax in (ax_loss, ax_w):
            ax.axvline(away[0], color="tab:red", linestyle=":", linewidth=1)
        ax_loss.annotate(
            f"your loss leaves the chart\nat epoch {away[0]} (diverges)",
            xy=(away[0], loss_top), xytext=(0.35, 0.8), textcoords="axes fraction",
            color="tab:red", fontsize=8, arrowprops={"arrowstyle": "->", "color": "tab:red"},
        )
    ax_loss.legend(loc="lower left")
    ax_w.legend(loc="lower left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
