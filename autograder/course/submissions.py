"""Make student submissions: a released notebook with an answer filled in.

An answer file (``autograder/assignments/<topic>/examples/<student>.py``: each
assignment keeps its example students in its own folder) defines the methods the
student writes, as top-level functions (``def forward(self, x): ...``).  Their
bodies replace the ``raise NotImplementedError()`` stubs of the released
notebook, in the order the stubs appear.  An optional ``WRITTEN_ANSWERS`` list
of strings fills the written-answer cells ("YOUR ANSWER HERE"), in order.  The demo and the tests build their
submissions this way, so they always match the current release.
"""

from __future__ import annotations

import ast
import shutil
import textwrap
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ..integrity.normalise import parse  # ast.parse that CPython 3.11's collector cannot break
from .build import RELEASE, ROOT

STUB = "# YOUR CODE HERE\n"
STUB_RAISE = "raise NotImplementedError()"
UNFINISHED = "unfinished"
"""The example student who hands in the release as it is."""


def method_bodies(answer: str) -> dict[str, str]:
    """The body source of each top-level function in an answer file, by name."""
    tree = parse(answer)
    lines = answer.splitlines()
    bodies = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            first = node.body[0]
            start = first.lineno - 1
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(node.body) > 1:
                start = node.body[1].lineno - 1  # skip a docstring
            bodies[node.name] = textwrap.dedent("\n".join(lines[start : node.end_lineno]))
    return bodies


def written_answers(answer: str) -> list[str]:
    """The ``WRITTEN_ANSWERS`` of an answer file (empty when it has none)."""
    for node in parse(answer).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "WRITTEN_ANSWERS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def submission_from_answer(release: NotebookNode, answer: str) -> NotebookNode:
    """The released notebook as the author of answer file `answer` would hand it in."""
    nb = fill_stubs(release, list(method_bodies(answer).values()))
    remaining = written_answers(answer)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if remaining and cell.cell_type == "markdown" and meta.get("solution") and "YOUR ANSWER HERE" in cell.source:
            cell.source = remaining.pop(0)
    return nb


def fill_stubs(release: NotebookNode, bodies: list[str]) -> NotebookNode:
    """A copy of `release` whose solution stubs are replaced by `bodies`, in order."""
    nb = nbformat.from_dict(release)
    remaining = list(bodies)
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        lines = cell.source.split("\n")
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if line.strip() == STUB.strip() and nxt.strip() == STUB_RAISE and remaining:
                indent = line[: len(line) - len(line.lstrip())]
                out.extend(indent + body_line if body_line else "" for body_line in remaining.pop(0).splitlines())
                i += 2
                continue
            out.append(line)
            i += 1
        cell.source = "\n".join(out)
    return nb


def examples_folder(assignment: str) -> Path:
    """The folder of an assignment's example answers (``examples/`` in its package)."""
    import importlib

    from ..core.checks import ASSIGNMENTS_PACKAGE, registry

    topic = next((t for t, a in registry().items() if a.name == assignment), None)
    if topic is None:
        raise ValueError(f"no assignment {assignment!r} in the registry")
    package = importlib.import_module(f"{ASSIGNMENTS_PACKAGE}.{topic}")
    return Path(package.__file__).parent / "examples"  # type: ignore[arg-type]


def example_answer(assignment: str, student: str) -> str:
    """The answer file of one example student of an assignment."""
    return (examples_folder(assignment) / f"{student}.py").read_text()


def example_students(assignment: str) -> list[str]:
    """The example students of an assignment: one per answer file, plus the unfinished one."""
    return sorted(p.stem for p in examples_folder(assignment).glob("*.py")) + [UNFINISHED]


def submit_examples(assignment: str, submitted: Path = ROOT / "submitted") -> list[str]:
    """Write every example student's submission into ``submitted/<student>/<assignment>/``.

    Returns
    -------
    list of str
        The student ids written.
    """
    release_dir = RELEASE / assignment
    students = example_students(assignment)
    for student in students:
        dest = submitted / student / assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(release_dir, dest)
        if student == UNFINISHED:
            continue
        answer = example_answer(assignment, student)
        for path in dest.glob("*.ipynb"):
            nbformat.write(submission_from_answer(nbformat.read(path, as_version=4), answer), path)
    return students
