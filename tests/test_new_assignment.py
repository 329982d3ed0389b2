"""Adding an assignment is one folder in autograder/assignments plus one in source/ (the README's recipe).

A tiny assignment, ``04_doubling`` (one function, one check, one judge, one
mistake), is scaffolded in a scratch copy of the course, built, released, and
graded with stock ``nbgrader autograde`` and with ``python -m autograder grade``.
Nothing outside the two new folders changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import ROOT

ASSIGNMENT, TOPIC, NOTEBOOK = "04_doubling", "doubling", "doubling"

PACKAGE = {
    "__init__.py": '''
        """``04_doubling``: a function that doubles its input."""

        from ...core.checks import Assignment
        from ...core.mistakes import GENERIC, Catalogue
        from . import inputs, judges

        ASSIGNMENT = Assignment(
            name="04_doubling",
            topic="doubling",
            checks=tuple(inputs.CHECKS),
            mistakes=Catalogue.union("04_doubling", GENERIC, judges.MISTAKES),
        )
        ''',
    "inputs.py": '''
        """The inputs each check of ``04_doubling`` draws (seeded per student), and its judge."""

        from typing import Any

        import numpy as np

        from ...core.checks import Check
        from . import judges


        def _double_request(rng: np.random.Generator) -> dict[str, Any]:
            cases = [{"args": [rng.normal(0, 2, n).tolist()]} for n in (1, 4, 9)]
            return {"function": "double", "cases": cases}


        CHECKS = [Check("doubling.double", _double_request, judges.judge_double)]
        ''',
    "judges.py": '''
        """Judges of ``04_doubling``: the student's outputs against 2·x, computed here."""

        from typing import Any

        import numpy as np

        from ...core.mistakes import Catalogue
        from ...core.verdict import Verdict, close, fail, structural_problem, values

        MISTAKES = Catalogue("04_doubling")
        ADDS_TWO = MISTAKES.register(
            "doubling_adds_two",
            "two is added to the input instead of multiplying it by two",
            "Doubling a number is a product: what is double(0)?",
        )


        def _describe(case: dict[str, Any]) -> str:
            return f"{len(case['args'][0])} input value(s)"


        def judge_double(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
            problem = structural_problem(request, payload, "double", _describe)
            if problem:
                return problem
            xs = [np.array(case["args"][0]) for case in request["cases"]]
            outs = [values(result.get("out")) for result in payload["results"]]
            if any(out is None or out.shape != x.shape for out, x in zip(outs, xs)):
                return fail("`double` must return an array shaped like its input.")
            if all(close(out, 2 * x) for out, x in zip(outs, xs)):
                return Verdict(1.0, f"`double` is right on all {len(xs)} inputs.")
            if all(close(out, x + 2) for out, x in zip(outs, xs)):
                return fail("`double` is wrong.", ADDS_TWO)
            return fail("`double` is wrong: compare double(1.5) with 3 by hand.")
        ''',
}


def _source_notebook() -> nbformat.NotebookNode:
    def meta(grade_id: str, **flags: object) -> dict:
        base = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "grade_id": grade_id}
        return {"nbgrader": {**base, **flags}}

    solution = "import numpy as np\n\n\ndef double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    test = (
        "assert double(np.zeros(3)).shape == (3,)\n### BEGIN HIDDEN TESTS\nfrom autograder import run_check\n"
        f'run_check("{TOPIC}.double", globals())\n### END HIDDEN TESTS'
    )
    return new_notebook(
        cells=[
            new_markdown_cell("# Doubling\n\nWrite `double(x)`, which returns $2x$ for an array $x$."),
            new_code_cell(solution, metadata=meta("double", solution=True)),
            new_code_cell(test, metadata=meta("test_double", grade=True, locked=True, points=1)),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch course with 04_doubling added: one package folder, one source folder."""
    root = tmp_path_factory.mktemp("new-assignment")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "autograder", root / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    package = root / "autograder" / "assignments" / TOPIC
    package.mkdir()
    for name, text in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(text).lstrip())
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(_source_notebook(), root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    build = _run(root, "-m", "autograder", "build", ASSIGNMENT)
    assert build.returncode == 0, build.stdout + build.stderr
    for student, body in {"right": "return x * 2.0", "wrong": "return x + 2"}.items():
        nb = nbformat.read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
        answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
        answer.source = answer.source.replace("# YOUR CODE HERE\n    raise NotImplementedError()", body)
        assert body in answer.source
        folder = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(root / "release" / ASSIGNMENT, folder)
        nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")
    return root


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python <args>` in the course folder: its own copy of the package comes first on the path."""
    env = {**os.environ, "SHALLOW_NARROW_DB_URL": f"sqlite:///{root / 'gradebook.db'}"}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _graded(root: Path, student: str) -> tuple[float, str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        score = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).score
    nb = nbformat.read(root / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    return score, " ".join(o.get("text", "") or o.get("evalue", "") for o in test.outputs)


def test_the_new_assignment_is_built_and_released(course: Path) -> None:
    released = (course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert "def double(x)" in released and "run_check" not in released and "2 * x" not in released
    worked = nbformat.read(course / "notebooks" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert "return 2 * x" in worked.cells[1].source and all(c.get("outputs") == [] for c in worked.cells[1:])


@pytest.mark.parametrize("command", ["nbgrader autograde", "autograder grade"])
def test_the_new_assignment_is_graded_and_its_mistake_named(course: Path, command: str) -> None:
    if command == "nbgrader autograde":
        done = _run(course, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force")
    else:
        done = _run(course, "-m", "autograder", "grade", ASSIGNMENT, "--workers", "2", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    right, wrong = _graded(course, "right"), _graded(course, "wrong")
    assert right[0] == 1.0 and "right on all 3 inputs" in right[1]
    assert wrong[0] == 0.0 and "two is added to the input instead of multiplying it by two" in wrong[1]
