"""The notebooks themselves: the instructor's runs clean, the student's stops at the first stub,
and the generated folders are in sync with source/."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.course import build
from conftest import ASSIGNMENT, ROOT
from series import SERIES


def _execute(nb, folder: Path, allow_errors: bool = False) -> None:
    NotebookClient(nb, timeout=120, allow_errors=allow_errors, resources={"metadata": {"path": str(folder)}}).execute()


@pytest.mark.parametrize("assignment", build.assignments())
def test_release_and_notebooks_are_in_sync_with_source(assignment: str) -> None:
    stale = build.stale_files(assignment)
    assert not stale, f"Stale generated files (run `make build`): {stale}"


@pytest.mark.parametrize("assignment", build.assignments())
def test_instructor_notebook_runs_without_errors_or_stderr(assignment: str, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "source" / assignment, tmp_path, dirs_exist_ok=True)
    for path in sorted(tmp_path.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        _execute(nb, tmp_path)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                assert output.output_type != "error", f"cell {index}: {output.get('evalue')}"
                assert output.get("name") != "stderr", f"cell {index} wrote to stderr: {output.get('text')!r}"


def test_student_notebook_runs_until_the_first_not_implemented_error(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "release" / ASSIGNMENT, tmp_path, dirs_exist_ok=True)
    nb = nbformat.read(tmp_path / "shallow_narrow.ipynb", as_version=4)
    with pytest.raises(CellExecutionError) as failure:
        _execute(nb, tmp_path)
    assert "NotImplementedError" in str(failure.value)
    failed = [i for i, c in enumerate(nb.cells) if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1
    first_test = next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_forward"
    )
    assert failed[0] == first_test, "the first error should come where forward is first called"


def _notebooks(assignment: str) -> list[tuple[nbformat.NotebookNode, nbformat.NotebookNode, nbformat.NotebookNode]]:
    """(source, release, worked solution) of each notebook of an assignment."""
    return [
        tuple(nbformat.read(ROOT / folder / assignment / path.name, as_version=4)  # type: ignore[misc]
              for folder in ("source", "release", "notebooks"))
        for path in sorted((ROOT / "source" / assignment).glob("*.ipynb"))
    ]  # fmt: skip


def _solution_lines(nb: nbformat.NotebookNode) -> list[str]:
    """The non-blank lines inside each code cell's solution regions."""
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines() if cell.cell_type == "code" else []:
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


@pytest.mark.parametrize("assignment", build.assignments())
def test_student_version_hides_solutions_and_hidden_tests(assignment: str) -> None:
    for source, release, _ in _notebooks(assignment):
        text = nbformat.writes(release)
        for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "run_check", "autograder"):
            assert secret not in text
        regions = sum(c.source.count("### BEGIN SOLUTION") for c in source.cells if c.cell_type == "code")
        stubs = sum(c.source.count("raise NotImplementedError()") for c in release.cells if c.cell_type == "code")
        assert regions and stubs == regions  # every solution region became a stub, nothing else did


def test_the_first_student_version_keeps_the_given_code() -> None:
    text = (ROOT / "release" / ASSIGNMENT / "shallow_narrow.ipynb").read_text()
    assert "self.w1 * self.w2 * x).mean()" not in text  # the gradient's answer
    assert "def train(self, x, y_true, lr, n_ep)" in text  # train is given, not a stub


@pytest.mark.parametrize("assignment", build.assignments())
def test_worked_solution_keeps_the_solution_and_drops_the_tests(assignment: str) -> None:
    for source, _, worked in _notebooks(assignment):
        code = "\n".join(c.source for c in worked.cells if c.cell_type == "code")
        missing = [line for line in _solution_lines(source) if line not in code]
        assert missing == [], missing
        text = "\n".join(c.source for c in worked.cells)
        assert "HIDDEN TESTS" not in text and "run_check" not in text and "BEGIN SOLUTION" not in text
        images = [o for c in worked.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 2, "the published notebook carries its plots"


HELPERS = {assignment.name: assignment.helpers for assignment in SERIES}


@pytest.mark.parametrize("assignment", sorted(HELPERS))
def test_every_drawing_helper_can_be_skipped_by_the_grader(assignment: str) -> None:
    # A helper that draws but is not marked would cost every graded notebook its figure again.
    import inspect

    from conftest import load_student_module

    module = load_student_module(assignment, HELPERS[assignment])
    drawing = {
        name
        for name, f in vars(module).items()
        if inspect.isfunction(f)
        and not name.startswith("_")
        and f.__module__ == module.__name__
        and (name.startswith(("plot_", "draw_")) or name.endswith(("_explorer", "_game")))
        and list(inspect.signature(f).parameters)[:1] != ["ax"]  # draws into a figure made elsewhere
    }
    assert drawing
    unmarked = {name for name in drawing if getattr(vars(module)[name], "__wrapped__", None) is None}
    # 01's explorer already steps aside under any autograde (NBGRADER_EXECUTION).
    assert unmarked <= {"training_explorer"}, unmarked


def test_a_skipped_figure_says_where_to_find_it(monkeypatch, capsys) -> None:
    import matplotlib

    from conftest import load_student_module

    matplotlib.use("Agg")
    helpers = load_student_module(ASSIGNMENT, "shallow_narrow_helpers")
    monkeypatch.setenv("AUTOGRADER_FIGURES", "skip")
    assert helpers.draw_network() is None
    assert "no figure in the graded copy; run the notebook to see it" in capsys.readouterr().out
    monkeypatch.setenv("AUTOGRADER_FIGURES", "draw")
    assert isinstance(helpers.draw_network(), matplotlib.figure.Figure)
