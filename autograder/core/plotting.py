"""What every feedback plot shares: a run that leaves the chart stops where it leaves, and says so."""

from __future__ import annotations

from typing import Any

import numpy as np


def until_it_leaves(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, int | None]:
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


def loss_panel(ax: Any, loss: np.ndarray, ref_loss: np.ndarray, ylabel: str, title: str) -> int | None:
    """Draw the student's loss curve over the reference's on `ax`; return the epoch it leaves the chart (or None).

    The axes follow the reference run, so a run that blows up stays readable: what leaves
    the frame is marked (:func:`mark_divergence`), not allowed to squash the reference flat.
    """
    top = 10 * float(np.nanmax(ref_loss))
    ax.plot(ref_loss, color="black", linewidth=3, alpha=0.35, label="reference")
    shown, exit_at = until_it_leaves(loss, -np.inf, top)
    ax.plot(shown, color="tab:red", label="your run")
    if np.all(ref_loss > 0):
        ax.set_yscale("log")
        ax.set_ylim(float(np.min(ref_loss)) / 10, top)
    ax.set(xlabel="epochs", ylabel=ylabel, title=title)
    return exit_at


def mark_divergence(ax_loss: Any, others: list[Any], exit_at: int | None) -> None:
    """Where the loss left the chart: a dotted line on every panel and a note on the loss panel."""
    if exit_at is None:
        return
    for ax in (ax_loss, *others):
        ax.axvline(exit_at, color="tab:red", linestyle=":", linewidth=1)
    ax_loss.annotate(
        f"your loss leaves the chart\nat epoch {exit_at} (diverges)",
        xy=(exit_at, ax_loss.get_ylim()[1]), xytext=(0.35, 0.8), textcoords="axes fraction",
        color="tab:red", fontsize=8, arrowprops={"arrowstyle": "->", "color": "tab:red"},
    )
