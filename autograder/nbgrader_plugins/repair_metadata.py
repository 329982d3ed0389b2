"""Autograde's sanitizing steps: nbgrader metadata a student edited is put right before nbgrader looks."""

from __future__ import annotations

from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.preprocessors.base import NbGraderPreprocessor

from ..upstream import remove_hidden_tests


class RepairCellMetadata(NbGraderPreprocessor):
    """For autograde's sanitizing steps, first: nbgrader metadata a student edited is put right.

    Stock nbgrader gives up on a whole submission (leaving it for manual
    grading) when a student edited a cell's nbgrader metadata in some ways: a
    test cell flagged as a solution ("Inconsistent checksums"), a grade cell
    with an id the gradebook does not know, a copied cell (``DeduplicateIds``
    leaves an empty record that ``OverwriteCells.add_missing_cells`` trips
    on), a record without an id.  A wrong ``schema_version`` is worse: it
    stops the grading of every later student.

    Here, before nbgrader looks: a record without a known id, or a copy of an
    id that comes again later (nbgrader keeps the last copy too), is removed,
    so the cell is ordinary code or text; a known cell gets the gradebook's
    flags, points and schema version back.  ``OverwriteCells`` then restores the
    source of locked cells and adds the missing ones as usual, so a tampered
    test is graded, not skipped.  Add it in ``nbgrader_config.py``::

        c.Autograde.sanitize_preprocessors = [ClearOutput, RepairCellMetadata, DeduplicateIds,
                                              OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        known, hidden = self._gradebook_flags(resources.get("nbgrader", {}))
        seen: set[str] = set()
        for cell in reversed(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(grade_id, str) or not grade_id or grade_id in seen or (
                known is not None and grade_id not in known
            ):
                self.log.warning("Removing the nbgrader metadata of a cell (id %r): unknown or repeated", grade_id)
                del cell.metadata["nbgrader"]
                continue
            seen.add(grade_id)
            if known is not None:
                flags = known[grade_id]
                wrong = sorted(k for k, v in flags.items() if not _same(meta.get(k), v))
                if wrong:
                    self.log.warning("Cell %s: restoring edited nbgrader metadata %s", grade_id, wrong)
                    meta.update({k: flags[k] for k in wrong})
            released, full = hidden.get(grade_id, (None, None))
            if released is not None and cell.get("source") == released:
                # A test cell exactly as released: give it its hidden tests back now, so that
                # OverwriteCells warns only about cells a student really changed (it compares
                # against the checksum taken with the hidden tests in: jupyter/nbgrader #1961).
                cell.source = full
        return nb, resources

    def _gradebook_flags(
        self, info: dict[str, Any]
    ) -> tuple[dict[str, dict[str, Any]] | None, dict[str, tuple[str, str]]]:
        """The nbgrader metadata each cell of the notebook had when it was released, by id.

        Also, for each locked cell with hidden tests: its source as released, and in full.
        """
        if not all(key in info for key in ("db_url", "notebook", "assignment")):
            return None, {}
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(info["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return None, {}
            hidden: dict[str, tuple[str, str]] = {}
            for cell in notebook.source_cells:
                if cell.locked and cell.cell_type == "code":
                    released = new_code_cell(cell.source)
                    if remove_hidden_tests(released, parent=self):
                        hidden[cell.name] = (released.source, cell.source)
            flags: dict[str, dict[str, Any]] = {
                cell.name: {"grade": False, "solution": False, "task": False, "locked": bool(cell.locked),
                            "schema_version": 3}
                for cell in notebook.source_cells
            }  # fmt: skip
            for cell in notebook.grade_cells:
                flags.setdefault(cell.name, {}).update(grade=True, points=cell.max_score)
            for cell in notebook.solution_cells:
                flags.setdefault(cell.name, {})["solution"] = True
            for cell in notebook.task_cells:
                flags.setdefault(cell.name, {}).update(task=True, points=cell.max_score)
        return flags, hidden


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        return value is expected
    if isinstance(expected, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value) == float(expected)
    return bool(value == expected)
