"""Assignments 02 and 03: their checks judge every example right, and a real autograde agrees."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder.core import checks, probe
from autograder.core.in_process import judge_without_the_notebook
from autograder.course.submissions import example_students
from conftest import Course
from series import SERIES, Assignment

EXAMPLES = [(a, student) for a in SERIES for student in sorted(a.expected_losses)]

# The examples divide by zero on purpose (03's divides_by_weight): numpy warns, that is all.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _id(value: object) -> str:
    return value.name if isinstance(value, Assignment) else str(value)


def test_every_assignment_of_the_registry_is_in_the_series() -> None:
    assert sorted(a.name for a in SERIES) == sorted(a.name for a in checks.registry().values())


@pytest.mark.parametrize("assignment", SERIES, ids=_id)
def test_every_example_has_an_expectation(assignment: Assignment) -> None:
    assert set(example_students(assignment.name)) == set(assignment.expected_losses)
    assert {n for n in checks.CHECKS if n.startswith(assignment.topic)} == set(assignment.check_of.values())


@pytest.mark.parametrize("assignment, student", EXAMPLES, ids=_id)
def test_each_example_loses_exactly_the_points_of_its_mistakes(assignment: Assignment, student: str) -> None:
    namespace = assignment.namespace(assignment.submission(student))
    for test, name in assignment.check_of.items():
        verdict = judge_without_the_notebook(name, namespace, assignment.name, student)
        lost = test in assignment.expected_losses[student]
        assert verdict.passed != lost, f"{student}/{test}: {verdict.message}"
        if (student, test) in assignment.expected_mistakes:
            assert assignment.expected_mistakes[student, test] in verdict.mistakes, verdict.message
        if not verdict.passed:
            assert "np.mean" not in verdict.message and "eigvalsh(" not in verdict.message  # no formula given away


@pytest.mark.parametrize("assignment", SERIES, ids=_id)
def test_the_instructor_solution_passes_on_other_seeds(assignment: Assignment) -> None:
    namespace = assignment.namespace(assignment.source_notebook())
    for student in ("alice", "bob", "carol"):
        for name in assignment.check_of.values():
            verdict = judge_without_the_notebook(name, namespace, assignment.name, student)
            assert verdict.passed, f"{student}/{name}: {verdict.message}"


@pytest.mark.parametrize("assignment", SERIES, ids=_id)
def test_a_missing_function_and_a_broken_payload_score_zero(assignment: Assignment) -> None:
    name = next(iter(assignment.check_of.values()))
    request = checks.make_request(name, assignment.name, "x")
    assert checks.CHECKS[name].judge(request, None).score == 0
    verdict = checks.CHECKS[name].judge(request, probe.collect({}, request))
    assert verdict.score == 0 and "not defined" in verdict.message


@pytest.fixture(scope="module", params=SERIES, ids=_id)
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Assignment, Course]:
    """Two examples of an assignment, through a real `nbgrader autograde`."""
    assignment: Assignment = request.param
    course = Course(tmp_path_factory.mktemp(assignment.name))
    course.nbgrader("generate_assignment", assignment.name, "--force")
    for student in assignment.autograded:
        dest = course.root / "submitted" / student / assignment.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(course.root / "release" / assignment.name, dest)
        nbformat.write(assignment.submission(student), dest / assignment.notebook)
    course.nbgrader("autograde", assignment.name, "--create", "--force")
    return assignment, course


def test_real_autograde_scores_the_examples(graded: tuple[Assignment, Course]) -> None:
    from nbgrader.api import Gradebook

    assignment, course = graded
    notebook = assignment.notebook.removesuffix(".ipynb")
    with Gradebook(course.db_url) as gb:
        for student in assignment.autograded:
            nb = gb.find_submission_notebook(notebook, assignment.name, student)
            scores = {g.name: g.score for g in nb.grades}
            for test, points in assignment.full_marks.items():
                expected = 0 if test in assignment.expected_losses[student] else points
                assert scores[test] == expected, f"{student}/{test}"
            think = next(g for g in nb.grades if g.name == assignment.think)
            assert think.max_score == 2 and think.cell.cell_type == "markdown"
    first = assignment.autograded[0]
    path = course.root / "autograded" / first / assignment.name / assignment.notebook
    autograded = nbformat.read(path, as_version=4)
    text = " ".join(o.get("text", "") or o.get("evalue", "") for c in autograded.cells for o in c.get("outputs", []))
    assert assignment.feedback_says in text
