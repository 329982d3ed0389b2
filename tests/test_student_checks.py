"""Every assignment as the student sees it before submitting: the visible checks and the sliders.

Each released notebook runs with the stubs left in, with a right answer and with typical mistakes
(the scenarios of its table in tests/student_checks.py). Each visible check must fail exactly where
it should, with the student's own NotImplementedError or with a message saying what is wrong on its
first line (nbgrader's Validate cuts every line at 87 characters), never giving the answer away;
no figure is left empty behind an error, and every slider explorer shows a message instead of a
blank picture when the student's code fails, and recovers once it is fixed.

Tests of one assignment's own helpers and messages are in tests/test_student_checks_0N.py.
"""

from __future__ import annotations

import html
import shutil
import sys
import types
from pathlib import Path

import matplotlib
import nbformat
import pytest
from nbclient import NotebookClient

from autograder.core import checks
from conftest import ROOT
from student_checks import (
    FIRST_LINE_WIDTH,
    RELEASES,
    VALIDATE_WIDTH,
    Release,
    assert_gives_nothing_away,
    assert_readable,
    class_source,
    define_class,
    errors,
    executed_release,
    gradient_message,
    grade_id,
    images,
    model_class,
    stdout,
    student_helpers,
    widget_state,
)

matplotlib.use("Agg")

ALL = list(RELEASES.values())
WITH_CLASS = [release for release in ALL if release.model is not None]
RUNS = [(release, scenario) for release in ALL for scenario in release.scenarios]
CLASS_RUNS = [(release, scenario) for release, scenario in RUNS if release.model is not None]


def ids(params: list) -> list[str]:
    """'01_shallow_narrow' or '01_shallow_narrow/stub'."""
    return [p.name if isinstance(p, Release) else "/".join(x.name if isinstance(x, Release) else x for x in p)
            for p in params]


def test_the_table_covers_exactly_the_registered_assignments() -> None:
    assert set(RELEASES) == {a.name for a in checks.registry().values()}


@pytest.mark.parametrize("release", ALL, ids=ids(ALL))
def test_the_table_names_every_visible_check_and_explorer(release: Release) -> None:
    nb = release.released()
    visible = [grade_id(c) for c in nb.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
               and not c.metadata["nbgrader"].get("solution")]
    assert tuple(visible) == release.checks
    assert set(release.failing) == set(release.scenarios) >= set(release.unfinished) | set(release.raw_errors)
    for scenario, failing in release.failing.items():
        assert failing <= set(release.checks)
        assert release.unfinished.get(scenario, frozenset()) <= failing, scenario
    for scenario, check in release.first_lines:  # a message comes from a failed check, not from unfinished code
        assert check in release.failing[scenario] - release.unfinished.get(scenario, frozenset()), (scenario, check)
    explorer_cells = [c for c in nb.cells
                      if c.cell_type == "code" and ("_explorer(" in c.source or "_game(" in c.source)]
    assert sorted(c.source.split("(")[0].split()[-1] for c in explorer_cells) == sorted(release.explorers)


# -- the released notebook, executed ---------------------------------------------------------------


@pytest.fixture(scope="module", params=RUNS, ids=ids(RUNS))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(release, scenario, executed notebook): the release with the scenario's answer, run top to bottom."""
    release, scenario = request.param
    return release, scenario, executed_release(release, scenario, tmp_path_factory)


@pytest.fixture(scope="module", params=CLASS_RUNS, ids=ids(CLASS_RUNS))
def executed_class(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The same, for the assignments whose student writes a class."""
    release, scenario = request.param
    return release, scenario, executed_release(release, scenario, tmp_path_factory)


def test_each_visible_check_fails_only_where_it_should(executed) -> None:
    release, scenario, nb = executed
    failed = {grade_id(c) for c in nb.cells if grade_id(c) in release.checks and errors(c)}
    assert failed == release.failing[scenario]


def test_a_check_fails_with_a_message_or_with_the_students_own_NotImplementedError(executed) -> None:
    # never a NameError, TypeError or ValueError from inside the helper
    release, scenario, nb = executed
    unfinished = release.unfinished.get(scenario, frozenset())
    for cell in nb.cells:
        if grade_id(cell) not in release.checks:
            continue
        for error in errors(cell):
            expected = "NotImplementedError" if grade_id(cell) in unfinished else "AssertionError"
            assert error.ename == expected, (scenario, grade_id(cell), error.ename, error.evalue)


def test_failed_checks_say_what_is_wrong_on_the_first_line(executed) -> None:
    release, scenario, nb = executed
    seen = set()
    for cell in nb.cells:
        for error in errors(cell):
            if error.ename != "AssertionError":
                continue
            assert_readable(error.evalue, f"{scenario}/{grade_id(cell)}", FIRST_LINE_WIDTH)  # every line
            assert_gives_nothing_away(release, error.evalue)
            expected = release.first_lines.get((scenario, grade_id(cell)))
            if expected:
                assert error.evalue.splitlines()[0].startswith(expected), error.evalue
                seen.add(grade_id(cell))
    # every expected message came, as an assertion
    assert seen == {check for s, check in release.first_lines if s == scenario}


def test_every_error_line_fits_validate(executed) -> None:
    release, scenario, nb = executed
    raw = release.raw_errors.get(scenario)
    for index, cell in enumerate(nb.cells):
        if raw is not None and cell.cell_type == "code" and raw in cell.source:
            assert errors(cell), f"cell {index}: the error the table expects is gone"
            continue
        for error in errors(cell):
            lines = f"{error.ename}: {error.evalue}".splitlines()
            assert all(len(line) <= VALIDATE_WIDTH for line in lines), f"cell {index}: {lines}"


def test_no_empty_figure_after_an_error_and_nothing_on_stderr(executed) -> None:
    release, scenario, nb = executed
    for index, cell in enumerate(nb.cells):
        if errors(cell):
            assert not images(cell), f"{scenario}: cell {index} drew a figure and then failed"
        noise = [o.text for o in cell.get("outputs", []) if o.get("name") == "stderr"]
        assert not noise, f"{scenario}: cell {index} wrote to stderr: {noise}"


def test_the_explorers_never_raise_and_show_a_message_or_the_picture(executed) -> None:
    release, scenario, nb = executed
    for name in release.explorers:
        cells = [c for c in nb.cells if c.cell_type == "code" and f"{name}(" in c.source and "import" not in c.source]
        assert len(cells) == 1, name
        assert not errors(cells[0]), (scenario, cells[0].source)
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cells[0].outputs)
    models = widget_state(nb)
    for model in models:  # no exception swallowed into an Output widget that is not on screen
        if model["model_name"] == "OutputModel":
            assert not model["state"].get("outputs"), model["state"]["outputs"]
    texts = [m["state"] for m in models if m["model_name"] == "HTMLModel"]
    captions = [t.get("value", "") for t in texts if "figure-caption" in t.get("_dom_classes", [])]
    messages = [t.get("value", "") for t in texts if "figure-caption" not in t.get("_dom_classes", [])]
    pictures = [m for m in models if m["model_name"] == "ImageModel"]
    # one message, one picture and one caption (what the picture shows, in words) each
    assert len(messages) == len(pictures) == len(captions) == len(release.explorers)
    shown = [m for m in messages if m]
    notes = release.explorer_notes.get(scenario)
    if notes is None:
        assert not shown, shown  # the pictures, no message (a wrong gradient only makes the runs wander off)
        assert all("Figure: " in caption for caption in captions), captions  # each picture described
    else:
        assert len(shown) == len(release.explorers), shown
        for message in shown:
            for text in notes:
                assert html.escape(text) in message, (text, message)


def test_the_gradient_check_shows_yours_against_the_finite_difference(executed_class) -> None:
    release, scenario, nb = executed_class
    model = release.model
    cell = next(c for c in nb.cells if grade_id(c) == model.gradient_check)
    shown = model.gradient_shown.get(scenario)
    if shown is None:
        said = " ".join(e.evalue for e in errors(cell))
        assert "finite difference:" not in said  # unfinished, or not numbers: nothing to compare
        passes = model.gradient_check not in release.failing[scenario]
        assert passes == ("agrees with finite differences" in stdout(cell))
    else:
        yours, numeric = model.gradient_rows(errors(cell)[0].evalue)
        assert shown(yours, numeric), (yours, numeric)


# -- the gradient check, called directly -----------------------------------------------------------


@pytest.mark.parametrize("release", WITH_CLASS, ids=ids(WITH_CLASS))
def test_the_gradient_check_judges_only_the_gradient(release: Release, capsys) -> None:
    # a right gradient passes, whether forward (and loss) are unfinished or wrong
    for bodies in release.model.gradient_passes:
        student_helpers(release).check_gradient_numerically(model_class(release, bodies))
    said = capsys.readouterr().out
    assert said.count("dloss_dw agrees with finite differences") == len(release.model.gradient_passes)


GRADIENT_MISTAKES = [(release, name) for release in WITH_CLASS for name in release.model.gradient_mistakes]


@pytest.mark.parametrize("release, mistake", GRADIENT_MISTAKES, ids=ids(GRADIENT_MISTAKES))
def test_the_gradient_check_names_the_mistake(release: Release, mistake: str) -> None:
    case = release.model.gradient_mistakes[mistake]
    message = gradient_message(release, case.bodies)  # readable, never the formula
    assert message.splitlines()[0].startswith(case.first_line), message
    if case.shown is not None:
        yours, numeric = release.model.gradient_rows(message)
        assert case.shown(yours, numeric), (yours, numeric)


# -- the sliders, headless -------------------------------------------------------------------------


@pytest.fixture()
def notebook_module(monkeypatch):
    """A module standing in for the notebook's namespace (``__main__`` in a kernel)."""
    module = types.ModuleType("notebook_under_test")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def assert_shows_message(widget, first_line: str) -> None:
    screen = widget.screen
    assert screen.text.splitlines()[0].startswith(first_line), screen.text
    assert "section 2" in screen.text and "move a slider" in screen.text
    assert_readable(screen.text, "explorer message")
    assert screen.message.layout.display != "none" and screen.image.layout.display == "none"
    assert screen.message in widget.children
    assert html.escape(first_line) in screen.message.value  # the message widget shows the same text
    assert "error" in widget.result


def assert_shows_picture(widget) -> None:
    screen = widget.screen
    assert screen.text == "" and "loss" in widget.result
    assert screen.message.layout.display == "none" and screen.image.layout.display != "none"
    assert widget.children[-1] is screen.image and screen.image.value[:4] == b"\x89PNG"


EXPLORERS = [(release, name) for release in WITH_CLASS for name in release.explorers]


@pytest.mark.parametrize("release, explorer", EXPLORERS, ids=ids(EXPLORERS))
def test_each_explorer_shows_a_message_on_error_and_recovers(release: Release, explorer: str,
                                                             notebook_module) -> None:
    helpers = student_helpers(release)
    x, y = release.model.explorer_data(helpers)
    widget = None
    for step in release.model.recovery:
        student_class = define_class(release, notebook_module, step.bodies)  # the class cell, run (again)
        if widget is None:
            widget = getattr(helpers, explorer)(student_class, x, y)
        if step.slider is not None:  # no need to run the explorer's cell again: a slider move is enough
            index, value = step.slider
            slider = widget.children[index]
            slider.value = getattr(slider, value) if isinstance(value, str) else value
        if step.says is None:
            assert_shows_picture(widget)
        else:
            assert_shows_message(widget, step.says)
    if release.model.after_recovery is not None:
        release.model.after_recovery(widget, x, y)


FAILURES = [(release, name) for release in WITH_CLASS for name in release.model.explorer_failures]


@pytest.mark.parametrize("release, failure", FAILURES, ids=ids(FAILURES))
def test_the_explorer_names_the_failing_method(release: Release, failure: str, notebook_module) -> None:
    case = release.model.explorer_failures[failure]
    helpers = student_helpers(release)
    x, y = release.model.explorer_data(helpers)
    widget = getattr(helpers, release.explorers[0])(define_class(release, notebook_module, case.bodies), x, y)
    assert_shows_message(widget, case.first_line)
    for text in case.also:
        assert text in widget.screen.text, widget.screen.text


@pytest.mark.parametrize("release", WITH_CLASS, ids=ids(WITH_CLASS))
def test_the_explorer_in_a_real_kernel_picks_up_the_fixed_class(release: Release, tmp_path: Path) -> None:
    model, demo = release.model, release.model.kernel_demo
    shutil.copytree(ROOT / "release" / release.name, tmp_path, dirs_exist_ok=True)
    cells = [
        demo.setup,
        class_source(release.released(), model.name),
        f"widget = {demo.explorer}({model.name}, x, y)\nprint(widget.screen.text.splitlines()[0])",
        class_source(release.filled(model.right), model.name),
        f"{demo.move}\nprint('picture' if widget.screen.text == '' else widget.screen.text)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[2].outputs[0].text.startswith(f"{model.name}.forward is not written yet")
    assert nb.cells[4].outputs[0].text.strip() == "picture"
