"""The course on its JupyterHub, end to end in Debian's Chromium, driven by Playwright.

The real hub of ``hub/`` (PAM logins, configurable-http-proxy, each user's JupyterLab as
their own Unix user, the formgrader as a service of the grader account) runs on a free
port of 127.0.0.1, with accounts, course and exchange in a scratch folder
(``tests/hub_site.py``).  Then, as people would:

1. the instructor opens the formgrader, generates and releases 01_shallow_narrow;
2. two students log in and fetch it through the Assignment List; Alice solves it, Bob
   makes the classic sign mistake (their notebooks are saved into their homes as their
   own users, as JupyterLab would); both submit through the Assignment List;
3. the instructor collects, autogrades each submission with the course's secure grader
   (bubblewrap, rootless, as the grader account), grades Alice's written answer, and
   generates and releases the feedback;
4. each student fetches their feedback and reads their own verdicts and training plot;
5. Bob cannot open Alice's server, her files or the formgrader.

Each step leaves a screenshot ``screenshots/hub_*.png``.  Stopping the hub leaves no
process of any of the site's accounts behind (its PID namespace ends them all).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

import nbformat
import psutil
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from autograder.course.submissions import example_answer, submission_from_answer
from conftest import ROOT
from hub_site import ALICE, ASSIGNMENT, BOB, GRADER, INSTRUCTOR, TA, Site, serve

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium: nothing downloads a browser at run time."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = ROOT / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.geteuid() != 0, reason="runs a hub with Unix accounts: needs root (CI runs as root)"),
]
expect.set_options(timeout=60_000)  # the machine may be busy

SPAWN_TIMEOUT = 180_000  # ms: a user's JupyterLab starting on a busy machine
GRADING_TIMEOUT = 240_000  # ms: autograding one submission in the sandbox
STUDENTS = {ALICE: ("correct", 8), BOB: ("sign_flipped", 2)}
"""Each student's example answer and autograded score (of 10)."""
MAX_SCORE = 10
MANUAL_SCORE = 2
WRITTEN_ANSWER = "No: above about 0.5 the loss diverges. From w1 = w2 = 0 both gradients are zero, so nothing moves."
FORMGRADER = f"/services/{serve.COURSE_ID}/formgrader"
SIGN_MISTAKE = "right size but the wrong sign"
"""What Bob's feedback says of his gradient."""


def shot(page: Page, name: str) -> None:
    """Save a screenshot of the page as ``screenshots/hub_<name>.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"hub_{name}.png")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """The course's hub, running; afterwards, no process of its accounts may be left."""
    if not CHROMIUM.exists():  # a failure, not a skip: a missing install step must not pass unseen
        pytest.fail(f"{CHROMIUM} is missing: `make setup` as root installs it, else `sudo apt-get install chromium`")
    s = Site()
    try:
        s.start()
        yield s
    finally:
        status = s.close()
    assert status == 0, "the hub did not stop by itself when asked"
    # The hub's PID namespace is gone with it, and every process in it: servers, kernels, sandboxes.
    _, alive = psutil.wait_procs(s.user_processes(), timeout=30)
    assert not alive, f"processes left after the hub stopped: {alive}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser: Browser) -> Page:
    """A page in a browser context of its own: each person has their own cookies."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    return context.new_page()


def log_in(page: Page, site: Site, user: str, path: str) -> None:
    """Open `path` on the hub; at the login page it leads to, log in as `user` with their password."""
    page.goto(site.url + path)
    expect(page.locator("#username_input")).to_be_visible()
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(site.passwords[user])
    page.locator("#login_submit").click()


def open_lab(page: Page, site: Site, user: str) -> None:
    """Log in as `user`, wait for their own JupyterLab, and open nbgrader's Assignment List."""
    log_in(page, site, user, "/hub/login")
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=SPAWN_TIMEOUT)
    assert page.url.startswith(f"{site.url}/user/{user}/lab"), page.url
    page.locator("#jp-MainMenu").get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.locator(".lm-Menu").get_by_role("menuitem", name="Assignment List", exact=True).click()
    expect(page.locator("#released_assignments_list")).to_be_visible()


def assignment_row(page: Page, panel: str):
    """The 01_shallow_narrow row of an Assignment List panel (released, fetched, submitted)."""
    return page.locator(f"#{panel}_assignments_list > .list_item").filter(has_text=ASSIGNMENT)


def close_modal(page: Page, kind: str = "success") -> str:
    """Wait for the formgrader's result dialog, check its kind, close it; return its text."""
    modal = page.locator(".modal.in, .modal.show").last
    expect(modal).to_be_visible(timeout=GRADING_TIMEOUT)
    text = modal.inner_text()
    assert modal.get_attribute("id") == f"{kind}-modal", text
    modal.locator(".modal-footer button").first.click()
    expect(page.locator(".modal.in, .modal.show")).to_have_count(0)
    return text


def formgrader_row(page: Page):
    return page.locator("#main-table tr").filter(has=page.locator("td.name", has_text=ASSIGNMENT))


def submission_row(page: Page, student: str):
    return page.locator("#main-table tr").filter(
        has=page.locator("td.student-id", has_text=re.compile(f"^{re.escape(student)}$"))
    )


def answered_notebook(site: Site, student: str) -> str:
    """The notebook the student fetched, with their example answer (and Alice's written answer) filled in."""
    fetched = site.home(student) / ASSIGNMENT / "shallow_narrow.ipynb"
    nb = submission_from_answer(nbformat.read(fetched, as_version=4), example_answer(ASSIGNMENT, STUDENTS[student][0]))
    if student == ALICE:
        (think,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "think_learning_rate"]
        think.source = WRITTEN_ANSWER
    return nbformat.writes(nb)


# --------------------------------------------------------------------------- the course


def test_a_course_on_the_hub_from_release_to_feedback(site: Site, browser: Browser) -> None:
    # 1. The instructor releases the assignment from the formgrader (a service of the grader account).
    instructor = new_page(browser)
    log_in(instructor, site, INSTRUCTOR, f"{FORMGRADER}/manage_assignments")
    row = formgrader_row(instructor)
    expect(row).to_have_count(1)
    shot(instructor, "01_instructor_formgrader")
    row.locator("td.assign a").click()  # generate the student version
    assert "Successfully created the student version" in close_modal(instructor)
    row.locator("td.release a").click()
    close_modal(instructor)
    expect(row.locator("td.status")).to_have_text("released")
    shot(instructor, "02_instructor_released")
    assert (site.exchange / serve.COURSE_ID / "outbound" / ASSIGNMENT / "shallow_narrow.ipynb").is_file()

    # 2. Each student fetches it, works on it and submits, through the Assignment List.
    students = {}
    for n, student in enumerate(STUDENTS):
        page = students[student] = new_page(browser)
        open_lab(page, site, student)
        released = assignment_row(page, "released")
        expect(released.get_by_role("button", name="Fetch")).to_be_visible()
        shot(page, f"{3 + 3 * n:02d}_{student}_assignment_list")
        released.get_by_role("button", name="Fetch").click()
        fetched = assignment_row(page, "fetched")
        expect(fetched.get_by_role("button", name="Submit")).to_be_visible()
        assert (site.home(student) / ASSIGNMENT / "shallow_narrow.ipynb").is_file()
        # The student's work, saved into their home as their own user (as JupyterLab saves it).
        site.write(student, site.home(student) / ASSIGNMENT / "shallow_narrow.ipynb", answered_notebook(site, student))
        shot(page, f"{4 + 3 * n:02d}_{student}_fetched")
        fetched.get_by_role("button", name="Submit").click()
        expect(assignment_row(page, "submitted")).to_be_visible()
        expect(assignment_row(page, "submitted").locator(".nested_list_item")).to_have_count(1)
        shot(page, f"{5 + 3 * n:02d}_{student}_submitted")

    # 3. The instructor collects, autogrades, grades the written answer, and releases the feedback.
    instructor.reload()
    row = formgrader_row(instructor)
    row.locator("td.collect a").click()
    close_modal(instructor)
    expect(row.locator("td.num-submissions")).to_have_text(str(len(STUDENTS)))
    shot(instructor, "09_instructor_collected")
    instructor.goto(f"{site.url}{FORMGRADER}/manage_submissions/{ASSIGNMENT}")
    for student in STUDENTS:
        submission_row(instructor, student).locator("td.autograde a").click()
        close_modal(instructor)
    for student, (_, score) in STUDENTS.items():
        expect(submission_row(instructor, student).locator("td.score")).to_have_text(f"{score} / {MAX_SCORE}")
    shot(instructor, "10_instructor_autograded")
    # Graded by the grader account (not root), in the sandbox: no "Graded WITHOUT the sandbox" warning.
    graded = site.course / "autograded" / ALICE / ASSIGNMENT / "shallow_narrow.ipynb"
    assert graded.stat().st_uid == site.accounts[GRADER].pw_uid
    assert "WITHOUT the sandbox" not in graded.read_text()

    instructor.goto(f"{site.url}{FORMGRADER}/gradebook/{ASSIGNMENT}/shallow_narrow")
    expect(instructor.locator("#main-table td.name a.name-hidden")).to_have_count(len(STUDENTS))
    instructor.locator("#toggle_names").click()
    instructor.locator("#main-table td.name a.name-shown", has_text=re.compile(f"^{ALICE}$")).click()
    score = instructor.locator("input.score#think_learning_rate")
    expect(score).to_be_visible()
    expect(instructor.get_by_text("both gradients are zero")).to_be_visible()  # Alice's written answer
    # The score boxes save on "change" once the formgrader's script has loaded the grades (after the page's load).
    instructor.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded")
    with instructor.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as put:
        score.fill(str(MANUAL_SCORE))
        score.press("Tab")
    assert put.value.ok, put.value.status
    shot(instructor, "11_instructor_manual_grade")

    instructor.goto(f"{site.url}{FORMGRADER}/manage_assignments")
    row = formgrader_row(instructor)
    row.locator("td.generate-feedback a").click()
    close_modal(instructor)
    row.locator("td.release-feedback a").click()
    close_modal(instructor)
    shot(instructor, "12_instructor_feedback_released")
    # Several graders: the teaching assistant, with their own login, sees the same course and grades.
    ta = new_page(browser)
    log_in(ta, site, TA, f"{FORMGRADER}/manage_submissions/{ASSIGNMENT}")
    for student, (_, score) in STUDENTS.items():
        total = score + (MANUAL_SCORE if student == ALICE else 0)
        expect(submission_row(ta, student).locator("td.score")).to_have_text(f"{total} / {MAX_SCORE}")
    shot(ta, "13_ta_sees_the_grades")

    # 4. Each student fetches their feedback and reads their own verdicts and training plot.
    for n, (student, page) in enumerate(students.items()):
        page.locator("#refresh_assignments_list").click()
        submitted = assignment_row(page, "submitted")
        expect(submitted).to_contain_text("feedback available to fetch")
        submitted.get_by_role("button", name="Fetch Feedback").click()
        expect(submitted.get_by_text("(view feedback)")).to_be_visible()
        submitted.get_by_text("(view feedback)").click()  # the file browser goes to the feedback folder
        expect(page.locator(".jp-DirListing-item", has_text="shallow_narrow.html")).to_be_visible()
        shot(page, f"{14 + 2 * n:02d}_{student}_feedback_fetched")
        (html,) = (site.home(student) / ASSIGNMENT / "feedback").glob("*/shallow_narrow.html")
        page.goto(f"{site.url}/user/{student}/files/{html.relative_to(site.home(student)).as_posix()}")
        expect(page.locator("body")).to_contain_text("hidden tests ran here")
        plots = page.locator('img[alt^="Plot of your training run against the reference run"]')
        expect(plots.first).to_be_visible()
        total = STUDENTS[student][1] + (MANUAL_SCORE if student == ALICE else 0)
        expect(page.locator("body")).to_contain_text(f"Score: {total:.1f} / {MAX_SCORE:.1f}")
        gradient = page.locator("body")
        if student == ALICE:
            expect(gradient).to_contain_text("✔ `dloss_dw` is right on all 6 test cases")
            expect(gradient).not_to_contain_text(SIGN_MISTAKE)
        else:
            expect(gradient).to_contain_text(SIGN_MISTAKE)  # Bob's mistake, named
        plots.first.scroll_into_view_if_needed()
        shot(page, f"{15 + 2 * n:02d}_{student}_reads_feedback")
        page.go_back()

    # 5. Bob tries Alice's server, her notebook and the formgrader: the hub refuses each.
    bob = students[BOB]
    tries = [
        f"/user/{ALICE}/lab",
        f"/user/{ALICE}/files/{ASSIGNMENT}/shallow_narrow.ipynb",
        f"/user/{ALICE}/api/contents/{ASSIGNMENT}",
        f"{FORMGRADER}/manage_assignments",
    ]
    for n, path in enumerate(tries):
        answer = bob.goto(site.url + path)
        assert answer is not None and answer.status == 403, (path, answer and answer.status, bob.url)
        assert ALICE_WORK_MARKER not in bob.content()
        if n == 0:
            shot(bob, f"18_{BOB}_refused_alices_server")


ALICE_WORK_MARKER = "dloss_dw1 = "
"""Text of Alice's solution that must never reach Bob's browser."""
