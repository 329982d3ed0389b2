"""Every submission gets feedback: bad hand-ins repaired and graded, or explained, by both grading commands.

One small class, graded once per command (``nbgrader autograde`` and
``python -m autograder grade``), each followed by ``nbgrader generate_feedback``:
two ordinary students (first and last), hand-ins whose intent is unambiguous
(a byte-order mark, CRLF line endings, the notebook saved as ``-Copy1``, every
cell's nbgrader metadata lost with fresh cell ids or with the ids kept), and
hand-ins that cannot be graded (cut off, two candidate notebooks, an empty
folder, another assignment's notebook).  Every bad hand-in is built from the
correct example answer, so a repaired one must score full marks.

The fast tests at the end check the pieces without a kernel: the lenient reader,
the metadata restoration when the place is ambiguous, the folder plan.
"""

from __future__ import annotations

import hashlib
import html
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.nbgrader_plugins.intake import (
    INTAKE_KEY,
    Ungradable,
    plan_folder,
    read_notebook,
    released_notebooks,
    restore_lost_metadata,
)
from conftest import ASSIGNMENT, FULL_MARKS, example_submission, verdict_messages
from test_grader_failures import NO_KERNEL, FullCourse, new_course

NOTEBOOK = "shallow_narrow.ipynb"
FULL = {test: float(points) for test, points in FULL_MARKS.items()}
COMMANDS = ["nbgrader autograde", "python -m autograder grade"]
OTHER_ASSIGNMENT = ("02_learning_landscape", "learning_landscape.ipynb")


def _correct() -> nbformat.NotebookNode:
    return example_submission(ASSIGNMENT, NOTEBOOK, "correct")


def _raw(nb: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(nb).encode()


def _folder(course: FullCourse, student: str) -> Path:
    """The student's folder with the released helper files and no notebook."""
    folder = course.submit(student, _correct())
    (folder / NOTEBOOK).unlink()
    return folder


def _strip_metadata(keep_ids: bool) -> nbformat.NotebookNode:
    """The correct answer pasted into a fresh notebook: no nbgrader metadata; new cell ids unless `keep_ids`."""
    nb = _correct()
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        if not keep_ids:
            cell["id"] = uuid.uuid4().hex[:8]
    return nb


def _crlf() -> bytes:
    """A notebook a Windows tool rewrote: CRLF between the JSON's lines and inside every cell's text."""
    nb = _correct()
    for cell in nb.cells:
        cell.source = cell.source.replace("\n", "\r\n")
    return _raw(nb).replace(b"\n", b"\r\n")


def _hand_in(files: dict[str, bytes | Callable[[FullCourse], bytes]]) -> Callable[[FullCourse, str], None]:
    def hand_in(course: FullCourse, student: str) -> None:
        folder = _folder(course, student)
        for name, data in files.items():
            (folder / name).write_bytes(data(course) if callable(data) else data)

    return hand_in


def _empty(course: FullCourse, student: str) -> None:
    for path in _folder(course, student).iterdir():
        path.unlink()


def _other_assignment(course: FullCourse) -> bytes:
    return (course.root / "release" / OTHER_ASSIGNMENT[0] / OTHER_ASSIGNMENT[1]).read_bytes()


GOOD = {"a-correct": "correct", "z-sign-flipped": "sign_flipped"}
"""Ordinary students, first and last: graded exactly as in a class without the bad hand-ins."""

REPAIRED: dict[str, tuple[Callable[[FullCourse, str], None], str, str]] = {
    # student: (hand-in, what the student's feedback says, what the instructor's summary says)
    "b-bom": (_hand_in({NOTEBOOK: b"\xef\xbb\xbf" + _raw(_correct())}), "byte-order mark", "removed a byte-order mark"),
    "c-crlf": (_hand_in({NOTEBOOK: _crlf()}), "Windows line endings", "Windows line endings in"),
    "d-copy1": (_hand_in({"shallow_narrow-Copy1.ipynb": _raw(_correct())}),
                "was named “shallow_narrow-Copy1.ipynb”", "graded shallow_narrow-Copy1.ipynb as shallow_narrow.ipynb"),
    "e-pasted": (_hand_in({NOTEBOOK: _raw(_strip_metadata(keep_ids=False))}),
                 "grading marks (nbgrader metadata)", "restored the nbgrader metadata of"),
    "f-pasted-ids": (_hand_in({NOTEBOOK: _raw(_strip_metadata(keep_ids=True))}),
                     "recognised by its cell id", "(by cell id)"),
}  # fmt: skip

UNGRADABLE: dict[str, tuple[Callable[[FullCourse, str], None], str]] = {
    # student: (hand-in, what was wrong, as the feedback and the summary say it)
    "g-truncated": (_hand_in({NOTEBOOK: _raw(_correct())[: len(_raw(_correct())) // 2]}), "is cut off"),
    "h-two-copies": (_hand_in({"shallow_narrow-Copy1.ipynb": _raw(_correct()),
                               "shallow_narrow-Copy2.ipynb": _raw(_correct())}), "several notebooks could be it"),
    "i-empty": (_empty, "There is no notebook (.ipynb file) in your folder"),
    "j-other-assignment": (_hand_in({OTHER_ASSIGNMENT[1]: _other_assignment}),
                           f"is the notebook of assignment {OTHER_ASSIGNMENT[0]}"),
}  # fmt: skip


@dataclass
class Graded:
    """A class graded by one command, then its feedback generated."""

    command: str
    course: FullCourse
    output: str
    returncode: int
    submitted: dict[str, str]  # digest of every handed-in file, before grading


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def _run(course: FullCourse, command: str) -> subprocess.CompletedProcess[str]:
    return course.autograde() if command.startswith("nbgrader") else course.grade()


def _generate_feedback(course: FullCourse) -> None:
    # Not the ordinary students': theirs is tested elsewhere, and each plot costs time.
    done = course.run(sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force",
                      f"--CourseDirectory.student_id_exclude={','.join(GOOD)}")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> FullCourse:
    """The ordinary students alone, graded: what they must get in the class with the bad hand-ins too."""
    course = new_course(tmp_path_factory, "baseline")
    for student, answer in GOOD.items():
        course.submit(student, example_submission(ASSIGNMENT, NOTEBOOK, answer))
    done = course.run(sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--workers", "1")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return course


@pytest.fixture(scope="module", params=COMMANDS)
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    course = new_course(tmp_path_factory, "intake")
    for student, answer in GOOD.items():
        course.submit(student, example_submission(ASSIGNMENT, NOTEBOOK, answer))
    for student, (hand_in, *_) in {**REPAIRED, **UNGRADABLE}.items():
        hand_in(course, student)
    submitted = _digests(course.root / "submitted")
    done = _run(course, request.param)
    _generate_feedback(course)
    return Graded(request.param, course, done.stdout + done.stderr, done.returncode, submitted)


def _log(graded: Graded | str) -> str:
    return (graded if isinstance(graded, str) else graded.output)[-8000:]


def _feedback(graded: Graded, student: str, notebook: str = NOTEBOOK) -> str:
    path = graded.course.root / "feedback" / student / ASSIGNMENT / notebook.replace(".ipynb", ".html")
    assert path.exists(), (student, _log(graded))
    return html.unescape(path.read_text())


def _page_reason(page: str) -> str:
    """The "What was wrong" paragraph of an ungradable hand-in's feedback page."""
    found = re.search(r"<h2>What was wrong</h2>\s*<p>(.*?)</p>", page, re.S)
    assert found, page
    return found.group(1)


def test_what_was_handed_in_is_never_changed(graded: Graded) -> None:
    assert _digests(graded.course.root / "submitted") == graded.submitted


def test_the_other_students_are_graded_exactly_as_without_the_bad_hand_ins(
    graded: Graded, baseline: FullCourse
) -> None:
    for student in GOOD:
        assert graded.course.recorded(student) == baseline.recorded(student), (student, _log(graded))
        ours, theirs = graded.course.autograded(student), baseline.autograded(student)
        assert verdict_messages(ours) == verdict_messages(theirs)
        assert [c.source for c in ours.cells] == [c.source for c in theirs.cells]  # no notice, nothing added
    assert graded.course.recorded("a-correct") == FULL


@pytest.mark.parametrize("student", list(REPAIRED))
def test_a_hand_in_with_one_meaning_is_repaired_graded_and_says_so(graded: Graded, student: str) -> None:
    _, feedback, summary = REPAIRED[student]
    assert graded.course.recorded(student) == FULL, (student, _log(graded))
    nb = graded.course.autograded(student)
    assert nb.cells[0].get("id") == INTAKE_KEY and feedback in nb.cells[0].source.replace("\\", "")
    page = _feedback(graded, student)
    assert "About your submission." in page and feedback in page
    assert re.search(rf"REPAIRED {student}\b.*{re.escape(summary)}", graded.output), _log(graded)


def test_a_pasted_notebook_keeps_its_written_answer(graded: Graded) -> None:
    # The answer cell lost its metadata too: recognised by its place, it waits for the instructor,
    # instead of nbgrader putting an empty one back and scoring that.
    from nbgrader.api import Gradebook

    with Gradebook(graded.course.db_url) as gb:
        nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "e-pasted")
        think = next(g for g in nb.grades if g.name == "think_learning_rate")
        assert think.needs_manual_grade and think.auto_score is None
    answer = next(c for c in graded.course.autograded("e-pasted").cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "think_learning_rate")  # fmt: skip
    assert "Nothing moves" in answer.source


def test_a_renamed_notebook_s_feedback_reaches_the_student_under_the_name_handed_in(graded: Graded) -> None:
    # nbgrader's fetch_feedback looks for feedback by the names of the notebooks handed in.
    assert _feedback(graded, "d-copy1", "shallow_narrow-Copy1.ipynb") == _feedback(graded, "d-copy1")


@pytest.mark.parametrize("student", list(UNGRADABLE))
def test_a_hand_in_that_cannot_be_graded_is_explained_and_not_scored(graded: Graded, student: str) -> None:
    _, wrong = UNGRADABLE[student]
    page = _feedback(graded, student)
    reason = _page_reason(page)
    assert wrong in reason and "What to do" in page and "not a grade of 0" in page
    # The instructor's summary gives the same reason, and says where the student's feedback is.
    line = next((ln for ln in graded.output.splitlines() if f"UNGRADABLE {student}" in ln), "")
    assert " ".join(reason.split()) in line, (reason, _log(graded))
    assert f"feedback/{student}/{ASSIGNMENT}/shallow_narrow.html" in line
    # No score: nbgrader keeps the submission, its grades unset (waiting for the instructor), never 0.
    assert graded.course.recorded(student) in (None, dict.fromkeys(FULL_MARKS)), graded.course.recorded(student)
    assert not (graded.course.root / "autograded" / student / ASSIGNMENT / NOTEBOOK).exists()


def test_the_feedback_of_two_candidates_reaches_the_student_under_either_name(graded: Graded) -> None:
    page = _feedback(graded, "h-two-copies")
    for name in ("shallow_narrow-Copy1.ipynb", "shallow_narrow-Copy2.ipynb"):
        assert _feedback(graded, "h-two-copies", name) == page
        assert f"“{name}”" in _page_reason(page)


def test_the_command_exits_non_zero_and_its_summary_counts_them(graded: Graded) -> None:
    assert graded.returncode == 1, _log(graded)
    if graded.command.startswith("python"):
        assert f"graded {len(GOOD) + len(REPAIRED)}, failed 0, skipped 0 (unchanged), " \
               f"ungradable {len(UNGRADABLE)} (no score)" in graded.output, _log(graded)
    else:
        assert "Submissions repaired or not graded (each student's feedback says the same)" in graded.output
    # A regrade without --force looks at the ungradable ones again: they were not remembered as graded.
    if graded.command.startswith("python"):
        again = graded.course.grade()
        assert f"graded 0, failed 0, skipped {len(GOOD) + len(REPAIRED)} (unchanged), " \
               f"ungradable {len(UNGRADABLE)}" in again.stdout, again.stdout[-4000:]


def test_a_renamed_notebook_the_grader_fails_on_stays_unscored(tmp_path_factory: pytest.TempPathFactory) -> None:
    # nbgrader scores a notebook it thinks missing 0 before grading it; when the grader then fails
    # (here: no kernel), that 0 would stand as the student's.
    course = new_course(tmp_path_factory, "renamed-nokernel")
    REPAIRED["d-copy1"][0](course, "d-copy1")
    course.configure(NO_KERNEL)
    done = course.autograde()
    assert done.returncode != 0 and "could not start" in done.stdout + done.stderr, _log(done.stdout + done.stderr)
    assert course.recorded("d-copy1") in (None, dict.fromkeys(FULL_MARKS))


# -- the pieces, without a kernel ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release_course(tmp_path_factory: pytest.TempPathFactory):
    from nbgrader.coursedir import CourseDirectory

    from conftest import Course

    course = Course(tmp_path_factory.mktemp("pieces"))
    return course, CourseDirectory(root=str(course.root))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "repaired"),
    [(b"\xef\xbb\xbf", "byte-order mark"), (None, "UTF-16 text"), (b"", None)],
)
def test_the_reader_puts_right_an_encoding_a_windows_editor_chose(tmp_path: Path, data, repaired) -> None:
    text = nbformat.writes(_correct())
    raw = text.encode("utf-16") if data is None else data + text.encode()
    nb, repairs = read_notebook(_write(tmp_path / NOTEBOOK, raw))
    assert [c.source for c in nb.cells] == [c.source for c in _correct().cells]
    assert [repaired in r.feedback for r in repairs] == ([True] if repaired else [])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty (0 bytes)"),
        (b'{"cells": [{"cell_type": "code", "source": "x = ', "is cut off"),
        (b'{"cells": [}{ not json', "is damaged: it is not valid notebook JSON (Expecting value at line 1"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe", "it is not text (it looks like a zip archive)"),
        (b'{"hello": "world"}', "is not a Jupyter notebook"),
    ],
)
def test_the_reader_says_what_is_wrong_with_what_it_cannot_read(tmp_path: Path, data: bytes, reason: str) -> None:
    with pytest.raises(Ungradable) as refused:
        read_notebook(_write(tmp_path / NOTEBOOK, data))
    assert reason in refused.value.reason and "“shallow_narrow.ipynb”" in refused.value.reason
    assert refused.value.advice


def test_the_reader_follows_no_link(tmp_path: Path, release_course) -> None:
    # A link could point at the instructor's notebook, with the solutions in it.
    course, _ = release_course
    link = tmp_path / NOTEBOOK
    link.symlink_to(course.root / "source" / ASSIGNMENT / NOTEBOOK)
    with pytest.raises(Ungradable, match="is a link to another file"):
        read_notebook(link)


def _own_release(coursedir):
    return next(r for r in released_notebooks(coursedir) if r.assignment == ASSIGNMENT)


def test_lost_metadata_is_restored_only_where_the_cell_is_unmistakable(release_course) -> None:
    _, coursedir = release_course
    nb = _strip_metadata(keep_ids=False)
    solution = next(i for i, c in enumerate(_correct().cells) if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells.insert(solution + 1, new_code_cell("scratch = 1"))  # two code cells where the release has one
    nb.cells.append(new_markdown_cell("a note after the answer"))  # two markdown cells after the last anchor
    restored, missing = restore_lost_metadata(nb, _own_release(coursedir))
    # The tests are recognised by their unchanged content; the class and the answer are not guessed.
    assert set(restored) == set(FULL_MARKS) and set(restored.values()) == {"unchanged content"}
    assert set(missing) == {"shallow_narrow_class", "think_learning_rate"}
    assert sum("nbgrader" in c.metadata for c in nb.cells) == len(FULL_MARKS)


def test_a_metadata_copy_is_not_restored_twice(release_course) -> None:
    _, coursedir = release_course
    nb = _correct()
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_forward")
    copy = nbformat.from_dict(test)
    del copy.metadata["nbgrader"]
    copy["id"] = "copy-of-test"
    nb.cells.append(copy)
    assert restore_lost_metadata(nb, _own_release(coursedir)) == ({}, [])
    assert "nbgrader" not in nb.cells[-1].metadata


def test_a_folder_plan_grades_the_one_copy_and_explains_the_rest(release_course) -> None:
    course, coursedir = release_course
    folder = course.root / "submitted"
    _write(folder / "one" / ASSIGNMENT / "shallow_narrow-Copy1.ipynb", _raw(_correct()))
    _write(folder / "one" / ASSIGNMENT / "Untitled.ipynb", _raw(nbformat.v4.new_notebook()))
    plan = plan_folder(coursedir, "one", ASSIGNMENT)
    assert plan.sources == {"shallow_narrow": folder / "one" / ASSIGNMENT / "shallow_narrow-Copy1.ipynb"}
    assert plan.extra == ["Untitled.ipynb"] and not plan.ungradable

    _write(folder / "two" / ASSIGNMENT / "shallow_narrow-Copy1.ipynb", _raw(_correct()))
    _write(folder / "two" / ASSIGNMENT / "shallow_narrow-Copy2.ipynb", _raw(_correct())[:5000])
    plan = plan_folder(coursedir, "two", ASSIGNMENT)
    assert plan.sources == {} and "several notebooks could be it" in plan.ungradable["shallow_narrow"].reason
    assert "“shallow_narrow-Copy2.ipynb” is cut off" in plan.ungradable["shallow_narrow"].reason

    _write(folder / "three" / ASSIGNMENT / NOTEBOOK, b"{")  # its own name: read (and refused) later, not here
    _write(folder / "three" / ASSIGNMENT / "shallow_narrow-Copy1.ipynb", _raw(_correct()))
    plan = plan_folder(coursedir, "three", ASSIGNMENT)
    assert plan.sources == {"shallow_narrow": folder / "three" / ASSIGNMENT / NOTEBOOK}
    assert plan.extra == ["shallow_narrow-Copy1.ipynb"]
