"""Per-student variants: each student's own numbers for the training runs of 01 and 03, drawn from their id.

The grader draws a student's values from the id the submission is filed under
(:mod:`autograder.core.variants`); the notebook draws them with the shipped helpers
(``variant_values`` in ``source/course_helpers.py``).  These tests check that the two agree for
hundreds of ids, that every drawn run teaches the lesson of the section, that grading with
variants on gives right work full marks and a notebook run on another student's numbers none for
its seed run, and that a regrade changes nothing.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from traitlets.config import Config

from autograder.assignments.depth import inputs as depth_inputs
from autograder.assignments.depth import reference as depth_reference
from autograder.assignments.shallow_narrow.inputs import VARIANT
from autograder.core import checks, probe, variants
from autograder.course import build
from autograder.models import shallow as reference
from autograder.nbgrader_plugins.secure_execute import SecureExecute
from conftest import ASSIGNMENT, FULL_MARKS, ROOT, example_submission, verdict_messages
from test_grader_failures import FullCourse, new_course

NOTEBOOK = "shallow_narrow.ipynb"
DEPTH = "03_depth_and_init"
WITH_VARIANTS = [ASSIGNMENT, DEPTH]
"""The assignments that offer variants (02's checks draw every student's inputs already; it has no run to copy)."""
STUDENTS = [f"s{i:03d}" for i in range(300)] + ["Zoë O'Brien", "jdoe7", "a/b;c", "名前", "x" * 200]
"""Student ids of a large class, and some with odd characters."""


def _values(student: str, on: bool = True) -> dict:
    return variants.values_for(VARIANT, ASSIGNMENT, student, on)


# -- the notebook's helpers and the grader agree ---------------------------------------------------


def _helpers_in(folder: Path, assignment: str, on: bool = True):
    """``course_helpers`` as a released folder of `assignment` has it."""
    shutil.copy(ROOT / "source" / "course_helpers.py", folder / "course_helpers.py")
    (folder / variants.SPEC_FILE).write_text(build.variant_spec(assignment, on=on))
    spec = importlib.util.spec_from_file_location(f"variant_course_helpers_{assignment}", folder / "course_helpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.folder = folder
    return module


@pytest.fixture()
def notebook_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``course_helpers`` as 01's released folder with variants on has it (no hub, not graded)."""
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv(variants.ENV, raising=False)
    return _helpers_in(tmp_path, ASSIGNMENT)


@pytest.mark.parametrize("assignment", WITH_VARIANTS)
def test_the_grader_and_the_notebook_agree_on_every_student_s_values(
    assignment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv(variants.ENV, raising=False)
    helpers = _helpers_in(tmp_path, assignment)
    variant = checks.assignment_named(assignment).variant
    for student in STUDENTS:
        values, whose = helpers.variant_values(student)
        assert values == variants.values_for(variant, assignment, student, True), student
        assert f"your own values (student {student}, from the id you typed)" == whose


def test_only_01_and_03_offer_variants() -> None:
    offering = sorted(a.name for a in checks.registry().values() if a.variant is not None)
    assert offering == WITH_VARIANTS
    for assignment in build.assignments():
        spec = ROOT / "source" / assignment / variants.SPEC_FILE
        assert spec.is_file() == (assignment in WITH_VARIANTS), assignment


def test_on_a_hub_the_user_name_decides_and_the_grader_s_word_beats_both(notebook_helpers, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "s007")
    values, whose = notebook_helpers.variant_values("s008")  # typed by mistake: the hub knows better
    assert values == _values("s007") and "from your hub user name" in whose and "(s008) is not used" in whose
    # While grading, the kernel runs on the values the grader judges by, whatever was typed or logged in.
    monkeypatch.setenv(variants.ENV, variants.kernel_env("s123", _values("s123"))[variants.ENV])
    values, whose = notebook_helpers.variant_values("s008")
    assert values == _values("s123") and "student s123 (set by the grader)" in whose


def test_without_an_id_or_with_variants_off_the_notebook_uses_the_worked_solution_s_values(notebook_helpers) -> None:
    values, whose = notebook_helpers.variant_values("")
    assert values == VARIANT.default and "type your student id in STUDENT_ID" in whose
    (notebook_helpers.folder / variants.SPEC_FILE).write_text(build.variant_spec(ASSIGNMENT, on=False))
    values, whose = notebook_helpers.variant_values("s001")
    assert values == VARIANT.default and "the same for everyone" in whose


def test_the_worked_solution_keeps_the_seed_s_values_and_the_release_says_what_the_course_says() -> None:
    published = json.loads((ROOT / "notebooks" / ASSIGNMENT / variants.SPEC_FILE).read_text())
    assert published["on"] is False and published["default"]["seed"] == reference.SEED == 2021
    released = (ROOT / "release" / ASSIGNMENT / variants.SPEC_FILE).read_text()
    assert released == build.variant_spec(ASSIGNMENT)  # this course: off (the default)
    helpers = (ROOT / "source" / ASSIGNMENT / "shallow_narrow_helpers.py").read_text()
    given = '_WORKED_SOLUTION = {"a": 2.0, "sigma": 0.2, "w1": 1.4, "w2": -1.6, "lr": 0.02, "seed": SEED}'
    assert given in helpers  # the values a notebook without variant.json falls back to
    assert VARIANT.default == {"a": 2.0, "sigma": 0.2, "w1": 1.4, "w2": -1.6, "lr": 0.02, "seed": 2021}


def test_students_get_their_own_values_and_off_means_everyone_the_same() -> None:
    drawn = [_values(s) for s in STUDENTS]
    assert len({json.dumps(v, sort_keys=True) for v in drawn}) == len(STUDENTS)
    assert len({v["seed"] for v in drawn}) == len(STUDENTS)
    assert all(_values(s, on=False) == VARIANT.default for s in STUDENTS[:20])
    assert _values("  jdoe7 ") == _values("jdoe7")  # an id typed with spaces is the same id
    other = variants.values_for(VARIANT, "99_other_assignment", "s001", True)
    assert other != _values("s001")  # a student's values differ from assignment to assignment


@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_every_value_lies_in_its_range_with_its_digits(student: str) -> None:
    values = _values(student)
    for name, (low, high, digits) in VARIANT.ranges.items():
        assert low <= values[name] <= high, (name, values[name])
        assert values[name] == round(values[name], digits)
    assert 0 <= values["seed"] < 2**31


def test_every_student_s_run_teaches_the_lesson_of_the_section() -> None:
    """The product starts with the wrong sign; w1 crosses zero on a plateau; the run ends at the best fit."""
    n, n_ep = reference.SEED_RUN["n"], reference.SEED_RUN["n_ep"]
    for student in [*STUDENTS, None]:
        v = _values(student) if student else VARIANT.default
        x, y = reference.gen_samples(n, v["a"], v["sigma"], seed=v["seed"])
        loss, weights = reference.train((v["w1"], v["w2"]), x, y, v["lr"], n_ep)
        assert v["w1"] * v["w2"] < 0 < v["w1"] < abs(v["w2"]), student
        crossing = np.flatnonzero(weights[:, 0] < 0)
        assert crossing.size and 5 <= crossing[0] <= 120, (student, crossing[:1])
        assert np.all(weights[:, 1] < 0), student  # w2 keeps its sign: w1 is the weight that crosses
        best = np.mean((y - (x @ y / (x @ x)) * x) ** 2)
        assert loss[-1] <= 1.5 * best and loss[-1] < loss[0] / 20, (student, loss[-1], best)
        # The plateau: while w1 is near zero the loss falls more slowly than in the first epochs.
        fall = -np.diff(np.log(loss))
        at = crossing[0]
        assert fall[at - 3 : at + 3].mean() < fall[:5].mean() / 2, student


def test_every_student_s_depth_runs_teach_the_lesson_of_section_3() -> None:
    """Depth 10 reaches the threshold within 100 epochs; depth 1 takes five times as long or more."""
    run, variant = depth_inputs.NOTEBOOK_RUN, depth_inputs.VARIANT
    for student in [*STUDENTS, None]:
        v = variants.values_for(variant, DEPTH, student, True) if student else variant.default
        x, y = reference.gen_samples(run["n"], v["a"], v["sigma"], seed=v["seed"])
        epochs = {}
        for depth in (1, 10):
            loss, _ = depth_reference.train(np.full(depth, run["init"]), x, y, run["lr"], run["n_ep"])
            assert len(loss) == run["n_ep"] and loss[-1] < loss[0], (student, depth)
            epochs[depth] = depth_reference.convergence_epoch(loss)
        assert epochs[10] is not None and epochs[10] <= 100, (student, epochs)
        assert epochs[1] is None or epochs[1] >= 5 * epochs[10], (student, epochs)


@pytest.mark.parametrize("whose", ["own", "another's"])
def test_03_judges_the_training_cell_s_run_on_the_student_s_own_data(whose: str) -> None:
    from conftest import solution_namespace

    source = nbformat.read(ROOT / "source" / DEPTH / "depth_and_init.ipynb", as_version=4)
    namespace = solution_namespace(source)
    mine = variants.values_for(depth_inputs.VARIANT, DEPTH, "dora", True)
    request = checks.make_request("depth.training_curve", DEPTH, "dora", mine)
    ran_on = mine if whose == "own" else variants.values_for(depth_inputs.VARIANT, DEPTH, "eli", True)
    x, y = reference.gen_samples(100, ran_on["a"], ran_on["sigma"], seed=ran_on["seed"])
    _, namespace["weight_log"] = namespace["DeepNarrowLNN"](np.full(10, 0.9)).train(x, y, 0.01, 600)
    verdict = checks.CHECKS["depth.training_curve"].judge(request, probe.collect(namespace, request))
    if whose == "own":
        assert verdict.passed, verdict.message
    else:
        assert not verdict.passed and "does not end where a run on your data ends" in verdict.message
        assert f"a = {mine['a']}" in verdict.message  # the student's own data, not the other's


def test_the_grader_draws_the_values_where_the_course_turns_them_on() -> None:
    def grader_values(config: Config, student: str | None = "s001") -> dict:
        preprocessor = SecureExecute(config=config)
        preprocessor._assignment = ASSIGNMENT
        return preprocessor._student_values(student)

    on = Config({"CourseOptions": {"variants": [ASSIGNMENT]}})
    assert grader_values(on) == _values("s001")
    assert grader_values(on, student=None) == VARIANT.default  # not nbgrader's run: no student
    assert grader_values(Config()) == VARIANT.default
    assert grader_values(Config({"SecureExecute": {"student_variants": True}})) == _values("s001")
    first = checks.make_request("shallow_narrow.seed_run", ASSIGNMENT, "s001", _values("s001"))
    second = checks.make_request("shallow_narrow.seed_run", ASSIGNMENT, "s002", _values("s002"))
    assert first["cases"][0]["init"] != second["cases"][0]["init"]
    assert first["cases"][0]["args"][0] != second["cases"][0]["args"][0]  # other data too


# -- grading with variants on ---------------------------------------------------------------------

HONEST = ["ana", "ben"]
COPIED = "cody"
"""Cody's class is right, but his notebook's run is Ben's: he typed in the numbers Ben's notebook printed."""


def _copying(nb: nbformat.NotebookNode, values: dict) -> nbformat.NotebookNode:
    training = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "my_seed_run(" in c.source)
    nb.cells[training].source = nb.cells[training].source.replace(
        "run = my_seed_run(STUDENT_ID)", f"run = my_seed_run(STUDENT_ID)._replace(**{values!r})"
    )
    assert repr(values) in nb.cells[training].source
    return nb


def _printed_values(course: FullCourse, student: str) -> str:
    """What the training cell of the graded notebook printed (its values come first)."""
    nb = course.autograded(student)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "my_seed_run(" in c.source)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One course with variants on, graded by both commands, each twice."""
    runs = {}
    for command in ("nbgrader autograde", "python -m autograder grade"):
        course: FullCourse = new_course(tmp_path_factory, "variants")
        course.configure(f'c.CourseOptions.variants = ["{ASSIGNMENT}"]')
        for student in HONEST:
            course.submit(student, example_submission(ASSIGNMENT, NOTEBOOK, "correct"))
        ben = {k: v for k, v in _values("ben").items()}
        course.submit(COPIED, _copying(example_submission(ASSIGNMENT, NOTEBOOK, "correct"), ben))
        results = []
        for _ in range(2):
            done = course.autograde("--force") if command.startswith("nbgrader") else course.grade("--force")
            assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
            students = [*HONEST, COPIED]
            results.append(
                {s: (course.recorded(s), verdict_messages(course.autograded(s)), _printed_values(course, s))
                 for s in students}
            )  # fmt: skip
        runs[command] = results
    return runs


@pytest.mark.parametrize("command", ["nbgrader autograde", "python -m autograder grade"])
def test_each_student_is_graded_on_their_own_values(graded: dict, command: str) -> None:
    first, _ = graded[command]
    full = {test: float(points) for test, points in FULL_MARKS.items()}
    for student in HONEST:
        assert first[student][0] == full, (student, first[student][1])
        # The notebook ran on the values the grader judged by, and said so.
        v = _values(student)
        printed = first[student][2]
        assert f"Training run with the values of student {student} (set by the grader)" in printed, printed
        assert f"y = {v['a']} x + noise (sigma {v['sigma']}), seed {v['seed']}" in printed
    scores, messages, _ = first[COPIED]
    assert scores == {**full, "test_seed_run": 0.0}, messages
    said = messages["test_seed_run"]
    assert "not where a run on your values ends" in said and "taken from another notebook" in said
    yours = _values(COPIED)
    assert f"start w1 = {yours['w1']}, w2 = {yours['w2']}" in said  # his own values, not Ben's


@pytest.mark.parametrize("command", ["nbgrader autograde", "python -m autograder grade"])
def test_a_regrade_gives_the_same_scores_and_the_same_words(graded: dict, command: str) -> None:
    first, second = graded[command]
    assert first == second


def test_both_commands_agree(graded: dict) -> None:
    assert graded["nbgrader autograde"][0] == graded["python -m autograder grade"][0]
