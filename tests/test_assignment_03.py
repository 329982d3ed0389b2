"""03_depth_and_init: its checks judge the examples right, a real autograde agrees, the sliders work."""

from __future__ import annotations


import nbformat
import numpy as np
import pytest

from autograder import checks, probe
from autograder.instructor import judge_in_process
from autograder import reference_depth as ref
from autograder.submissions import UNFINISHED, example_students
from conftest import ROOT, Course, example_submission, load_student_module, solution_namespace

ASSIGNMENT = "03_depth_and_init"
NOTEBOOK = "depth_and_init.ipynb"
TOPIC = "depth."
FULL_MARKS = {"test_forward": 2, "test_loss": 1, "test_dloss_dw": 3, "test_zero_weight": 1, "test_training_curve": 2}
CHECK_OF = {
    "test_forward": "depth.forward",
    "test_loss": "depth.loss",
    "test_dloss_dw": "depth.dloss_dw",
    "test_zero_weight": "depth.zero_weight",
    "test_training_curve": "depth.training_curve",
}
EXPECTED_LOSSES = {
    "correct": set(),
    "divides_by_weight": {"test_zero_weight"},
    "full_mse": {"test_loss", "test_dloss_dw", "test_zero_weight", "test_training_curve"},
    "sum_missing_x": {"test_forward", "test_dloss_dw", "test_zero_weight", "test_training_curve"},
    UNFINISHED: set(FULL_MARKS),
}
EXPECTED_MISTAKES = {
    ("divides_by_weight", "test_zero_weight"): "deep_grad_zero_division",
    ("full_mse", "test_loss"): "deep_loss_full_mse",
    ("full_mse", "test_dloss_dw"): "deep_grad_factor_2",
    ("sum_missing_x", "test_forward"): "deep_forward_sum",
    ("sum_missing_x", "test_dloss_dw"): "deep_grad_missing_x",
}


def release_notebook() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def submission(student: str) -> nbformat.NotebookNode:
    return example_submission(ASSIGNMENT, NOTEBOOK, student)


def namespace_of(nb: nbformat.NotebookNode) -> dict:
    """The graded functions of a notebook (0/0 in the divides_by_weight example warns: not a failure)."""
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)
    return solution_namespace(nb)


def load_helpers():
    return load_student_module(ASSIGNMENT, "depth_helpers")


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
    request = checks.make_request("depth.forward", ASSIGNMENT, "x")
    assert checks.CHECKS["depth.forward"].judge(request, None).score == 0
    verdict = checks.CHECKS["depth.forward"].judge(request, probe.collect({}, request))
    assert verdict.score == 0 and "not defined" in verdict.message


@pytest.mark.parametrize("code, variant", [
    ("g = -np.mean(x * r) * p / self.w[0] * np.ones(len(self.w))", "deep_grad_wrong_weight"),
    ("g = np.mean(x * r) * np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])", "deep_grad_sign"),
    ("g = -np.sum(x * r) * np.array([np.prod(np.delete(self.w, k)) for k in range(len(self.w))])", "deep_grad_sum_not_mean"),
    ("g = -np.mean(x * r) * p * np.ones(len(self.w))", "deep_grad_no_division"),
])
def test_typical_gradient_mistakes_are_named(code: str, variant: str) -> None:
    namespace = namespace_of(submission("correct"))
    source = (
        "class DeepNarrowLNN(DeepNarrowLNN):\n"
        "  def dloss_dw(self, x, y_t):\n"
        "    p = np.prod(self.w)\n"
        "    r = y_t - p * x\n"
        f"    {code}\n"
        "    return g\n"
    )
    exec(source, namespace)
    request = checks.make_request("depth.dloss_dw", ASSIGNMENT, "x")
    verdict = checks.CHECKS["depth.dloss_dw"].judge(request, probe.collect(namespace, request))
    assert verdict.mistakes == [variant], verdict.message


def test_the_reference_gradient_matches_finite_differences_and_handles_zeros() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 20)
    y = 2 * x + rng.normal(0, 0.1, 20)
    for depth in (1, 2, 5, 9):
        w = rng.uniform(-1.5, 1.5, depth)
        h = 1e-6
        numeric = [(ref.loss(y, ref.forward(w + h * e, x)) - ref.loss(y, ref.forward(w - h * e, x))) / (2 * h)
                   for e in np.eye(depth)]
        assert np.allclose(ref.gradients(w, x, y), numeric, atol=1e-7)
        w[0] = 0.0
        g = ref.gradients(w, x, y)
        assert np.all(np.isfinite(g)) and np.allclose(g[1:], 0) and np.isclose(g[0], -np.mean(x * y) * np.prod(w[1:]))


# -- the sliders, headless ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helpers_and_data():
    helpers = load_helpers()
    np.random.seed(2021)
    x, y = helpers.gen_samples(100, 2.0, 0.1)
    model_class = namespace_of(nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4))["DeepNarrowLNN"]
    return helpers, model_class, x, y


def test_the_depth_slider_changes_the_number_of_weights(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    widget = helpers.depth_explorer(model_class, x, y)
    curve = widget.figure.axes[0].lines[0]
    assert widget.result["weights"].shape == (600, 1)
    shallow = curve.get_ydata().copy()
    picture = widget.children[-1].value
    widget.children[0].value = 30
    assert widget.result["weights"].shape == (600, 30)
    assert not np.allclose(curve.get_ydata(), shallow)
    assert widget.children[-1].value != picture


def test_the_learning_rate_slider_shows_faster_learning_then_overshooting(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    widget = helpers.lr_explorer(model_class, x, y)
    curve, title = widget.figure.axes[0].lines[0], widget.figure.axes[0].title
    slow = helpers.convergence_epoch(curve.get_ydata(), 600)
    widget.children[0].value = 0.02
    fast = helpers.convergence_epoch(curve.get_ydata(), 600)
    assert fast is not None and (slow is None or fast < slow)
    widget.children[0].value = 0.035
    assert helpers.convergence_epoch(curve.get_ydata(), 600) is None and "not converged" in title.get_text()


def test_the_init_slider_and_the_combined_sliders(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    widget = helpers.init_explorer(model_class, x, y)
    before = widget.result["loss"].copy()
    widget.children[0].value = 1.0
    assert widget.result["weights"].shape == (250, 15) and not np.allclose(widget.result["loss"], before)
    together = helpers.all_explorer(model_class, x, y)
    depth, lr, init = together.children[:3]
    depth.value, lr.value, init.value = 12, 0.02, 1.0
    assert together.result["weights"].shape[1] == 12 and np.isclose(together.result["weights"][0, 0], 1.0, atol=0.05)


def test_the_game_keeps_the_best_try_per_depth_and_the_grid_optimum(helpers_and_data) -> None:
    helpers, model_class, x, y = helpers_and_data
    game = helpers.lr_depth_game(model_class, x, y)
    grid = game.grid
    assert np.all(np.diff(grid["epoch"]) > 0), "deeper networks take longer at their best learning rate"
    assert np.all(np.diff(grid["lr"]) < 0), "and need smaller learning rates"
    depth, lr = game.children[:2]
    depth.value, lr.value = 20, float(grid["lr"][1])
    assert game.best[20][0] == grid["epoch"][1]
    mine = game.figure.axes[1].lines[-1]
    assert 20 in list(mine.get_xdata())


def test_reference_training_stops_when_it_explodes() -> None:
    x = np.linspace(0, 1, 20)
    losses, weights = ref.train(np.full(50, 1.3), x, 2 * x, 0.01, 600)
    assert 0 < len(losses) < 600 and weights.shape == (len(losses), 50)


# -- one real autograde --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import shutil

    course = Course(tmp_path_factory.mktemp("course03"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    for student in ("divides_by_weight", "full_mse"):
        dest = course.root / "submitted" / student / ASSIGNMENT
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(course.root / "release" / ASSIGNMENT, dest)
        nbformat.write(submission(student), dest / NOTEBOOK)
    course.nbgrader("autograde", ASSIGNMENT, "--create", "--force")
    return course


def test_real_autograde_scores_the_examples(graded) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(graded.db_url) as gb:
        for student in ("divides_by_weight", "full_mse"):
            nb = gb.find_submission_notebook("depth_and_init", ASSIGNMENT, student)
            scores = {g.name: g.score for g in nb.grades}
            for test, points in FULL_MARKS.items():
                expected = 0 if test in EXPECTED_LOSSES[student] else points
                assert scores[test] == expected, f"{student}/{test}"
            think = [g for g in nb.grades if g.name == "think_depth"][0]
            assert think.max_score == 2 and think.cell.cell_type == "markdown"
    autograded = nbformat.read(graded.root / "autograded" / "divides_by_weight" / ASSIGNMENT / NOTEBOOK, as_version=4)
    text = " ".join(o.get("text", "") or o.get("evalue", "") for c in autograded.cells for o in c.get("outputs", []))
    assert "0/0" in text
