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


def test_student_version_hides_solutions_and_hidden_tests() -> None:
    text = (ROOT / "release" / ASSIGNMENT / "shallow_narrow.ipynb").read_text()
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "run_check", "autograder", "self.w1 * self.w2 * x).mean()"):
        assert secret not in text
    assert text.count("raise NotImplementedError()") == 2  # forward and dloss_dw; train stays
    assert "def train(self, x, y_true, lr, n_ep)" in text


def test_worked_solution_keeps_the_solution_and_drops_the_tests() -> None:
    nb = nbformat.read(ROOT / "notebooks" / ASSIGNMENT / "shallow_narrow.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "dloss_dw1 = - (2 * self.w2 * x" in text
    assert "HIDDEN TESTS" not in text and "run_check" not in text and "BEGIN SOLUTION" not in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "the published notebook carries its plots"


HELPERS = {
    "01_shallow_narrow": "shallow_narrow_helpers",
    "02_learning_landscape": "landscape_helpers",
    "03_depth_and_init": "depth_helpers",
}


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
