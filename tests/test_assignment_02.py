"""02_learning_landscape: its checks judge the examples right, a real autograde agrees, the sliders work."""

from __future__ import annotations


import nbformat
import numpy as np
import pytest

from autograder import checks, probe
from autograder.instructor import judge_in_process
from autograder import reference_landscape as ref
from autograder.submissions import UNFINISHED, example_students
from conftest import ROOT, Course, example_submission, load_student_module, solution_namespace

ASSIGNMENT = "02_learning_landscape"
NOTEBOOK = "learning_landscape.ipynb"
TOPIC = "landscape."
FULL_MARKS = {"test_loss_grid": 2, "test_loss_gradient": 2, "test_ends_at_saddle": 2, "test_max_stable_lr": 2}
CHECK_OF = {
    "test_loss_grid": "landscape.loss_grid",
    "test_loss_gradient": "landscape.gradient",
    "test_ends_at_saddle": "landscape.saddle",
    "test_max_stable_lr": "landscape.max_lr",
}
EXPECTED_LOSSES = {
    "correct": set(),
    "correct_loops": set(),
    "half_mse": {"test_loss_grid", "test_loss_gradient", "test_max_stable_lr"},
    "wrong_saddle_line": {"test_ends_at_saddle", "test_max_stable_lr"},
    UNFINISHED: set(FULL_MARKS),
}
EXPECTED_MISTAKES = {
    ("half_mse", "test_loss_grid"): "grid_loss_half",
    ("half_mse", "test_max_stable_lr"): "lr_half_loss_curvature",
    ("wrong_saddle_line", "test_max_stable_lr"): "lr_one_over_lambda",
}


def release_notebook() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def submission(student: str) -> nbformat.NotebookNode:
    return example_submission(ASSIGNMENT, NOTEBOOK, student)


def namespace_of(nb: nbformat.NotebookNode) -> dict:
    return solution_namespace(nb)


def load_helpers():
    return load_student_module(ASSIGNMENT, "landscape_helpers")


# -- every example, judged in-process (fast) ------------------------------------------------------


def test_every_example_has_an_expectation() -> None:
    assert set(example_students(ASSIGNMENT)) == set(EXPECTED_LOSSES)
    assert {n for n in checks.CHECKS if n.startswith(TOPIC)} == set(CHECK_OF.values())


@pytest.mark.parametrize("student", sorted(EXPECTED_LOSSES))
def test_each_example_loses_exactly_the_points_of_its_mistakes(student: str) -> None:
    namespace = namespace_of(submission(student))
    for test, name in CHECK_OF.items():
        verdict = judge_in_process(name, namespace, ASSIGNMENT, student)
        assert verdict.passed == (test not in EXPECTED_LOSSES[student]), f"{student}/{test}: {verdict.message}"
        if (student, test) in EXPECTED_MISTAKES:
            assert EXPECTED_MISTAKES[student, test] in verdict.mistakes, verdict.message
        if not verdict.passed:
            assert "np.mean" not in verdict.message and "eigvalsh(" not in verdict.message  # no formula given away


def test_the_instructor_solution_passes_on_other_seeds() -> None:
    namespace = namespace_of(nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4))
    for student in ("alice", "bob", "carol"):
        for name in CHECK_OF.values():
            verdict = judge_in_process(name, namespace, ASSIGNMENT, student)
            assert verdict.passed, f"{student}/{name}: {verdict.message}"


def test_a_missing_function_and_a_broken_payload_score_zero() -> None:
    request = checks.make_request("landscape.loss_grid", ASSIGNMENT, "x")
    assert checks.CHECKS["landscape.loss_grid"].judge(request, None).score == 0
    verdict = checks.CHECKS["landscape.loss_grid"].judge(request, probe.collect({}, request))
    assert verdict.score == 0 and "not defined" in verdict.message


def test_a_transposed_grid_is_named() -> None:
    namespace = {"loss_grid": lambda w1, w2, x, y: ref.loss_grid(w1, w2, x, y).T}
    request = checks.make_request("landscape.loss_grid", ASSIGNMENT, "x")
    verdict = checks.CHECKS["landscape.loss_grid"].judge(request, probe.collect(namespace, request))
    assert verdict.mistakes == ["grid_transposed"]


# -- the reference math agrees with training runs ---------------------------------------------------


def test_max_stable_lr_is_where_training_stops_converging() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.uniform(0, 1.5, 20)
        y = rng.uniform(-2, 2) * x + rng.normal(0, 0.2, 20)
        w1 = rng.uniform(0.3, 2) * rng.choice([-1, 1])
        w2 = ref.best_slope(x, y) / w1
        lr = ref.max_stable_lr(w1, w2, x, y)
        assert np.isclose(lr, 1 / (np.mean(x * x) * (w1**2 + w2**2)))
        assert ref.converges_near(w1, w2, x, y, 0.97 * lr) and not ref.converges_near(w1, w2, x, y, 1.03 * lr)


def test_the_points_that_end_at_the_saddle_are_the_ones_training_takes_there() -> None:
    x = np.linspace(0, 1, 10)
    for a in (1.0, -2.0):
        for start in [(0.5, -0.5), (1.0, -1.0), (0.55, -0.45), (-1.8, 1.7), (1.3, 1.3), (-0.7, -0.7)]:
            end = ref.train_path(start, x, a * x, 0.05, 1500)[-1]
            assert ref.ends_at_saddle(*start, a) == bool(np.hypot(*end) < 1e-6), (a, start, end)


# -- the sliders, headless ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explorer():
    helpers = load_helpers()
    x, y = helpers.gen_samples(10, 1.0, 0.0)
    return helpers.landscape_explorer(ref.loss_grid, ref.gradient_grid, x, y)


def _lines(fig):
    ax_map, ax_loss = fig.axes[:2]  # the landscape and the loss curve (the colour bar comes last)
    path, start, end = ax_map.lines[-3:]
    return path, start, end, ax_loss.lines[0]


def test_moving_the_initial_weights_moves_the_trajectory(explorer) -> None:
    lr, w1, w2 = explorer.children[:3]
    path, start, end, _ = _lines(explorer.figure)
    picture = explorer.children[-1].value
    w1.value, w2.value = 0.5, -0.5
    assert np.allclose(start.get_xydata(), [[0.5, -0.5]])
    assert np.hypot(*end.get_xydata()[0]) < 0.05, "from (0.5, -0.5) the run ends at the saddle"
    w2.value = -0.45
    assert np.allclose(path.get_xydata()[0], [0.5, -0.45])
    assert abs(np.prod(end.get_xydata()[0]) - 1) < 0.05, "from (0.5, -0.45) the run ends on the hyperbola"
    assert explorer.children[-1].value != picture, "the picture is redrawn"


def test_the_learning_rate_changes_the_loss_curve(explorer) -> None:
    _, _, _, curve = _lines(explorer.figure)
    explorer.children[1].value, explorer.children[2].value = -1.8, 1.7
    explorer.children[0].value = 0.02
    slow = curve.get_ydata().copy()
    explorer.children[0].value = 0.3
    fast = curve.get_ydata().copy()
    assert len(slow) == len(fast) == 61
    assert fast[-1] < slow[-1]
    assert np.allclose(explorer.result["loss"], fast)


# -- one real autograde --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("course02"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    for student in ("correct_loops", "wrong_saddle_line"):
        dest = course.root / "submitted" / student / ASSIGNMENT
        dest.parent.mkdir(parents=True, exist_ok=True)
        import shutil

        shutil.copytree(course.root / "release" / ASSIGNMENT, dest)
        nbformat.write(submission(student), dest / NOTEBOOK)
    course.nbgrader("autograde", ASSIGNMENT, "--create", "--force")
    return course


def test_real_autograde_scores_the_examples(graded) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(graded.db_url) as gb:
        for student in ("correct_loops", "wrong_saddle_line"):
            nb = gb.find_submission_notebook("learning_landscape", ASSIGNMENT, student)
            scores = {g.name: g.score for g in nb.grades}
            for test, points in FULL_MARKS.items():
                expected = 0 if test in EXPECTED_LOSSES[student] else points
                assert scores[test] == expected, f"{student}/{test}"
            think = [g for g in nb.grades if g.name == "think_landscape"][0]
            assert think.max_score == 2 and think.cell.cell_type == "markdown"
    autograded = nbformat.read(graded.root / "autograded" / "wrong_saddle_line" / ASSIGNMENT / NOTEBOOK, as_version=4)
    text = " ".join(o.get("text", "") or o.get("evalue", "") for c in autograded.cells for o in c.get("outputs", []))
    assert "1/λ instead of 2/λ" in text
