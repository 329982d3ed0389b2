"""``generate_assignment``: release no graded test cell that would be judged in the student's kernel."""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors.base import NbGraderPreprocessor

from .cells import unchecked_tests


class RequireRegisteredChecks(NbGraderPreprocessor):
    """For ``generate_assignment``, first: refuse a graded test cell that names no registered check.

    Such a cell would be judged by its own code inside the student's kernel,
    which the student controls.  The message names each such cell.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        unchecked = unchecked_tests(nb)
        if unchecked:
            name = resources.get("unique_key", "the notebook")
            raise ValueError(
                f"{name}: graded test cells must call run_check(...) with a registered check: {'; '.join(unchecked)}"
            )
        return nb, resources
