"""Grading from an LMS without a hub: Canvas's bulk download through stock ``nbgrader zip_collect``, hand-in
mishaps (twice, late, empty, the wrong assignment, renamed), the late penalty in ``nbgrader autograde`` and the
gradebook CSV Canvas imports from ``nbgrader export``.

The commands are stock nbgrader's, run in a scratch course whose ``nbgrader_config.py`` gets :data:`CONFIG`
(the lines README's "Grading from an LMS" gives).  The download is a zip the test builds with Canvas's names.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ASSIGNMENT, ROOT, Course, example_submission
from hypothesis import given
from hypothesis import strategies as st

from autograder.course import lms

CONFIG = '''
# Grading from an LMS without a hub (README: "Grading from an LMS").
c.ZipCollectApp.collector_plugin = "autograder.nbgrader_plugins.lms_collect.CanvasCollector"
c.AssignLatePenalties.plugin_class = "autograder.nbgrader_plugins.late_penalty.PerDayLatePenalty"
c.PerDayLatePenalty.percent_per_day = 10.0
c.PerDayLatePenalty.max_percent = 50.0
'''
EXPORTER = "--exporter=autograder.nbgrader_plugins.lms_export.CanvasGradebookExport"
NOTEBOOK = "shallow_narrow.ipynb"
DUE = "2025-03-07 17:00:00 UTC"
CANVAS_COLUMN = "Shallow narrow network (4567)"

# Canvas's gradebook export, as the roster: who is who (Canvas user id, the course's id in SIS User ID).
CANVAS_EXPORT = f"""Student,ID,SIS User ID,SIS Login ID,Section,{CANVAS_COLUMN},Current Score
    Points Possible,,,,,10.00,(read only)
"Smith, John",1001,s-smith,jsmith,Sec A,,
"Doe, Jane",1002,s-doe,jdoe,Sec A,,
"Roe, Eric",1003,s-roe,eroe,Sec A,,
"Empty, Eve",1004,s-empty,eempty,Sec B,,
"Wrong, Will",1005,s-will,wwrong,Sec B,,
"Lost, Lou",1006,s-lou,llost,Sec B,,
"Zip, Zoe",1007,s-zip,zzip,Sec B,,
"Quiet, Quinn",1008,s-quiet,qquiet,Sec B,,
"Copy, Cat",1009,s-copy,ccopy,Sec B,,
"Student, Test",9999,,,Sec A,,
"""


def notebook_bytes(student: str, assignment: str = ASSIGNMENT, notebook: str = NOTEBOOK) -> bytes:
    """An example student's notebook as a file's bytes."""
    return nbformat.writes(example_submission(assignment, notebook, student)).encode()


def canvas_zip(path: Path, files: dict[str, bytes]) -> Path:
    """A Canvas bulk download: one zip of files named lastnamefirstname[_LATE]_<user id>_<file id>_<name>."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def a_students_zip(files: dict[str, bytes]) -> bytes:
    """A zip a student handed in instead of the notebook."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def lms_course(root: Path) -> Course:
    """A scratch course with the LMS configuration and, as README says, Canvas's roster in its gradebook."""
    course = Course(root)
    with (course.root / "nbgrader_config.py").open("a") as fh:
        fh.write(CONFIG)
    (course.root / "canvas_export.csv").write_text(CANVAS_EXPORT)
    assert lms.main(["roster", str(course.root / "canvas_export.csv"), str(course.root / "roster.csv")]) == 0
    course.nbgrader("db", "student", "import", "roster.csv")
    return course


def extracted(course: Course) -> Path:
    return course.root / "downloaded" / ASSIGNMENT / "extracted"


def submitted(course: Course, student: str) -> Path:
    return course.root / "submitted" / student / ASSIGNMENT


# -- one download with every mishap, graded and exported --------------------------------------------------------

DOWNLOAD = {
    "smithjohn_1001_5001_shallow_narrow.ipynb": notebook_bytes("correct"),
    # Handed in twice: Canvas's second upload of the same name gets "-1"; the later file id counts.
    "doejane_1002_5002_shallow_narrow.ipynb": notebook_bytes("missing_factor_2"),
    "doejane_1002_5010_shallow_narrow-1.ipynb": notebook_bytes("correct"),
    # Late (Canvas says so in the name), and named after the assignment.
    "roeric_LATE_1003_5003_01_shallow_narrow.ipynb": notebook_bytes("correct"),
    "emptyeve_1004_5004_shallow_narrow.ipynb": b"",
    # The notebook of 03, renamed as 01's: told apart by its cells.
    "wrongwill_1005_5005_shallow_narrow.ipynb": (ROOT / "release" / "03_depth_and_init" / "depth_and_init.ipynb")
    .read_bytes(),
    # A fresh notebook, not the assignment's.
    "lostlou_1006_5006_Untitled.ipynb": nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print('hello')")])).encode(),  # fmt: skip
    # A zip instead of the notebook: nbgrader unpacks it into a folder named after it.
    "zipzoe_1007_5007_work.zip": a_students_zip({NOTEBOOK: notebook_bytes("correct"), "notes.txt": b"hi"}),
    # JupyterLab's File > Duplicate.
    "copycat_1009_5009_shallow_narrow-Copy1.ipynb": notebook_bytes("sign_flipped"),
    # Not in the roster.
    "strangersam_1999_5099_shallow_narrow.ipynb": notebook_bytes("correct"),
}
LATE = {"s-roe": "2025-03-09 09:00:00 UTC", "s-zip": "2025-03-17 09:00:00 UTC"}
"""Handed in 40 hours late (2 days begun: 20%) and 10 days late (100%, capped at 50%)."""


@pytest.fixture(scope="module")
def canvas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Course, str]:
    """The scratch course after ``nbgrader zip_collect`` of :data:`DOWNLOAD`; and what zip_collect said."""
    course = lms_course(tmp_path_factory.mktemp("lms"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:  # as `nbgrader db assignment add 01_shallow_narrow --duedate=...` does
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    canvas_zip(course.root / "downloaded" / ASSIGNMENT / "archive" / "submissions.zip", DOWNLOAD)
    return course, course.nbgrader("zip_collect", ASSIGNMENT)


@pytest.fixture(scope="module")
def graded(canvas: tuple[Course, str]) -> tuple[Course, subprocess.CompletedProcess[str]]:
    """The same, after the late students' times were written (as README says) and stock ``nbgrader autograde``."""
    course, _ = canvas
    for student, when in LATE.items():
        (submitted(course, student) / "timestamp.txt").write_text(when)
    # Not Course.autograde: the empty notebook may make nbgrader exit 1; what it says about it is asserted below.
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force"],
        cwd=course.root, env={**course.env, "PATH": os.pathsep.join([os.path.dirname(sys.executable),
                                                                   os.environ.get("PATH", "")])},
        capture_output=True, text=True,
    )  # fmt: skip
    return course, done


def test_each_student_gets_their_latest_notebook_under_the_courses_id(canvas: tuple[Course, str]) -> None:
    course, _ = canvas
    collected = {p.parent.parent.name for p in (course.root / "submitted").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}")}
    assert collected == {"s-smith", "s-doe", "s-roe", "s-empty", "s-zip", "s-copy"}
    assert (submitted(course, "s-doe") / NOTEBOOK).read_bytes() == DOWNLOAD["doejane_1002_5010_shallow_narrow-1.ipynb"]
    late = DOWNLOAD["roeric_LATE_1003_5003_01_shallow_narrow.ipynb"]
    assert (submitted(course, "s-roe") / NOTEBOOK).read_bytes() == late
    assert (submitted(course, "s-copy") / NOTEBOOK).read_bytes() == notebook_bytes("sign_flipped")
    assert (submitted(course, "s-zip") / NOTEBOOK).read_bytes() == notebook_bytes("correct")
    # Only the notebook is collected: one file each (no timestamp: Canvas's names hold no time).
    assert sorted(p.name for p in submitted(course, "s-smith").iterdir()) == [NOTEBOOK]


def test_every_file_left_out_is_named_with_the_reason_and_kept(canvas: tuple[Course, str]) -> None:
    course, said = canvas
    flat = " ".join(said.split())
    assert ("s-doe handed in shallow_narrow.ipynb 2 times: the latest, submissions/doejane_1002_5010_shallow_narrow-1"
            ".ipynb, counts") in flat and "not collected: submissions/doejane_1002_5002_shallow_narrow.ipynb" in flat
    assert "s-will: submissions/wrongwill_1005_5005_shallow_narrow.ipynb is the notebook of 03_depth_and_init" in flat
    assert "s-will handed in the wrong assignment" in flat
    assert "s-lou: submissions/lostlou_1006_5006_Untitled.ipynb is not one of its notebooks" in flat
    assert "LMS user 1999 (strangersam) is not a student of the gradebook" in flat
    assert "--lms-user-id=1999" in flat
    assert "s-empty: submissions/emptyeve_1004_5004_shallow_narrow.ipynb is empty (0 bytes)" in flat
    assert "s-roe: the LMS marks submissions/roeric_LATE_1003_5003_01_shallow_narrow.ipynb late" in flat
    assert "timestamp.txt" in flat
    assert "s-copy: submissions/copycat_1009_5009_shallow_narrow-Copy1.ipynb is collected as shallow_narrow.ipynb" \
        in flat
    assert "6 files of 6 students to collect; not collected: 1 not a notebook of the assignment, 1 of an unknown " \
           "student, 1 of another assignment, 1 older submissions" in flat  # fmt: skip
    # Nothing lost: every file of the download is still there, collected or not.
    for name, data in DOWNLOAD.items():
        assert (extracted(course) / "submissions" / name).read_bytes() == data
    for student in ("s-will", "s-lou", "1999", "strangersam"):
        assert not (course.root / "submitted" / student).exists()


def test_autograde_applies_the_late_penalty_per_day_capped(graded) -> None:
    course, done = graded
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        def penalty(student: str) -> tuple[float, float]:
            s = gb.find_submission(ASSIGNMENT, student)
            return s.score, s.late_submission_penalty

        assert penalty("s-smith") == (8.0, 0.0), done.stdout + done.stderr
        assert penalty("s-doe") == (8.0, 0.0)  # the latest upload: the correct one
        assert penalty("s-roe") == (8.0, pytest.approx(1.6))  # 40 hours late: 2 days, 20% of 8
        assert penalty("s-zip") == (8.0, pytest.approx(4.0))  # 10 days late: 100%, capped at 50%
        assert gb.find_submission(ASSIGNMENT, "s-copy").score < 8.0
    log = " ".join((done.stdout + done.stderr).split())
    assert "s-roe: handed in 40.0 hours late (2 day(s) begun): loses 1.6 of 8 points (10% a day, at most 50%)" in log


def test_an_empty_notebook_collected_is_on_record_and_named_when_grading(graded) -> None:
    # zip_collect keeps the empty file (its warning says so); nbgrader then records the submission and names the
    # student when it finds nothing to grade.  (Its feedback page is another plug-in's business: intake.py.)
    course, done = graded
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        assert gb.find_submission(ASSIGNMENT, "s-empty").notebooks  # on record: it shows in the formgrader
    log = done.stdout + done.stderr
    assert any("s-empty" in line and "ERROR" in line for line in log.splitlines()), log[-4000:]


@pytest.fixture(scope="module")
def exported(graded) -> tuple[list[list[str]], list[list[str]], str]:
    """Canvas CSVs from ``nbgrader export`` (and ``partial``); with two students' written answers graded."""
    course, _ = graded
    from nbgrader.api import Gradebook

    # Grade the written answer of two students, as the formgrader does.
    with Gradebook(course.db_url) as gb:
        for student in ("s-smith", "s-roe"):
            grade = gb.find_grade("think_learning_rate", "shallow_narrow", ASSIGNMENT, student)
            grade.manual_score = 2.0
            grade.needs_manual_grade = False
        gb.db.commit()
    titles = f'--CanvasGradebookExport.assignment_columns={{"{ASSIGNMENT}": "{CANVAS_COLUMN}"}}'
    said = course.nbgrader("export", EXPORTER, "--to=canvas.csv", titles)
    # The same plug-in with `partial`, in this process (as `nbgrader export` runs it; a second command costs 4 s).
    from autograder.nbgrader_plugins.lms_export import CanvasGradebookExport

    with Gradebook(course.db_url) as gb:
        CanvasGradebookExport(to=str(course.root / "partial.csv"), partial=True).export(gb)

    def rows(name: str) -> list[list[str]]:
        with (course.root / name).open(newline="") as fh:
            return list(csv.reader(fh))

    return rows("canvas.csv"), rows("partial.csv"), said


def test_export_writes_what_a_canvas_gradebook_imports(exported) -> None:
    rows, partial, said = exported
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CANVAS_COLUMN]
    assert rows[1] == [lms.POINTS_POSSIBLE, "", "", "", "", "10"]
    by_id = {row[2]: row for row in rows[2:]}
    assert by_id["s-smith"] == ["Smith, John", "1001", "s-smith", "", "", "10"]
    # Late: 20% of the 8 points it had when autograded (the written answer was graded after).
    assert by_id["s-roe"][5] == "8.4"
    # Written answers not graded yet: blank (Canvas keeps what it has), and the log says whose.
    assert by_id["s-doe"][5] == "" and "s-doe (01_shallow_narrow)" in " ".join(said.split())
    assert by_id["s-quiet"] == ["Quiet, Quinn", "1008", "s-quiet", "", "", ""]  # handed nothing in
    assert "s-will" in by_id and "9999" not in {row[1] for row in rows}  # Canvas's test student is not a student
    partial_by_id = {row[2]: row for row in partial[2:]}
    assert partial[0][5] == ASSIGNMENT  # no Canvas title configured: the import makes a new assignment
    assert partial_by_id["s-doe"][5] == "8" and partial_by_id["s-zip"][5] == "4"


# -- downloads again: nothing replaced silently ----------------------------------------------------------------


def test_a_later_download_replaces_only_with_force_and_keeps_the_earlier(tmp_path: Path) -> None:
    (tmp_path / "course").mkdir()
    course = lms_course(tmp_path / "course")
    archive = course.root / "downloaded" / ASSIGNMENT / "archive" / "submissions.zip"
    by_hand = notebook_bytes("missing_factor_2")
    submitted(course, "s-doe").mkdir(parents=True)
    (submitted(course, "s-doe") / NOTEBOOK).write_bytes(by_hand)  # collected by hand before
    first = {"smithjohn_1001_5001_shallow_narrow.ipynb": notebook_bytes("correct"),
             "doejane_1002_5002_shallow_narrow.ipynb": notebook_bytes("sign_flipped")}  # fmt: skip
    canvas_zip(archive, first)

    # Without --force: nothing at all is collected, and the message says whose work would be replaced.
    with pytest.raises(RuntimeError) as refused:
        course.nbgrader("zip_collect", ASSIGNMENT)
    message = " ".join(str(refused.value).split())
    assert "1 student(s) already have a different submission collected in submitted/: s-doe. Nothing was " \
           "collected. Run again with --force" in message  # fmt: skip
    assert (submitted(course, "s-doe") / NOTEBOOK).read_bytes() == by_hand
    assert not submitted(course, "s-smith").exists()

    course.nbgrader("zip_collect", ASSIGNMENT, "--force")
    assert (submitted(course, "s-doe") / NOTEBOOK).read_bytes() == first["doejane_1002_5002_shallow_narrow.ipynb"]
    replaced = course.root / "downloaded" / ASSIGNMENT / "replaced" / "s-doe"
    assert [(p / NOTEBOOK).read_bytes() for p in replaced.iterdir()] == [by_hand]
    (submitted(course, "s-smith") / "timestamp.txt").write_text("2025-03-07 16:00:00 UTC")  # written by hand

    # Canvas's next download holds everyone's latest: John's unchanged, Jane's new.
    archive.unlink()
    canvas_zip(archive, {**first, "doejane_1002_5020_shallow_narrow.ipynb": notebook_bytes("correct")})
    said = " ".join(course.nbgrader("zip_collect", ASSIGNMENT, "--force").split())
    assert "s-smith: already collected, unchanged: left as it is" in said
    assert (submitted(course, "s-smith") / "timestamp.txt").read_text() == "2025-03-07 16:00:00 UTC"
    assert (submitted(course, "s-doe") / NOTEBOOK).read_bytes() == notebook_bytes("correct")
    kept = sorted((p / NOTEBOOK).read_bytes() for p in replaced.iterdir())
    assert kept == sorted([by_hand, first["doejane_1002_5002_shallow_narrow.ipynb"]])
    assert "s-doe: replacing the submission collected earlier with this download's; the earlier one is kept" in said


# -- the pieces ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("smithjohn_12345_6789012_shallow_narrow.ipynb", ("12345", 6789012, False, "shallow_narrow.ipynb")),
        ("smithjohn_LATE_12345_6789012_01_shallow_narrow.ipynb", ("12345", 6789012, True, "01_shallow_narrow.ipynb")),
        ("smithjohn_late_12345_6789012_shallow_narrow-1.ipynb", ("12345", 6789012, True, "shallow_narrow-1.ipynb")),
        ("vanderberg_ann_12_34_my_2_files_5.ipynb", ("12", 34, False, "my_2_files_5.ipynb")),
    ],
)
def test_canvas_names_are_read(name: str, expected: tuple) -> None:
    hand_in = lms.parse_hand_in(Path("/d") / name, Path("/d"))
    assert hand_in is not None
    assert (hand_in.lms_user_id, hand_in.submission_id, hand_in.late, hand_in.file_name) == expected


def test_a_name_that_is_not_canvas_s_is_not_read() -> None:
    assert lms.parse_hand_in(Path("/d/shallow_narrow.ipynb"), Path("/d")) is None
    with pytest.raises(ValueError, match="must provide"):
        lms.parse_hand_in(Path("/d/a_b.ipynb"), Path("/d"), pattern=r"(?P<x>.+)_(?P<file_id>.+)")


@given(
    name=st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
    user=st.integers(1, 10**9),
    upload=st.integers(1, 10**12),
    late=st.booleans(),
    stem=st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1, max_size=30),
)
def test_any_canvas_name_gives_back_its_parts(name: str, user: int, upload: int, late: bool, stem: str) -> None:
    file_name = f"{stem}.ipynb"
    built = f"{name}_{'LATE_' if late else ''}{user}_{upload}_{file_name}"
    hand_in = lms.parse_hand_in(Path("/d") / built, Path("/d"))
    assert hand_in is not None
    assert (hand_in.lms_name, hand_in.lms_user_id, hand_in.submission_id, hand_in.late, hand_in.file_name) == (
        name, str(user), upload, late, file_name)  # fmt: skip


@pytest.mark.parametrize(
    "file_name",
    ["shallow_narrow.ipynb", "shallow_narrow-1.ipynb", "shallow_narrow-12.ipynb", "shallow_narrow (1).ipynb",
     "shallow_narrow-Copy1.ipynb", "Copy of shallow_narrow.ipynb", "Shallow Narrow.ipynb", "01_shallow_narrow.ipynb",
     "01_shallow_narrow_shallow_narrow.ipynb"],
)  # fmt: skip
def test_a_renamed_notebook_is_recognized(file_name: str) -> None:
    assert lms.notebook_by_name(file_name, ["shallow_narrow.ipynb"], ASSIGNMENT) == NOTEBOOK


@pytest.mark.parametrize("file_name", ["depth_and_init.ipynb", "Untitled.ipynb", "shallow_narrow.py", "narrow.ipynb"])
def test_another_file_is_not_taken_for_the_notebook(file_name: str) -> None:
    assert lms.notebook_by_name(file_name, ["shallow_narrow.ipynb"], ASSIGNMENT) is None


def test_a_notebook_is_told_by_its_cells() -> None:
    released = lms.released_notebooks([ROOT / "release"])
    assert set(released) == {(ASSIGNMENT, NOTEBOOK), ("02_learning_landscape", "learning_landscape.ipynb"),
                             ("03_depth_and_init", "depth_and_init.ipynb")}  # fmt: skip
    # 01 and 03 share three cell ids; each is still told apart, also with cells deleted.
    assert lms.identify(released[("03_depth_and_init", "depth_and_init.ipynb")], released)[0] == "03_depth_and_init"
    ours = released[(ASSIGNMENT, NOTEBOOK)]
    assert lms.identify(ours - {"test_seed_run", "think_learning_rate"}, released) == (ASSIGNMENT, NOTEBOOK)
    assert lms.identify(frozenset({"something_else"}), released) is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", "empty (0 bytes)"), (b"  \n", "empty (3 bytes)"), (b"{not json", "not a notebook (unreadable JSON"),
     (b'{"cells": []}', "a notebook without cells"), (b"[1, 2]", "not a notebook (no list of cells)")],
)  # fmt: skip
def test_an_empty_or_broken_file_says_what_is_wrong(tmp_path: Path, data: bytes, problem: str) -> None:
    path = tmp_path / "x.ipynb"
    path.write_bytes(data)
    assert lms.read_notebook(path).problem.startswith(problem)


def test_the_latest_of_three_uploads_counts_even_when_empty(tmp_path: Path) -> None:
    files = {"a_7_100_shallow_narrow.ipynb": notebook_bytes("correct"), "a_7_300_shallow_narrow-2.ipynb": b"",
             "a_7_200_shallow_narrow-1.ipynb": notebook_bytes("sign_flipped")}  # fmt: skip
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    plan = lms.plan_collection(
        sorted(tmp_path.iterdir()), extracted=tmp_path, assignment=ASSIGNMENT,
        released=lms.released_notebooks([ROOT / "release"]), students_by_lms_id={"7": "s7"},
    )  # fmt: skip
    assert plan.collect == {tmp_path / "a_7_300_shallow_narrow-2.ipynb": ("s7", NOTEBOOK)}
    assert sorted(p.name for p in plan.left_out["older submissions"]) == [
        "a_7_100_shallow_narrow.ipynb", "a_7_200_shallow_narrow-1.ipynb"]  # fmt: skip
    text = " ".join(message for _, message in plan.messages)
    assert "is empty (0 bytes)" in text and "an earlier file, a_7_200_shallow_narrow-1.ipynb, is not" in text


@given(
    score=st.floats(0, 100),
    hours=st.floats(0, 24 * 60),
    more=st.floats(0, 24 * 60),
    per_day=st.floats(0, 100),
    cap=st.floats(0, 100),
    grace=st.floats(0, 120),
)
def test_the_late_penalty_grows_with_lateness_up_to_its_cap(
    score: float, hours: float, more: float, per_day: float, cap: float, grace: float
) -> None:
    def penalty(h: float) -> float:
        return lms.late_penalty(score, h * 3600, percent_per_day=per_day, max_percent=cap, grace_seconds=grace * 60)

    assert 0 <= penalty(hours) <= penalty(hours + more) <= score * cap / 100 + 1e-6
    if hours * 60 <= grace:
        assert penalty(hours) == 0


def test_the_late_penalty_counts_days_begun() -> None:
    def penalty(seconds: float, grace: float = 0) -> float:
        return lms.late_penalty(8.0, seconds, percent_per_day=10, max_percent=50, grace_seconds=grace)

    assert [penalty(0), penalty(1), penalty(86400), penalty(86401), penalty(40 * 3600)] == [0, 0.8, 0.8, 1.6, 1.6]
    assert penalty(30 * 86400) == 4.0
    assert penalty(600, grace=900) == 0 and penalty(1000, grace=900) == 0.8


def test_the_roster_comes_from_canvas_s_export(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("\ufeff" + CANVAS_EXPORT)  # Canvas writes a byte-order mark
    rows = lms.canvas_roster(export)
    assert rows[0] == {"id": "s-smith", "first_name": "John", "last_name": "Smith", "lms_user_id": "1001"}
    assert len(rows) == 9 and all(r["id"] for r in rows)
    assert lms.canvas_roster(export, "SIS Login ID")[0]["id"] == "jsmith"
    with pytest.raises(ValueError, match="not a Canvas gradebook export"):
        (tmp_path / "other.csv").write_text("id,first_name\ns1,A\n")
        lms.canvas_roster(tmp_path / "other.csv")


def test_the_import_rows_put_each_id_where_canvas_looks() -> None:
    students = [lms.GradeRow("jsmith", "John", "Smith", "1001", {"A (1)": 7.25}),
                lms.GradeRow("x", None, None, None, {"A (1)": None})]  # fmt: skip
    assert lms.canvas_import_rows([("A (1)", 10.0)], students, "SIS Login ID") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A (1)"],
        [lms.POINTS_POSSIBLE, "", "", "", "", "10"],
        ["Smith, John", "1001", "", "jsmith", "", "7.25"],
        ["", "", "", "x", "", ""],
    ]
