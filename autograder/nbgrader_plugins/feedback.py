"""``generate_feedback``: hidden test code stays hidden, and training records become a plot."""

from __future__ import annotations

import base64
import html
import io
import json
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.preprocessors.base import NbGraderPreprocessor

from ..core import checks
from .cells import CURVES_MIME, VERDICT_KEY

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class HideHiddenTests(ClearHiddenTests):
    """For ``generate_feedback``: hidden test code is removed, its results stay.

    Stock nbgrader shows hidden test code in feedback (jupyter/nbgrader #917).
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        before = cell.get("source")
        cell, resources = super().preprocess_cell(cell, resources, index)
        if cell.get("source") != before:  # a hidden-tests region was removed
            cell.source = cell.source.rstrip("\n") + "\n# (hidden tests ran here; their results are below)"
        return cell, resources


class DrawCurves(NbGraderPreprocessor):
    """For ``generate_feedback``: draw the training records a check kept as a plot.

    Drawing waits until feedback is generated, so autograding pays nothing for it.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code":
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            outputs.append(output)
            data = output.get("data", {})
            if CURVES_MIME in data:
                curves = json.loads(data.pop(CURVES_MIME))
                plot = _plot_for(cell)
                if plot is not None:
                    text = describe_run(curves)
                    data["image/png"] = _png_base64(plot(curves))
                    # What the picture shows, for a screen reader (nbconvert writes it as the img's alt) ...
                    output.setdefault("metadata", {})["image/png"] = {"alt": text}
                    # ... and for everyone, as a caption under it (an output of its own: an output that
                    # also held HTML would show the HTML instead of the picture).
                    outputs.append(_caption(text))
        cell.outputs = outputs
        return cell, resources


def _caption(text: str) -> NotebookNode:
    """A display output that reads "Figure: <text>" under the plot."""
    return new_output(
        "display_data",
        data={"text/plain": f"Figure: {text}", "text/html": f'<p class="figure-caption">Figure: {html.escape(text)}</p>'},
    )


def describe_run(curves: dict[str, Any]) -> str:
    """The feedback plot in words: the student's training run against the reference.

    Parameters
    ----------
    curves : dict
        At least ``loss`` and ``ref_loss`` (per epoch), as every training judge keeps them.
    """
    loss = np.asarray(curves.get("loss", []), dtype=float)
    ref = np.asarray(curves.get("ref_loss", []), dtype=float)
    if not loss.size or not ref.size:
        return "Plot of your training run against the reference run."
    text = (
        f"Plot of your training run against the reference run over {ref.size} epochs: the reference loss goes "
        f"from {ref[0]:.3g} to {ref[-1]:.3g}; "
    )
    broken = np.flatnonzero(~np.isfinite(loss))
    if broken.size:
        return text + f"your loss starts at {loss[0]:.3g} and stops being a number at epoch {int(broken[0])} (it diverges)."
    if np.allclose(loss, ref, rtol=1e-6, atol=1e-12):
        return text + "yours follows it exactly."
    return text + f"yours goes from {loss[0]:.3g} to {loss[-1]:.3g}."


def _plot_for(cell: NotebookNode) -> Callable[[dict[str, Any]], Figure] | None:
    """The feedback plot of the assignment whose check wrote this cell's verdict."""
    for output in cell.get("outputs", []):
        details = output.get("metadata", {}).get(VERDICT_KEY)
        if isinstance(details, dict) and isinstance(details.get("check"), str):
            assignment = checks.assignment_of(details["check"])
            return assignment.plot if assignment is not None else None
    return None


def _png_base64(fig: Figure) -> str:
    """A figure as a base64 PNG (what a notebook's ``image/png`` output holds); the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=80)
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
