"""Each assignment's released notebook as a student runs it: the scenario tables and the shared helpers.

An assignment's :class:`Release` says which answers to fill in (the stubs, a right answer, typical
mistakes), which visible checks must fail for each and what their messages must say; for an
assignment whose student writes a class, its :class:`StudentClass` says how the gradient check and
the slider explorers must react to that class. ``tests/test_student_checks.py`` runs the same tests
on every assignment of :data:`RELEASES`; tests of one assignment's own helpers and messages are in
``tests/test_student_checks_0N.py``.

The released notebooks are run once per test session (each assignment's scenarios at the same
time, each in its own kernel): :func:`executed_release` hands out copies.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import shutil
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.course.submissions import fill_stubs
from autograder.models import shallow as shallow_reference
from conftest import ROOT, load_student_module

VALIDATE_WIDTH = 87  # nbgrader's Validate cuts every line of a message here
FIRST_LINE_WIDTH = 80  # what is wrong, on a first line that fits with room to spare
UNFINISHED = "raise NotImplementedError()"


# -- what a test compares a gradient message with ---------------------------------------------------

Rows = Callable[[str], tuple[np.ndarray, np.ndarray]]
"""A gradient message -> (yours, the finite difference), as its lines show them (asserting their layout)."""
Relation = Callable[[np.ndarray, np.ndarray], bool]
"""(yours, finite difference) -> whether the mistake shows as it should."""


def negated(yours: np.ndarray, numeric: np.ndarray) -> bool:
    return bool(np.allclose(yours, -numeric, rtol=1e-3))


def times(factor: float) -> Relation:
    def scaled(yours: np.ndarray, numeric: np.ndarray) -> bool:
        return bool(np.allclose(yours, factor * numeric, rtol=1e-3))

    return scaled


def swapped(yours: np.ndarray, numeric: np.ndarray) -> bool:
    return bool(np.allclose(yours, numeric[::-1], rtol=1e-3))


# -- the tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientMistake:
    """A class whose gradient check must fail, and how."""

    bodies: tuple[str, ...]
    first_line: str  # the message's first line starts so
    shown: Relation | None = None  # how your gradient compares with the finite difference the message shows


@dataclass(frozen=True)
class ExplorerStep:
    """The class cell run (again) with `bodies` (None: the stubs), then a slider moved: what the explorer shows."""

    bodies: tuple[str, ...] | None
    slider: tuple[int, float | str] | None  # (child index, value, or "min"/"max" of that slider); None: just built
    says: str | None  # the message's first line starts so; None: the picture


@dataclass(frozen=True)
class ExplorerFailure:
    """A class the explorer must name on its first line instead of drawing."""

    bodies: tuple[str, ...]
    first_line: str
    also: tuple[str, ...] = ()  # further text of the message


@dataclass(frozen=True)
class KernelDemo:
    """An explorer built on the stubs in a real kernel, then the right class cell run and a slider moved."""

    setup: str  # the first cell: imports and data x, y
    explorer: str
    move: str  # a statement moving one of `widget`'s sliders


@dataclass(frozen=True)
class StudentClass:
    """An assignment whose student writes one class: its gradient check and its explorers."""

    name: str
    right: tuple[str, ...]  # the method bodies of a right answer
    needs: Mapping[str, Any]  # what the class cell uses besides np (functions of earlier cells)
    gradient_check: str  # the grade id of the cell calling check_gradient_numerically
    gradient_rows: Rows
    gradient_shown: Mapping[str, Relation]  # scenarios whose gradient check shows a wrong gradient, and how
    gradient_passes: tuple[tuple[str, ...], ...]  # right gradients: the check passes, whatever the other methods
    gradient_mistakes: Mapping[str, GradientMistake]
    explorer_data: Callable[[types.ModuleType], tuple[np.ndarray, np.ndarray]]  # helpers -> (x, y)
    recovery: tuple[ExplorerStep, ...]  # every explorer goes through these
    explorer_failures: Mapping[str, ExplorerFailure]  # shown by the first explorer
    kernel_demo: KernelDemo
    after_recovery: Callable[[Any, np.ndarray, np.ndarray], None] | None = None  # (widget, x, y): the picture's run


@dataclass(frozen=True)
class Release:
    """One assignment's released notebook, filled in and run as a student would."""

    name: str  # the nbgrader assignment id
    notebook: str
    helpers: str  # the helper module shipped beside the notebook
    timeout: int  # seconds per cell
    scenarios: Mapping[str, tuple[str, ...] | None]  # the stub bodies, in order (None: the release as it is)
    checks: tuple[str, ...]  # the grade ids of the visible checks
    failing: Mapping[str, frozenset[str]]  # by scenario: exactly the checks that fail
    unfinished: Mapping[str, frozenset[str]]  # by scenario: failing checks that raise the student's NotImplementedError
    first_lines: Mapping[tuple[str, str], str]  # (scenario, check): the failed check's first line starts so
    gives_away: tuple[str, ...]  # never in a message: the answer, or how to write it
    explorers: tuple[str, ...]  # the explorer functions the notebook calls, one cell each
    explorer_notes: Mapping[str, tuple[str, ...]]  # by scenario: each explorer shows a note with all these texts
    model: StudentClass | None = None  # for an assignment whose student writes a class
    # By scenario: the text of a cell where given code stops on the student's mistake with Python's
    # own error (its line may be longer than Validate shows); the checks around it say what is wrong.
    raw_errors: Mapping[str, str] = field(default_factory=dict)

    def released(self) -> nbformat.NotebookNode:
        """The notebook as it is released."""
        return nbformat.read(ROOT / "release" / self.name / self.notebook, as_version=4)

    def submission(self, scenario: str) -> nbformat.NotebookNode:
        return self.filled(self.scenarios[scenario])

    def filled(self, bodies: tuple[str, ...] | None) -> nbformat.NotebookNode:
        """The release with these stub bodies (None: as it is)."""
        return self.released() if bodies is None else fill_stubs(self.released(), list(bodies))


# -- 01_shallow_narrow: class ShallowNarrowExercise, forward and dloss_dw ----------------------------

SHALLOW_FORWARD = "y = x * self.w1 * self.w2"
SHALLOW_RESIDUAL = "(y_true - self.w1 * self.w2 * x)"


def shallow_gradient(w1_factor: str = "self.w2", w2_factor: str = "self.w1", sign: str = "-",
                     reduce: str = ".mean()") -> str:
    """A body for dloss_dw, right by default; each argument can carry one typical mistake."""
    return (
        f"dloss_dw1 = {sign} (2 * {w1_factor} * x * {SHALLOW_RESIDUAL}){reduce}\n"
        f"dloss_dw2 = {sign} (2 * {w2_factor} * x * {SHALLOW_RESIDUAL}){reduce}"
    )


SHALLOW_RIGHT = (SHALLOW_FORWARD, shallow_gradient())
SHALLOW_CHECKS = ("test_forward", "test_dloss_dw", "test_training_curve", "test_seed_run")
SHALLOW_RUN_CHECKS = frozenset({"test_training_curve", "test_seed_run"})
SHALLOW_MISTAKES = ("sign", "sum", "swap", "no_mean")  # typical mistakes, all in dloss_dw
SHALLOW_DIVERGING = ("sign", "sum", "swap")  # these diverge at the seed's learning rate
NO_RUN = "there is no training run: the training cell above failed"
DIVERGED = "training diverged: "


def shallow_rows(message: str) -> tuple[np.ndarray, np.ndarray]:
    lines = message.splitlines()
    assert lines[1].split() == ["at", "w1", "=", "0.7,", "w2", "=", "1.9", "dloss_dw1", "dloss_dw2"], message
    assert lines[2].startswith("  yours:") and lines[3].startswith("  finite difference:"), message
    return np.array([float(v) for v in lines[2].split()[1:]]), np.array([float(v) for v in lines[3].split()[2:]])


def shallow_loss(y_prediction: np.ndarray, y_true: np.ndarray) -> float:
    """The notebook's `loss` cell, which the class uses."""
    return ((y_true - y_prediction) ** 2).mean()


def shallow_trains_like_the_reference(widget: Any, x: np.ndarray, y: np.ndarray) -> None:
    lr = widget.children[0].value
    expected_loss, _ = shallow_reference.train((1.4, -1.6), x, y, lr, 211)
    assert np.allclose(widget.result["loss"], expected_loss)


def _shallow_scenario(mistake: str) -> tuple[str, ...]:
    return SHALLOW_FORWARD, {
        "sign": shallow_gradient(sign=""),
        "sum": shallow_gradient(reduce=".sum()"),
        "swap": shallow_gradient(w1_factor="self.w1", w2_factor="self.w2"),
        "no_mean": shallow_gradient(reduce=""),
    }[mistake]


SHALLOW_GRADIENT_MISTAKES = {
    "sign": GradientMistake(_shallow_scenario("sign"), "dloss_dw has the wrong sign:", negated),
    "sum": GradientMistake(_shallow_scenario("sum"), "dloss_dw is 20 times too large (there are 20 samples):",
                           times(20)),
    "swap": GradientMistake(_shallow_scenario("swap"), "dloss_dw1 and dloss_dw2 seem swapped:", swapped),
    "no_mean": GradientMistake(_shallow_scenario("no_mean"), "dloss_dw1 is an array of shape (20,), not one number"),
    **{
        name: GradientMistake((SHALLOW_FORWARD, body), first_line)
        for name, body, first_line in [
            ("factor_2", shallow_gradient().replace("(2 * ", "("), "dloss_dw is 2 times too small:"),
            ("one_sign", shallow_gradient().replace("dloss_dw2 = -", "dloss_dw2 = "), "dloss_dw2 has the wrong sign:"),
            ("one_wrong", shallow_gradient().replace("dloss_dw2 = - (2 * self.w1", "dloss_dw2 = - (2 * self.w2"),
             "dloss_dw2 is wrong:"),
            ("one_value", shallow_gradient() + "\nreturn dloss_dw1",
             "dloss_dw should return two numbers: (dloss_dw1, dloss_dw2)"),
            ("three_values", shallow_gradient() + "\nreturn dloss_dw1, dloss_dw2, 0.0",
             "dloss_dw should return two numbers"),
            ("none", shallow_gradient() + "\nreturn None, dloss_dw2", "dloss_dw1 is not a number: it is None"),
            ("side_effect", shallow_gradient() + "\nself.w1 = self.w1 - dloss_dw1", "dloss_dw changed the weights"),
            ("inf", "dloss_dw1 = dloss_dw2 = np.inf", "dloss_dw returned inf or nan:"),
            ("zero", "dloss_dw1 = dloss_dw2 = 0.0", "dloss_dw returned 0 for both weights:"),
        ]
    },
}

SHALLOW = Release(
    name="01_shallow_narrow",
    notebook="shallow_narrow.ipynb",
    helpers="shallow_narrow_helpers",
    timeout=120,
    scenarios={
        "stub": None,
        "correct": SHALLOW_RIGHT,
        **{mistake: _shallow_scenario(mistake) for mistake in SHALLOW_MISTAKES},
    },
    checks=SHALLOW_CHECKS,
    failing={
        "stub": frozenset(SHALLOW_CHECKS),
        "correct": frozenset(),
        **{mistake: frozenset({"test_dloss_dw"}) | SHALLOW_RUN_CHECKS for mistake in SHALLOW_MISTAKES},
    },
    # an unfinished method raises its own NotImplementedError; everything else is a message
    unfinished={"stub": frozenset({"test_forward", "test_dloss_dw"})},
    first_lines={
        ("stub", "test_training_curve"): NO_RUN,
        ("stub", "test_seed_run"): NO_RUN,
        **{(m, "test_dloss_dw"): SHALLOW_GRADIENT_MISTAKES[m].first_line for m in SHALLOW_MISTAKES},
        ("no_mean", "test_training_curve"): NO_RUN,
        ("no_mean", "test_seed_run"): NO_RUN,
        **{(m, "test_training_curve"): DIVERGED + "the loss became inf at epoch" for m in SHALLOW_DIVERGING},
        **{(m, "test_seed_run"): DIVERGED + "the final weights are" for m in SHALLOW_DIVERGING},
    },
    gives_away=("self.w", "y_true -", ".mean()", "2 * w", "w2 * x", "w1 * x"),
    explorers=("training_explorer",),
    explorer_notes={
        "stub": ("ShallowNarrowExercise.forward is not written yet (NotImplementedError).",),
        "no_mean": ("dloss_dw1 is an array of shape (73,), not one number",),
    },
    raw_errors={"no_mean": ".train("},  # numpy's ValueError; the checks before and after say what is wrong
    model=StudentClass(
        name="ShallowNarrowExercise",
        right=SHALLOW_RIGHT,
        needs={"loss": shallow_loss},
        gradient_check="test_dloss_dw",
        gradient_rows=shallow_rows,
        gradient_shown={"sign": negated, "sum": times(20), "swap": swapped},
        gradient_passes=(
            SHALLOW_RIGHT,
            (UNFINISHED, shallow_gradient()),
            ("y = x * (self.w1 + self.w2)", shallow_gradient()),
        ),
        gradient_mistakes=SHALLOW_GRADIENT_MISTAKES,
        explorer_data=lambda helpers: shallow_reference.gen_samples(73, 2.0, 0.2),
        recovery=(
            ExplorerStep(None, None, "ShallowNarrowExercise.forward is not written yet (NotImplementedError)."),
            # forward done, dloss_dw not yet
            ExplorerStep((SHALLOW_FORWARD, UNFINISHED), (0, 0.1),
                         "ShallowNarrowExercise.dloss_dw is not written yet (NotImplementedError)."),
            ExplorerStep(_shallow_scenario("no_mean"), (1, 1.0),  # forgot the mean
                         "dloss_dw1 is an array of shape (73,), not one number"),
            ExplorerStep(SHALLOW_RIGHT, (1, 1.4), None),  # fixed, the cell run again: a slider move is enough
        ),
        after_recovery=shallow_trains_like_the_reference,
        explorer_failures={
            "forward_shape": ExplorerFailure(("y = (x * self.w1 * self.w2).mean()", shallow_gradient()),
                                             "ShallowNarrowExercise.forward returned shape () for 37 inputs,"),
            "raises": ExplorerFailure((SHALLOW_FORWARD, "dloss_dw1 = dloss_dw2 = 1 / 0"),
                                      "ShallowNarrowExercise.dloss_dw raised ZeroDivisionError: division by zero"),
        },
        kernel_demo=KernelDemo(
            setup="import numpy as np\nfrom shallow_narrow_helpers import *\nnp.random.seed(2021)\n"
                  "x, y = gen_samples(73, 2.0, 0.2)\n"
                  "loss = lambda y_prediction, y_true: ((y_true - y_prediction)**2).mean()",
            explorer="training_explorer",
            move="widget.children[0].value = 0.1",
        ),
    ),
)


# -- 02_learning_landscape: four functions --------------------------------------------------------

LANDSCAPE_RIGHT = {
    "loss_grid": "L = ((y - (W1 * W2)[..., None] * x) ** 2).mean(axis=-1)",
    "loss_gradient": "xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)\n"
                     "dL_dW1 = -2 * W2 * xr\ndL_dW2 = -2 * W1 * xr",
    "ends_at_saddle": "saddle = bool(w1 == -np.sign(a) * w2)",
    "max_stable_lr": "s, c, p = (x * x).mean(), (x * y).mean(), w1 * w2\n"
                     "off = 2 * (2 * p * s - c)\n"
                     "lr_max = 2 / np.linalg.eigvalsh(np.array([[2 * s * w2**2, off], [off, 2 * s * w1**2]]))[-1]",
}
LANDSCAPE_WRONG = {
    "loss_grid": "L = ((y - (W1 * W2)[..., None] * x) ** 2).sum(axis=-1)",  # a sum, not a mean
    "loss_gradient": "xr = (x * (y - (W1 * W2)[..., None] * x)).mean(axis=-1)\n"
                     "dL_dW1 = 2 * W2 * xr\ndL_dW2 = 2 * W1 * xr",  # the sign
    "ends_at_saddle": "saddle = bool(w1 == -w2)",  # whatever the slope's sign
    "max_stable_lr": "s = (x * x).mean()\nlr_max = 1 / (2 * s * (w1**2 + w2**2))",  # 1/lambda, not 2/lambda
}
LANDSCAPE_FUNCTIONS = tuple(LANDSCAPE_RIGHT)  # in the notebook's order
LANDSCAPE_TEST_OF = {name: f"test_{name}" for name in LANDSCAPE_FUNCTIONS}
# What the first line of each check's message must say about each mistake above.
LANDSCAPE_SAYS = {"loss_grid": "loss_grid is 2 times", "loss_gradient": "dL_dW1 has the wrong sign",
                  "ends_at_saddle": "ends_at_saddle is wrong", "max_stable_lr": "max_stable_lr is too small"}
# Never in the helper module shipped to students, nor in a message: a closed form of an answer.
LANDSCAPE_ANSWERS = ("eigvalsh", "hessian", "np.sign(a", "-2 * w", "(w1**2 + w2**2)", "x * (y -")

_LANDSCAPE_SCENARIOS = {
    "stubs": {name: UNFINISHED for name in LANDSCAPE_FUNCTIONS},
    "right": LANDSCAPE_RIGHT,
    "gradient_sign_only": {**LANDSCAPE_RIGHT, "loss_gradient": LANDSCAPE_WRONG["loss_gradient"]},
    "loss_sum_only": {**LANDSCAPE_RIGHT, "loss_grid": LANDSCAPE_WRONG["loss_grid"]},
    "saddle_and_lr": {**LANDSCAPE_RIGHT, "ends_at_saddle": LANDSCAPE_WRONG["ends_at_saddle"],
                      "max_stable_lr": LANDSCAPE_WRONG["max_stable_lr"]},
}


def _landscape_wrong(bodies: dict[str, str], which: dict[str, str]) -> frozenset[str]:
    """The checks of the functions whose body is `which`'s."""
    return frozenset(LANDSCAPE_TEST_OF[name] for name in LANDSCAPE_FUNCTIONS if bodies[name] == which[name])


LANDSCAPE = Release(
    name="02_learning_landscape",
    notebook="learning_landscape.ipynb",
    helpers="landscape_helpers",
    timeout=300,
    scenarios={s: tuple(bodies[name] for name in LANDSCAPE_FUNCTIONS) for s, bodies in _LANDSCAPE_SCENARIOS.items()},
    checks=tuple(LANDSCAPE_TEST_OF.values()),
    # each check fails for its own function and for no other: the grader judges each function on its own
    failing={s: frozenset(LANDSCAPE_TEST_OF.values()) - _landscape_wrong(bodies, LANDSCAPE_RIGHT)
             for s, bodies in _LANDSCAPE_SCENARIOS.items()},
    unfinished={s: _landscape_wrong(bodies, _LANDSCAPE_SCENARIOS["stubs"])
                for s, bodies in _LANDSCAPE_SCENARIOS.items()},
    first_lines={(s, LANDSCAPE_TEST_OF[name]): LANDSCAPE_SAYS[name]
                 for s, bodies in _LANDSCAPE_SCENARIOS.items() for name in LANDSCAPE_FUNCTIONS
                 if bodies[name] == LANDSCAPE_WRONG[name]},
    gives_away=LANDSCAPE_ANSWERS,
    explorers=("landscape_explorer",),
    explorer_notes={"stubs": ("loss_grid is not written yet", "Coding exercise 1")},
)


# -- 03_depth_and_init: class DeepNarrowLNN, forward, loss and dloss_dw -----------------------------

DEPTH_FORWARD = "y = np.prod(self.w) * x"
DEPTH_LOSS = "mse = np.mean((y_t - y_p) ** 2) / 2"
DEPTH_OTHERS = "others = np.array([np.prod(np.delete(self.w, k)) for k in range(self.w.size)])"
DEPTH_GRADIENT = f"{DEPTH_OTHERS}\ndloss_dw = -np.mean(x * (y_t - np.prod(self.w) * x)) * others"
DEPTH_RIGHT = (DEPTH_FORWARD, DEPTH_LOSS, DEPTH_GRADIENT)
DEPTH_CHECKS = ("test_forward", "test_loss", "test_dloss_dw", "test_zero_weight", "test_training_curve")
DEPTH_WRONG_SIGN = f"{DEPTH_OTHERS}\ndloss_dw = np.mean(x * (y_t - np.prod(self.w) * x)) * others"


def depth_rows(message: str) -> tuple[np.ndarray, np.ndarray]:
    lines = message.splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["weights", "yours", "finite difference"], message
    yours, numeric = (float(line.split("[")[1].rstrip("]")) for line in lines[2:4])
    return np.array([yours]), np.array([numeric])


def depth_data(helpers: types.ModuleType) -> tuple[np.ndarray, np.ndarray]:
    np.random.seed(2021)
    return helpers.gen_samples(100, 2.0, 0.1)


DEPTH = Release(
    name="03_depth_and_init",
    notebook="depth_and_init.ipynb",
    helpers="depth_helpers",
    timeout=300,
    scenarios={
        "stub": None,
        "correct": DEPTH_RIGHT,
        # typical mistakes, each in one function only
        "full_mse": (DEPTH_FORWARD, "mse = np.mean((y_t - y_p) ** 2)", DEPTH_GRADIENT),
        "divides_by_weight": (DEPTH_FORWARD, DEPTH_LOSS,
                              "dloss_dw = -np.mean(x * (y_t - np.prod(self.w) * x)) * np.prod(self.w) / self.w"),
        "gradient_sign": (DEPTH_FORWARD, DEPTH_LOSS, DEPTH_WRONG_SIGN),
    },
    checks=DEPTH_CHECKS,
    failing={
        "stub": frozenset(DEPTH_CHECKS),
        "correct": frozenset(),
        "full_mse": frozenset({"test_loss"}),
        "divides_by_weight": frozenset({"test_zero_weight"}),
        # train is given code: its check fails with dloss_dw, and says to look there
        "gradient_sign": frozenset({"test_dloss_dw", "test_zero_weight", "test_training_curve"}),
    },
    # an unfinished method fails its own check, not another one
    unfinished={"stub": frozenset(DEPTH_CHECKS) - {"test_training_curve"}},
    first_lines={
        ("stub", "test_training_curve"): "there is no training run: the training cell above failed",
        ("full_mse", "test_loss"): "loss is wrong for predictions [0, 0] and targets [1, 2]:",
        ("divides_by_weight", "test_zero_weight"): "dloss_dw is not finite at weights [0, 2, 3]",
        ("gradient_sign", "test_dloss_dw"): "dloss_dw has the wrong sign, at depth 1:",
        ("gradient_sign", "test_zero_weight"): "dloss_dw is wrong at weights [0, 2, 3]",
        ("gradient_sign", "test_training_curve"): "the loss went up during training",
    },
    # never the right value, never the formula
    gives_away=("-10.5", "1.25", "-np.mean", "prod"),
    explorers=("depth_explorer", "lr_explorer", "lr_depth_game", "init_explorer", "all_explorer"),
    explorer_notes={"stub": ("DeepNarrowLNN.forward is not written yet",)},
    model=StudentClass(
        name="DeepNarrowLNN",
        right=DEPTH_RIGHT,
        needs={},
        gradient_check="test_dloss_dw",
        gradient_rows=depth_rows,
        gradient_shown={"gradient_sign": negated},
        gradient_passes=(
            (UNFINISHED, UNFINISHED, DEPTH_GRADIENT),
            (DEPTH_FORWARD, "mse = np.mean((y_t - y_p) ** 2)", DEPTH_GRADIENT),
        ),
        gradient_mistakes={
            name: GradientMistake((DEPTH_FORWARD, DEPTH_LOSS, body), first_line, shown)
            for name, body, first_line, shown in [
                ("sign", DEPTH_WRONG_SIGN, "dloss_dw has the wrong sign", negated),
                ("factor_2", f"{DEPTH_OTHERS}\ndloss_dw = -2 * np.mean(x * (y_t - np.prod(self.w) * x)) * others",
                 "dloss_dw is 2 times too large", None),
                ("sum", f"{DEPTH_OTHERS}\ndloss_dw = -np.sum(x * (y_t - np.prod(self.w) * x)) * others",
                 "dloss_dw is 20 times too large (there are 20 samples)", None),
                ("wrong_weight", "p = np.prod(self.w)\n"
                                 "dloss_dw = -np.mean(x * (y_t - p * x)) * p / self.w[0] * np.ones(self.w.size)",
                 "dloss_dw[1] is wrong (it belongs to weight w_2), at depth 2", None),
                ("per_sample", f"{DEPTH_OTHERS}\ndloss_dw = -x * (y_t - np.prod(self.w) * x) * others[0]",
                 "dloss_dw should return one number per weight, shape (1,)", None),
                ("side_effect", f"{DEPTH_OTHERS}\nself.w = self.w * 0.5\ndloss_dw = others",
                 "dloss_dw changed self.w", None),
            ]
        },
        explorer_data=depth_data,
        recovery=(
            ExplorerStep(None, None, "DeepNarrowLNN.forward is not written yet (NotImplementedError)."),
            ExplorerStep((DEPTH_FORWARD, UNFINISHED, DEPTH_GRADIENT), (0, "max"),  # forward done, loss not
                         "DeepNarrowLNN.loss is not written yet"),
            ExplorerStep(DEPTH_RIGHT, (0, "min"), None),  # fixed, the cell run again: a slider move is enough
        ),
        explorer_failures={
            "forgot_the_mean": ExplorerFailure((DEPTH_FORWARD, "mse = (y_t - y_p) ** 2 / 2", DEPTH_GRADIENT),
                                               "DeepNarrowLNN.train raised ValueError: setting an array element",
                                               also=("train is given code: check the shapes",)),
        },
        kernel_demo=KernelDemo(
            setup="import numpy as np\nfrom depth_helpers import *\nnp.random.seed(2021)\n"
                  "x, y = gen_samples(100, 2.0, 0.1)",
            explorer="lr_depth_game",
            move="widget.children[0].value = 20",
        ),
    ),
)

RELEASES: dict[str, Release] = {release.name: release for release in (SHALLOW, LANDSCAPE, DEPTH)}
"""Every assignment, by name."""


# -- reading a notebook -----------------------------------------------------------------------------


def class_source(nb: nbformat.NotebookNode, class_name: str) -> str:
    return next(c.source for c in nb.cells if c.cell_type == "code" and f"class {class_name}" in c.source)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def errors(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in cell.get("outputs", []) if o.get("name") == "stdout")


def images(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def code_cell(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """The first code cell whose source contains `text`."""
    return next(c for c in nb.cells if c.cell_type == "code" and text in c.source)


def widget_state(nb: nbformat.NotebookNode) -> list[dict]:
    return list(nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values())


def assert_readable(message: str, where: str, width: int = VALIDATE_WIDTH) -> None:
    """What is wrong on a first line of at most 80 characters; no line longer than `width` (cut by Validate)."""
    lines = message.splitlines()
    assert lines and lines[0].strip(), f"{where}: empty message"
    assert len(lines[0]) <= FIRST_LINE_WIDTH, f"{where}: first line too long: {lines[0]!r}"
    too_long = [line for line in lines if len(line) > width]
    assert not too_long, f"{where}: lines longer than {width}: {too_long}"


def assert_gives_nothing_away(release: Release, message: str) -> None:
    """A message says what is wrong, never the answer or how it is written."""
    for answer in release.gives_away:
        assert answer not in message, (answer, message)


# -- the released notebook, executed ----------------------------------------------------------------

_EXECUTED: dict[tuple[str, str], nbformat.NotebookNode] = {}


def executed_release(release: Release, scenario: str,
                     tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The release with `scenario`'s answer filled in, run top to bottom in its own folder (a copy).

    The first call runs all the assignment's scenarios at once, each in its own kernel.
    """
    if (release.name, scenario) not in _EXECUTED:
        _EXECUTED.update(_execute_all(release, tmp_path_factory))
    return copy.deepcopy(_EXECUTED[release.name, scenario])


def _execute_all(release: Release, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    clients = {}
    for scenario in release.scenarios:
        folder = tmp_path_factory.mktemp(f"{release.name}-{scenario}")
        shutil.copytree(ROOT / "release" / release.name, folder, dirs_exist_ok=True)
        clients[release.name, scenario] = NotebookClient(
            release.submission(scenario), timeout=release.timeout, allow_errors=True,
            resources={"metadata": {"path": str(folder)}},
        )

    async def run_all() -> list[Any]:
        return await asyncio.gather(*(client.async_execute() for client in clients.values()))

    return dict(zip(clients, asyncio.run(run_all())))


# -- the student's code, called directly ------------------------------------------------------------


def student_helpers(release: Release) -> types.ModuleType:
    """The helper module shipped with the assignment (loaded once)."""
    return _helpers(release.name, release.helpers)


@functools.cache
def _helpers(assignment: str, name: str) -> types.ModuleType:
    return load_student_module(assignment, name)


def define_class(release: Release, module: types.ModuleType | dict, bodies: tuple[str, ...] | None) -> type:
    """Run the student's class cell with these method bodies in `module`, as (re-)running the cell would."""
    namespace = module if isinstance(module, dict) else module.__dict__
    namespace.update({"np": np, **release.model.needs})
    exec(class_source(release.filled(bodies), release.model.name), namespace)
    return namespace[release.model.name]


def model_class(release: Release, bodies: tuple[str, ...] | None) -> type:
    """The student's class with these method bodies (None: the stubs), in a namespace of its own."""
    return define_class(release, {"__name__": "submission"}, bodies)


def gradient_message(release: Release, bodies: tuple[str, ...]) -> str:
    """check_gradient_numerically's message for the class with these bodies (it must fail, readably)."""
    with pytest.raises(AssertionError) as failure:
        student_helpers(release).check_gradient_numerically(model_class(release, bodies))
    message = str(failure.value)
    assert_readable(message, "check_gradient_numerically", FIRST_LINE_WIDTH)
    assert_gives_nothing_away(release, message)
    return message
