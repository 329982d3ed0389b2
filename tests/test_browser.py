"""The course as people use it: JupyterLab in Debian's Chromium, driven by Playwright.

- A student opens the released notebook with a correct solution, runs all cells, plays
  with the training explorer's sliders and presses nbgrader's Validate button.
- An instructor opens the formgrader on three autograded example submissions, gives the
  written answer a manual score and exports the grades.

Everything runs in a scratch copy of the course (its own gradebook) served by a private
JupyterLab.  Each step leaves a screenshot in ``screenshots/`` at the repo root.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from autograder.course.submissions import example_answer, fill_stubs, method_bodies
from conftest import ASSIGNMENT, ROOT, Course

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium: nothing downloads a browser at run time."""

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # the machine may be busy: Playwright's 5 s default is too tight

VENV_BIN = Path(sys.executable).parent  # the environment running the tests, wherever it lives
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STUDENTS = {"correct": 8, "sign_flipped": 2, "forward_adds_weights": 3}
"""Example students handed in for the instructor, with their autograded score (out of 10)."""
MAX_SCORE = 10
MANUAL_SCORE = 1.5
"""What the instructor gives `correct` for the written answer (out of 2)."""
WRITTEN_ANSWER = "No: above about 0.5 the loss diverges. From w1 = w2 = 0 both gradients are zero, so nothing moves."
"""The answer to the Think! question (the `think_learning_rate` cell, graded by hand)."""
WORK = f"work/{ASSIGNMENT}"
"""Where the student's notebook lives, relative to the server root."""

SERVER_START_TIMEOUT = 60  # seconds
RUN_ALL_TIMEOUT = 90_000  # milliseconds, Playwright's unit
VALIDATE_TIMEOUT = 90_000


def shot(page: Page, name: str) -> None:
    """Save a screenshot of the page as ``screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answered(course: Course, student: str, written: str | None = None):
    """The released notebook with an example student's code, and optionally a written answer."""
    answer = example_answer(ASSIGNMENT, student)
    nb = fill_stubs(course.release_notebook(), list(method_bodies(answer).values()))
    if written is not None:
        think = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "think_learning_rate"]
        assert len(think) == 1
        think[0].source = written
    return nb


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def lab_course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """A scratch course: the assignment generated, and a student's work folder with the correct answer."""
    course = Course(tmp_path_factory.mktemp("browser_course"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    work = course.root / WORK
    shutil.copytree(course.root / "release" / ASSIGNMENT, work)
    nbformat.write(answered(course, "correct"), work / "shallow_narrow.ipynb")
    return course


@pytest.fixture(scope="module")
def lab(lab_course: Course, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private JupyterLab serving the scratch course; yields its base URL and token."""
    home = tmp_path_factory.mktemp("lab_home")
    settings = home / "settings" / "@jupyterlab"
    # No "news" consent toast, and every cell kept in the DOM (no virtual scrolling).
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')

    (home / "exchange").mkdir()  # nbgrader's release/collect folder: here, not /usr/local/share
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **lab_course.env,
        "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    log_path = home / "jupyterlab.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "python"), "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={lab_course.root}", "--allow-root", "--LabApp.news_url=None",
            f"--Exchange.root={home / 'exchange'}",
        ],
        cwd=lab_course.root,  # so the scratch course's nbgrader_config.py applies
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its kernels share its process group, ended with it
    )
    base = f"http://127.0.0.1:{port}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy
    try:
        for _ in range(int(SERVER_START_TIMEOUT / 0.25)):
            try:
                with direct.open(f"{base}/api/status?token={token}", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            try:  # the pause between polls, which also notices a server that died
                proc.wait(timeout=0.25)
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            except subprocess.TimeoutExpired:
                pass
        else:
            pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")
        yield {"url": base, "token": token}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # kernels left behind, if any
        except ProcessLookupError:
            pass
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():  # a failure, not a skip: a missing install step must not pass unseen
        pytest.fail(f"{CHROMIUM} is missing: `make setup` as root installs it, else `sudo apt-get install chromium`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    context.close()


def open_lab(page: Page, lab: dict[str, str], path: str = "lab") -> None:
    """Open a Lab URL (logging in with the token) and wait until the Lab shell is up."""
    page.goto(f"{lab['url']}/{path}?token={lab['token']}")
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()


def menu(page: Page, *labels: str) -> None:
    """Click through the main menu bar: menu(page, "Run", "Run All Cells")."""
    page.locator("#jp-MainMenu").get_by_role("menuitem", name=labels[0], exact=True).click()
    for label in labels[1:]:
        page.locator(".lm-Menu").get_by_role("menuitem", name=label, exact=True).click()


# --------------------------------------------------------------------------- student


def slider(page: Page, label: str):
    return page.locator(".widget-interact .widget-slider").filter(
        has=page.locator("label.widget-label", has_text=re.compile(f"^{label}$"))
    )


def figure_src(page: Page) -> str:
    return page.locator(".widget-interact img").get_attribute("src") or ""


def wait_kernel_idle(page: Page, timeout: float = 30_000) -> None:
    """Wait until the notebook's kernel is connected and idle (toolbar indicator and status bar agree)."""
    expect(page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=timeout
    )
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=timeout)


def move_slider(page: Page, label: str, key: str, presses: int) -> str:
    """Move a slider with the keyboard, one step at a time; return its readout.

    After each key press the kernel retrains and the Image widget shows a new PNG: waiting
    for it before the next press keeps every step (ipywidgets may coalesce quick changes)
    and makes the last figure the one for the final value.
    """
    s = slider(page, label)
    handle, readout = s.locator(".noUi-handle"), s.locator(".widget-readout")
    for _ in range(presses):
        before_value = readout.inner_text()  # (aria-valuenow is rounded: useless for a 0.05 step)
        before_src = figure_src(page)
        handle.press(key)  # focuses the handle first: a redraw may have moved the focus to the notebook
        expect(readout).not_to_have_text(before_value)
        page.wait_for_function(
            "old => { const img = document.querySelector('.widget-interact img');"
            " return img && img.src !== '' && img.src !== old; }",
            arg=before_src,
        )
    return readout.inner_text()


def test_student_runs_explores_and_validates(page: Page, lab: dict[str, str], lab_course: Course) -> None:
    n_code_cells = sum(cell.cell_type == "code" for cell in lab_course.release_notebook().cells)
    open_lab(page, lab, f"lab/tree/{WORK}/shallow_narrow.ipynb")
    notebook = page.locator(".jp-NotebookPanel")
    expect(notebook.locator(".jp-Cell").first).to_be_visible()
    wait_kernel_idle(page)  # the kernel has started
    shot(page, "student_01_notebook_opened")

    # Run > Run All Cells
    page.locator("#jp-MainMenu").get_by_role("menuitem", name="Run", exact=True).click()
    expect(page.locator(".lm-Menu").get_by_role("menuitem", name="Run All Cells", exact=True)).to_be_visible()
    shot(page, "student_02_run_menu")
    page.locator(".lm-Menu").get_by_role("menuitem", name="Run All Cells", exact=True).click()

    # Done when every code cell shows an execution count ("[12]:", not "[ ]:" or "[*]:") and the kernel is idle.
    code_prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt")
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')];"
        " return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
        timeout=RUN_ALL_TIMEOUT,
    )
    wait_kernel_idle(page)
    expect(code_prompts).to_have_count(n_code_cells)

    # No error output anywhere (JupyterLab renders tracebacks as stderr too).
    expect(notebook.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)
    expect(notebook.locator(".jp-OutputArea-output", has_text="Traceback")).to_have_count(0)
    outputs = notebook.locator(".jp-OutputArea-output")
    for message in (
        "forward gives the right predictions",
        "dloss_dw agrees with finite differences",
        "The loss goes down during training.",
        "The run ends where it should.",
    ):
        expect(outputs.filter(has_text=message)).to_have_count(1)
    outputs.filter(has_text="The run ends where it should.").scroll_into_view_if_needed()
    shot(page, "student_03_all_cells_ran")

    # The training explorer: three sliders and a figure.
    explorer = notebook.locator(".widget-interact")
    expect(explorer).to_have_count(1)
    for label in ("learning rate", "initial w1", "initial w2"):
        expect(slider(page, label)).to_have_count(1)
    # The explorer shows its figure in an ipywidgets Image (a PNG the browser holds as a blob).
    expect(explorer.locator("img")).to_have_attribute("src", re.compile("^(blob:|data:image/png)"))
    explorer.scroll_into_view_if_needed()
    expect(slider(page, "learning rate").locator(".widget-readout")).to_have_text("0.0200")
    expect(slider(page, "initial w1").locator(".widget-readout")).to_have_text("1.40")
    first_figure = figure_src(page)
    shot(page, "student_04_explorer_before")

    lr = move_slider(page, "learning rate", "ArrowRight", 4)
    assert lr == "0.0316", lr  # 10 ** (-1.7 + 4 * 0.05)
    after_lr = figure_src(page)
    w1 = move_slider(page, "initial w1", "ArrowLeft", 3)
    assert w1 == "1.10", w1
    wait_kernel_idle(page)
    after_w1 = figure_src(page)
    assert len({first_figure, after_lr, after_w1}) == 3, "each slider move should redraw the figure"
    expect(notebook.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)
    shot(page, "student_05_explorer_after_slider_moves")

    # The written answer: edit the markdown cell in CodeMirror and render it.
    answer_cell = notebook.locator(".jp-MarkdownCell").last
    expect(answer_cell).to_contain_text("YOUR ANSWER HERE")
    answer_cell.locator(".jp-MarkdownOutput").dblclick()
    editor = answer_cell.locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(WRITTEN_ANSWER)
    page.keyboard.press("Control+Enter")  # render, staying on the cell (Shift+Enter would add one)
    expect(answer_cell.locator(".jp-MarkdownOutput")).to_contain_text("both gradients are zero")
    shot(page, "student_06_written_answer")

    # nbgrader's Validate button saves the notebook and runs it on the server.
    validate = notebook.locator(".jp-Toolbar .validate-button")
    expect(validate).to_have_text("Validate")
    validate.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("#validation-message")).to_be_visible(timeout=VALIDATE_TIMEOUT)
    expect(dialog).to_contain_text("Validation Results")
    shot(page, "student_07_validate_result")
    expect(dialog.locator("#validation-message")).to_have_class(re.compile(r"\bvalidation-success\b"))
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_have_count(0)

    # Validate saved the notebook first: the written answer is on disk.
    saved = nbformat.read(lab_course.root / WORK / "shallow_narrow.ipynb", as_version=4)
    assert WRITTEN_ANSWER in [cell.source for cell in saved.cells]


def test_validate_names_the_students_mistake(page: Page, lab: dict[str, str], lab_course: Course) -> None:
    # A student with the classic sign error presses Validate: the dialog says what is wrong and
    # shows the numbers that prove it, none of them cut off by nbgrader's 87-character lines.
    folder = lab_course.root / "work_sign" / ASSIGNMENT
    shutil.copytree(lab_course.root / "release" / ASSIGNMENT, folder)
    nbformat.write(answered(lab_course, "sign_flipped"), folder / "shallow_narrow.ipynb")
    # A workspace of its own: the default one would also restore the notebook an earlier test opened.
    open_lab(page, lab, f"lab/workspaces/sign-error/tree/work_sign/{ASSIGNMENT}/shallow_narrow.ipynb")
    notebook = page.locator(".jp-NotebookPanel")
    expect(notebook).to_have_count(1)
    expect(page.locator(".jp-FileBrowser .jp-BreadCrumbs")).to_contain_text("work_sign")
    expect(notebook.locator(".jp-Cell").first).to_be_visible()
    wait_kernel_idle(page)

    notebook.locator(".jp-Toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("#validation-message")).to_be_visible(timeout=VALIDATE_TIMEOUT)
    shot(page, "student_08_validate_names_the_mistake")
    expect(dialog.locator("#validation-message")).not_to_have_class(re.compile(r"\bvalidation-success\b"))
    text = dialog.inner_text()
    assert "dloss_dw has the wrong sign" in text, text
    yours = next(line for line in text.splitlines() if line.strip().startswith("yours:"))
    difference = next(line for line in text.splitlines() if line.strip().startswith("finite difference:"))
    assert not yours.rstrip().endswith("...") and not difference.rstrip().endswith("...")
    assert yours.split()[1] == difference.split()[2].lstrip("-")  # the same size, the other sign
    assert "run_check" not in text and "HIDDEN" not in text  # the student's version has no hidden tests
    assert "shallow_narrow_helpers.py" not in text  # the check's own code stays out of the student's way
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_have_count(0)


# --------------------------------------------------------------------------- instructor


@pytest.fixture(scope="module")
def graded(lab_course: Course) -> Course:
    """Three example students handed in and autograded in the scratch course.

    Only `correct` answers the written question; nbgrader scores an untouched answer cell 0 by itself.
    """
    for student in STUDENTS:
        lab_course.submit(student, answered(lab_course, student, WRITTEN_ANSWER if student == "correct" else None))
    lab_course.autograde()
    return lab_course


def test_instructor_grades_in_the_formgrader(page: Page, lab: dict[str, str], graded: Course) -> None:
    # Nbgrader > Formgrader opens the formgrader in a Lab tab.
    open_lab(page, lab, "lab/workspaces/instructor")  # not the student's workspace, with its notebook open
    expect(page.locator(".jp-DirListing-item", has_text="submitted")).to_be_visible()  # the course folder
    menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("iframe").first
    assignments = frame.locator("#main-table")
    row = assignments.locator("tr").filter(has=frame.locator("td.name", has_text=ASSIGNMENT))
    expect(row).to_have_count(1)
    expect(row.locator("td.num-submissions")).to_have_text(str(len(STUDENTS)))
    shot(page, "instructor_01_formgrader_assignments")

    # The submissions, with their autograded scores.
    page.goto(f"{lab['url']}/formgrader/manage_submissions/{ASSIGNMENT}?token={lab['token']}")
    table = page.locator("#main-table")
    for student, score in STUDENTS.items():
        r = table.locator("tr").filter(has=page.locator("td.student-id", has_text=re.compile(f"^{student}$")))
        expect(r.locator("td.score")).to_have_text(f"{score} / {MAX_SCORE}")
        expect(r.locator("td.status")).to_have_text("needs manual grading" if student == "correct" else "graded")
    shot(page, "instructor_02_submissions_with_scores")

    # Manual grading: the notebook's submissions, names shown, then `correct`'s page.
    page.goto(f"{lab['url']}/formgrader/gradebook/{ASSIGNMENT}/shallow_narrow?token={lab['token']}")
    expect(page.locator("#main-table td.name a.name-hidden")).to_have_count(len(STUDENTS))
    page.locator("#toggle_names").click()
    link = page.locator("#main-table td.name a.name-shown", has_text=re.compile("^correct$"))
    expect(link).to_be_visible()
    shot(page, "instructor_03_manual_grading_list")
    link.click()

    score = page.locator("input.score#think_learning_rate")
    expect(score).to_be_visible()
    expect(page.get_by_text("both gradients are zero")).to_be_visible()  # the student's answer
    expect(page.locator("input.score#test_forward")).to_have_attribute("placeholder", "2")
    score.scroll_into_view_if_needed()
    with page.expect_response(
        lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT", timeout=15_000
    ) as saved:
        score.fill(str(MANUAL_SCORE))
        score.press("Tab")  # the change event saves the grade
    assert saved.value.ok, saved.value.status
    shot(page, "instructor_04_written_answer_scored")

    # Back on the submissions page the total includes the manual grade.
    page.goto(f"{lab['url']}/formgrader/manage_submissions/{ASSIGNMENT}?token={lab['token']}")
    r = table.locator("tr").filter(has=page.locator("td.student-id", has_text=re.compile("^correct$")))
    expect(r.locator("td.score")).to_have_text(f"{STUDENTS['correct'] + MANUAL_SCORE} / {MAX_SCORE}")
    expect(r.locator("td.status")).to_have_text("graded")
    shot(page, "instructor_05_submissions_after_manual_grade")

    assert graded.scores("correct")["think_learning_rate"] == MANUAL_SCORE
    graded.nbgrader("export")
    with (graded.root / "grades.csv").open() as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(rows["correct"]["score"]) == STUDENTS["correct"] + MANUAL_SCORE
    assert float(rows["correct"]["max_score"]) == MAX_SCORE
    for student in set(STUDENTS) - {"correct"}:
        assert float(rows[student]["score"]) == STUDENTS[student]
