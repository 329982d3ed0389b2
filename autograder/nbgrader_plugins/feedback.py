"""``generate_feedback``: hidden test code stays hidden, and training records become a plot."""

from __future__ import annotations

import base64
import io
import json
from typing import TYPE_CHECKING, Any, Callable

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
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
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if CURVES_MIME in data:
                    curves = json.loads(data.pop(CURVES_MIME))
                    plot = _plot_for(cell)
                    if plot is not None:
                        data["image/png"] = _png_base64(plot(curves))
        return cell, resources


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
