"""The grader where courses run: both commands, as whoever runs them, when things go wrong.

Runs as root, and again as an ordinary user (tests/test_as_instructor.py), each time on
a whole course of its own (with its own copy of the autograder package, as an
instructor's clone has) through the two commands instructors use:
``nbgrader autograde`` and ``python -m autograder grade``.

- correct work gets full marks; a submission that writes without end is stopped at
  the job folder's bound, costs only its own points, and leaves no trace on disk;
- where the sandbox cannot be built, grading refuses to start, says what to do, and
  records nothing; with the instructor's explicit opt-in it grades and says so;
- a kernel that cannot start leaves the submission ungraded (not 0), the command
  exits non-zero, and the next run grades it;
- a grading process killed mid-run leaves no process behind, and the next run
  finishes the class.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell

from conftest import ASSIGNMENT, FULL_MARKS, ROOT, Course, example_submission

FULL = {test: float(points) for test, points in FULL_MARKS.items()}
NOTEBOOK = "shallow_narrow.ipynb"

FLOOD = """
import errno, os
written = files = 0
try:
    with open("flood.bin", "wb") as f:
        while True:
            f.write(b"x" * 2**20)
            f.flush()
            written += 2**20
except OSError as exc:
    print("bytes stopped by", errno.errorcode[exc.errno], "after", written)
try:
    while True:
        open(f"flood-{files}", "w").close()
        files += 1
except OSError as exc:
    print("files stopped by", errno.errorcode[exc.errno], "after", files)
"""


class FullCourse(Course):
    """A course as an instructor's clone has it: with the autograder package (and so the examples)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(ROOT / "autograder", root / "autograder", ignore=ignore)

    def configure(self, line: str) -> None:
        with open(self.root / "nbgrader_config.py", "a") as config:
            config.write(f"\n{line}\n")

    def unconfigure(self, line: str) -> None:
        path = self.root / "nbgrader_config.py"
        path.write_text(path.read_text().replace(f"\n{line}\n", ""))

    def run(self, *argv: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        """Run a command in the course folder (this course's package first on the path)."""
        env = dict(self.env)
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        return subprocess.run(list(argv), cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)

    def autograde(self, *extra: str) -> subprocess.CompletedProcess[str]:  # type: ignore[override]
        return self.run(sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", *extra)

    def grade(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--workers", "2", *extra)

    def hand_in(self, student: str, extra_cells: list[str] = ()) -> None:  # type: ignore[assignment]
        nb = example_submission(ASSIGNMENT, NOTEBOOK, "correct")
        first_solution = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
        for source in reversed(extra_cells):
            nb.cells.insert(first_solution + 2, new_code_cell(source))
        self.submit(student, nb)

    def recorded(self, student: str) -> dict[str, float | None] | None:
        """Auto scores per test (None: not graded), or None when nbgrader has no such submission."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.db_url) as gb:
            try:
                nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, student)
            except MissingEntry:
                return None
            return {g.name: g.auto_score for g in nb.grades if g.name in FULL_MARKS}


def new_course(factory: pytest.TempPathFactory, name: str) -> FullCourse:
    course = FullCourse(factory.mktemp(name))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    return course


def _log(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout + done.stderr)[-6000:]


def _grading_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("autograder-*")}


# -- correct work, and a flood of files ------------------------------------------------------


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory) -> FullCourse:
    course = new_course(tmp_path_factory, "flood")
    course.hand_in("a-correct")
    course.hand_in("b-flooder", [FLOOD])
    course.hand_in("c-correct")
    return course


@pytest.mark.parametrize("command", ["nbgrader autograde", "python -m autograder grade"])
def test_correct_work_gets_full_marks_and_a_flood_costs_nothing_else(flooded: FullCourse, command: str) -> None:
    before_disk, before_folders = shutil.disk_usage(tempfile.gettempdir()).used, _grading_folders()
    done = flooded.autograde("--force") if command.startswith("nbgrader") else flooded.grade("--force")
    assert done.returncode == 0, _log(done)
    for student in ("a-correct", "b-flooder", "c-correct"):
        assert flooded.recorded(student) == FULL, (student, _log(done))
    printed = "".join(
        o.get("text", "") for c in flooded.autograded("b-flooder").cells if c.cell_type == "code" for o in c.outputs
    )
    assert "bytes stopped by ENOSPC after" in printed and "files stopped by ENOSPC after" in printed
    written = int(printed.split("bytes stopped by ENOSPC after")[1].split()[0])
    assert written >= 64 * 2**20  # it really wrote: the bound, not something else, stopped it
    # In memory, in the kernel's own namespace, and gone with it: the disk never saw it.
    assert shutil.disk_usage(tempfile.gettempdir()).used - before_disk < written // 2
    assert _grading_folders() <= before_folders


# -- fail closed -------------------------------------------------------------------------------

WRONG_BWRAP = 'c.SecureExecute.bwrap = "/nonexistent/bwrap"'


@pytest.fixture()  # its own course per test: the first one checks that nothing is recorded
def no_sandbox(tmp_path_factory: pytest.TempPathFactory) -> FullCourse:
    course = new_course(tmp_path_factory, "nosandbox")
    course.configure(WRONG_BWRAP)
    course.hand_in("a-correct")
    return course


def test_without_a_sandbox_grading_refuses_to_start_and_records_nothing(no_sandbox: FullCourse) -> None:
    for done, status in [(no_sandbox.autograde(), None), (no_sandbox.grade(), 2)]:
        log = _log(done)
        assert done.returncode != 0 and (status is None or done.returncode == status), log
        assert "refuses to start" in log and "/nonexistent/bwrap" in log and "apt-get install bubblewrap" in log
        assert "allow_unsandboxed" in log  # and how to opt in
        assert log.count("refuses to start") == 1  # one message, not one per student
        assert no_sandbox.recorded("a-correct") is None
        assert not (no_sandbox.root / "autograded" / "a-correct").exists()


def test_with_the_explicit_opt_in_it_grades_and_says_so(no_sandbox: FullCourse) -> None:
    from autograder.kernels.sandbox import UNPROTECTED_NOTICE

    done = no_sandbox.autograde("--SecureExecute.allow_unsandboxed=True")
    assert done.returncode == 0, _log(done)
    assert "WITHOUT the sandbox" in _log(done)
    assert no_sandbox.recorded("a-correct") == FULL
    assert UNPROTECTED_NOTICE in no_sandbox.autograded("a-correct").cells[0].source
    feedback = no_sandbox.run(sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force")
    assert feedback.returncode == 0, _log(feedback)
    html = (no_sandbox.root / "feedback" / "a-correct" / ASSIGNMENT / "shallow_narrow.html").read_text()
    assert "WITHOUT the sandbox" in html

    done = no_sandbox.grade("--unsandboxed", "--force")
    assert done.returncode == 0, _log(done)
    assert "WARNING: Graded WITHOUT the sandbox" in done.stdout
    assert no_sandbox.recorded("a-correct") == FULL
    assert UNPROTECTED_NOTICE in no_sandbox.autograded("a-correct").cells[0].source


# -- a kernel that cannot start ----------------------------------------------------------------

NO_KERNEL = 'c.SecureExecute.kernel_name = "no-such-kernel"'


@pytest.mark.parametrize("command", ["nbgrader autograde", "python -m autograder grade"])
def test_a_kernel_that_cannot_start_leaves_the_submission_ungraded(
    tmp_path_factory: pytest.TempPathFactory, command: str
) -> None:
    course = new_course(tmp_path_factory, "nokernel")
    course.hand_in("a-correct")
    run = course.autograde if command.startswith("nbgrader") else course.grade
    course.configure(NO_KERNEL)
    done = run()
    log = _log(done)
    assert done.returncode != 0, log
    assert "could not start" in log and "a-correct" in log
    # Not a zero: no score at all (nbgrader keeps the submission, unscored, or none), no autograded copy.
    assert course.recorded("a-correct") in (None, dict.fromkeys(FULL_MARKS))
    assert not (course.root / "autograded" / "a-correct" / ASSIGNMENT / NOTEBOOK).exists()
    if not command.startswith("nbgrader"):
        assert "not recorded: the next run tries again" in done.stdout
    course.unconfigure(NO_KERNEL)
    done = run()  # no --force: the failed submission was never recorded as graded
    assert done.returncode == 0, _log(done)
    assert course.recorded("a-correct") == FULL
    messages = " ".join(o.get("evalue", "") for c in course.autograded("a-correct").cells for o in c.get("outputs", []))
    assert "Restart your kernel" not in messages


# -- killed mid-run --------------------------------------------------------------------------

SLOW = "import time\ntime.sleep(2)"  # long enough to be killed in, short enough to rerun


@pytest.mark.parametrize(
    ("command", "signum"),
    [("python -m autograder grade", signal.SIGKILL), ("python -m autograder grade", signal.SIGHUP),
     ("nbgrader autograde", signal.SIGKILL)],
)  # fmt: skip
def test_a_killed_run_leaves_no_process_and_the_next_run_finishes(
    tmp_path_factory: pytest.TempPathFactory, command: str, signum: signal.Signals
) -> None:
    course = new_course(tmp_path_factory, "killed")
    students = ["s0", "s1"]  # one per worker: both busy when the run is killed
    for student in students:
        course.hand_in(student, [SLOW])
    env = dict(course.env)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    if command.startswith("nbgrader"):
        argv = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force"]
    else:
        argv = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--workers", "2"]
    # The run is started below a subreaper of its own, which adopts its orphans and reports those that
    # outlive it (not this process: the instructor's run grades beside us, its processes are not ours).
    log = course.root / "killed-run.log"
    watch = [sys.executable, str(Path(__file__).with_name("orphan_watch.py")), str(log), "--", *argv]
    watcher = subprocess.Popen(watch, cwd=course.root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None
        grader = psutil.Process(int(watcher.stdout.readline()))
        # Mid-run: a student's kernel is working (its sandbox exists).
        while not _sandboxed_kernel_running(grader):
            assert grader.is_running(), log.read_text()
            try:
                grader.wait(timeout=0.05)
            except psutil.TimeoutExpired:
                pass
        grader.send_signal(signum)
        report = json.loads(watcher.stdout.readline())
    finally:
        if watcher.poll() is None:
            watcher.kill()
        watcher.wait(timeout=120)
    assert report["orphans"] or signum != signal.SIGKILL, "the kill left no orphans to watch: was anything running?"
    assert report["survivors"] == [], log.read_text()
    if signum == signal.SIGHUP and not command.startswith("nbgrader"):
        assert report["returncode"] == 130, log.read_text()
    done = course.autograde("--force") if command.startswith("nbgrader") else course.grade()
    assert done.returncode == 0, _log(done)
    for student in students:
        assert course.recorded(student) == FULL, student


def _sandboxed_kernel_running(process: psutil.Process) -> bool:
    """True when a bubblewrap sandbox runs below `process` (processes may vanish while we look)."""
    try:
        children = process.children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for child in children:
        try:
            if child.name() == "bwrap":
                return True
        except psutil.NoSuchProcess:
            continue
    return False


# -- regrade after a fix to the grader --------------------------------------------------------


def test_a_fix_to_the_grader_regrades_everyone(tmp_path_factory: pytest.TempPathFactory) -> None:
    course = new_course(tmp_path_factory, "fixed")
    for student in ("ann", "bob"):
        course.hand_in(student)
    first = course.grade()
    assert first.returncode == 0 and "graded 2, failed 0, skipped 0" in first.stdout, _log(first)
    again = course.grade()
    assert "graded 0, failed 0, skipped 2" in again.stdout, _log(again)
    # A fix to a judge (here: a comment; any change of the package counts) ...
    judge_file = course.root / "autograder" / "assignments" / "shallow_narrow" / "judges.py"
    assert judge_file.exists()
    with open(judge_file, "a") as judge:
        judge.write("\n# fixed: a judge's message\n")
    fixed = course.grade()
    assert "graded 2, failed 0, skipped 0" in fixed.stdout, _log(fixed)
    # ... and so does a change of the course's configuration.
    course.configure("c.SecureExecute.timeout = 31")
    reconfigured = course.grade()
    assert "graded 2, failed 0, skipped 0" in reconfigured.stdout, _log(reconfigured)
    assert course.recorded("ann") == course.recorded("bob") == FULL


# -- checked cells only -------------------------------------------------------------------------


def test_releasing_a_test_cell_without_a_registered_check_is_refused(tmp_path: Path) -> None:
    course = Course(tmp_path)
    path = course.root / "source" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    for grade_id, source in [("plain_assert", "assert forward(2, 3, 1) == 6"),
                             ("typo_check", 'run_check("shallow_narrow.forwrd", globals())')]:  # fmt: skip
        cell = new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                                     "points": 1, "schema_version": 3}  # fmt: skip
        nb.cells.append(cell)
    nbformat.write(nb, path)
    with pytest.raises(RuntimeError) as refused:
        course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    message = str(refused.value)
    assert "plain_assert (no run_check(...))" in message
    assert "typo_check (unknown check 'shallow_narrow.forwrd')" in message
    assert not (course.root / "release" / ASSIGNMENT / NOTEBOOK).exists() or "plain_assert" not in (
        course.root / "release" / ASSIGNMENT / NOTEBOOK
    ).read_text()
