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

    loss, ref_loss = np.asarray(curves["loss"]), np.asarray(curves["ref_loss"])
    weights, ref_weights = np.asarray(curves["weights"]), np.asarray(curves["ref_weights"])
    fig = Figure(figsize=(10, 3.6))
    ax_loss, ax_w = fig.subplots(1, 2)
    ax_loss.plot(ref_loss, color="black", linewidth=3, alpha=0.35, label="reference")
    ax_loss.plot(loss, color="tab:red", label="your run")
    if np.all(np.isfinite(loss)) and np.all(loss > 0) and np.all(ref_loss > 0):
        ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epochs", ylabel="mean squared error", title="Loss curve")
    ax_loss.legend()
    for k, color in enumerate(["tab:blue", "tab:orange"]):
        ax_w.plot(ref_weights[:, k], color="black", linewidth=3, alpha=0.35, label="reference" if k == 0 else None)
        ax_w.plot(weights[:, k], color=color, label=f"your $w_{k + 1}$")
    ax_w.set(xlabel="epochs", ylabel="weight", title="Weights")
    ax_w.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
