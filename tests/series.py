"""The assignments of the series as data: what their checks must find in each example.

`tests/test_series.py` runs the same tests over each of them (and fails when an assignment
of the registry has no entry here); the tests that only one assignment needs (its sliders,
its reference math) stay in `tests/test_assignment_0N.py`, `tests/test_grading.py` (01).
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

from autograder.course.submissions import UNFINISHED
from conftest import FULL_MARKS, ROOT, example_submission, solution_namespace


@dataclass(frozen=True)
class Assignment:
    """One assignment of the series and what grading its examples must give."""

    name: str
    notebook: str
    helpers: str
    think: str  # the grade id of its written answer
    full_marks: dict[str, int]  # points per autograded test cell
    check_of: dict[str, str]  # the check each test cell names
    expected_losses: dict[str, set[str]]  # example student -> the tests they fail
    expected_mistakes: dict[tuple[str, str], str]  # (student, test) -> the mistake it must name
    autograded: tuple[str, str]  # two examples one real `nbgrader autograde` grades...
    feedback_says: str  # ...and what the first one's feedback must say

    @property
    def topic(self) -> str:
        """The prefix of its checks' names."""
        return next(iter(self.check_of.values())).split(".")[0] + "."

    def submission(self, student: str) -> nbformat.NotebookNode:
        return example_submission(self.name, self.notebook, student)

    def source_notebook(self) -> nbformat.NotebookNode:
        return nbformat.read(ROOT / "source" / self.name / self.notebook, as_version=4)

    @staticmethod
    def namespace(nb: nbformat.NotebookNode) -> dict:
        return solution_namespace(nb)


SHALLOW_NARROW = Assignment(
    name="01_shallow_narrow",
    notebook="shallow_narrow.ipynb",
    helpers="shallow_narrow_helpers",
    think="think_learning_rate",
    full_marks=FULL_MARKS,
    check_of={
        "test_forward": "shallow_narrow.forward",
        "test_dloss_dw": "shallow_narrow.dloss_dw",
        "test_training_curve": "shallow_narrow.training_curve",
        "test_seed_run": "shallow_narrow.seed_run",
    },
    expected_losses={
        "correct": set(),
        "sign_flipped": {"test_dloss_dw", "test_training_curve", "test_seed_run"},
        "missing_factor_2": {"test_dloss_dw", "test_training_curve", "test_seed_run"},
        "sum_not_mean": {"test_dloss_dw", "test_training_curve", "test_seed_run"},
        "forward_adds_weights": {"test_forward", "test_training_curve", "test_seed_run"},
        UNFINISHED: set(FULL_MARKS),
    },
    expected_mistakes={
        ("sign_flipped", "test_dloss_dw"): "grad_sign_flipped",
        ("missing_factor_2", "test_dloss_dw"): "grad_missing_factor_2",
        ("sum_not_mean", "test_dloss_dw"): "grad_sum_not_mean",
        ("forward_adds_weights", "test_forward"): "forward_adds_weights",
    },
    autograded=("sign_flipped", "correct"),
    feedback_says="wrong sign",
)

LANDSCAPE = Assignment(
    name="02_learning_landscape",
    notebook="learning_landscape.ipynb",
    helpers="landscape_helpers",
    think="think_landscape",
    full_marks={"test_loss_grid": 2, "test_loss_gradient": 2, "test_ends_at_saddle": 2, "test_max_stable_lr": 2},
    check_of={
        "test_loss_grid": "landscape.loss_grid",
        "test_loss_gradient": "landscape.gradient",
        "test_ends_at_saddle": "landscape.saddle",
        "test_max_stable_lr": "landscape.max_lr",
    },
    expected_losses={
        "correct": set(),
        "correct_loops": set(),
        "half_mse": {"test_loss_grid", "test_loss_gradient", "test_max_stable_lr"},
        "wrong_saddle_line": {"test_ends_at_saddle", "test_max_stable_lr"},
        UNFINISHED: {"test_loss_grid", "test_loss_gradient", "test_ends_at_saddle", "test_max_stable_lr"},
    },
    expected_mistakes={
        ("half_mse", "test_loss_grid"): "grid_loss_half",
        ("half_mse", "test_max_stable_lr"): "lr_half_loss_curvature",
        ("wrong_saddle_line", "test_max_stable_lr"): "lr_one_over_lambda",
    },
    autograded=("wrong_saddle_line", "correct_loops"),
    feedback_says="1/λ instead of 2/λ",
)

DEPTH = Assignment(
    name="03_depth_and_init",
    notebook="depth_and_init.ipynb",
    helpers="depth_helpers",
    think="think_depth",
    full_marks={"test_forward": 2, "test_loss": 1, "test_dloss_dw": 3, "test_zero_weight": 1, "test_training_curve": 2},
    check_of={
        "test_forward": "depth.forward",
        "test_loss": "depth.loss",
        "test_dloss_dw": "depth.dloss_dw",
        "test_zero_weight": "depth.zero_weight",
        "test_training_curve": "depth.training_curve",
    },
    expected_losses={
        "correct": set(),
        "divides_by_weight": {"test_zero_weight"},
        "full_mse": {"test_loss", "test_dloss_dw", "test_zero_weight", "test_training_curve"},
        "sum_missing_x": {"test_forward", "test_dloss_dw", "test_zero_weight", "test_training_curve"},
        UNFINISHED: {"test_forward", "test_loss", "test_dloss_dw", "test_zero_weight", "test_training_curve"},
    },
    expected_mistakes={
        ("divides_by_weight", "test_zero_weight"): "deep_grad_zero_division",
        ("full_mse", "test_loss"): "deep_loss_full_mse",
        ("full_mse", "test_dloss_dw"): "deep_grad_factor_2",
        ("sum_missing_x", "test_forward"): "deep_forward_sum",
        ("sum_missing_x", "test_dloss_dw"): "deep_grad_missing_x",
    },
    autograded=("divides_by_weight", "full_mse"),
    feedback_says="0/0",
)

SERIES = [SHALLOW_NARROW, LANDSCAPE, DEPTH]
