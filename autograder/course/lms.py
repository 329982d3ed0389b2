"""Grading from a learning-management system (Canvas) without a hub: what the nbgrader plug-ins decide.

Without a JupyterHub, students hand their notebook in to the LMS, and the
instructor downloads every submission at once (Canvas: Assignment → "Download
Submissions") and runs stock ``nbgrader zip_collect``, then ``nbgrader
autograde`` and ``nbgrader export``.  nbgrader's plug-in points call the thin
classes in :mod:`autograder.nbgrader_plugins` (``CanvasCollector``,
``CanvasGradebookExport``, ``PerDayLatePenalty``); what they decide lives here, as plain
functions that know no nbgrader application:

- :func:`parse_hand_in` -- who handed in which file, from Canvas's file name
  ``lastnamefirstname[_LATE]_<user id>_<file id>_<the student's file name>``;
- :func:`notebook_by_name`, :func:`read_notebook`, :func:`identify` -- which of
  the assignment's notebooks a file is, even when Canvas (``-1``), the browser
  (`` (1)``) or JupyterLab (``-Copy1``) renamed it, and whether it belongs to
  another assignment altogether (by its nbgrader cells);
- :func:`plan_collection` -- for a whole download: per student and notebook the
  latest file (the highest Canvas file id: Canvas numbers uploads in order), and
  a clear message for every file left out (older, wrong assignment, unknown
  student, not a notebook) and for the ones collected as they are (empty);
- :func:`late_penalty` -- the per-day late penalty, capped;
- :func:`canvas_roster`, :func:`canvas_import_rows` -- a Canvas gradebook
  export as nbgrader's student roster, and grades as the CSV a Canvas gradebook
  imports (``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>``).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath

CANVAS_FILE_NAME = (
    r"(?P<name>.+?)_(?:(?P<late>(?i:late))_)?(?P<lms_user_id>\d+)_(?P<submission_id>\d+)_(?P<file_id>.+)"
)
"""Canvas's bulk-download name: ``smithjohn_12345_6789012_shallow_narrow.ipynb``.

The name part (Canvas's "lastnamefirstname"), ``LATE_`` when Canvas counts the
submission late, the student's Canvas user id, the id of the uploaded file (it
grows with every upload, so the highest is the latest) and the file name the
student uploaded.  Matched against the whole file name (or, for a file that came
out of a zip the student handed in, against the folder nbgrader unpacked it to).
A pattern for another LMS provides ``student_id`` (the course's own id) or
``lms_user_id``, and ``file_id``; ``submission_id``, ``timestamp``, ``late`` and
``name`` are optional.
"""

CANVAS_ID_COLUMNS = ("SIS User ID", "SIS Login ID", "ID")
"""The columns of a Canvas gradebook that can hold the course's own student ids (``ID`` is Canvas's user id)."""

POINTS_POSSIBLE = "    Points Possible"
"""The first cell of the row of a Canvas gradebook CSV that gives each assignment's points (as Canvas writes it)."""

# Decorations a file name picks up on its way: Canvas's "-1" for a second upload of the same name, a browser's
# " (1)", JupyterLab's "-Copy1" (File > Duplicate) and "Copy of ...".
_DECORATIONS = re.compile(r"(?:-copy\d*|_copy\d*| copy\d*|-\d+| \(\d+\))+$", re.IGNORECASE)


# -- who handed in what -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HandIn:
    """One file of an LMS download: who handed it in, and what the LMS says about it.

    Attributes
    ----------
    path : Path
        The file (in nbgrader's ``downloaded/<assignment>/extracted/``).
    shown : str
        How messages name it: its path below the extracted folder.
    file_name : str
        The name the student gave the file (Canvas keeps it at the end of its own name).
    student_id : str or None
        The course's student id, when the file name holds it.
    lms_user_id : str or None
        The LMS's user id (Canvas: ``ID`` in its gradebook, ``lms_user_id`` in nbgrader's).
    lms_name : str
        The LMS's name part ("smithjohn"), for messages.
    submission_id : int or None
        The LMS's id of the uploaded file: later uploads have higher ids.
    timestamp : datetime or None
        When it was handed in (UTC), when the file name says.
    late : bool
        The LMS marks it late.
    """

    path: Path
    shown: str
    file_name: str
    student_id: str | None = None
    lms_user_id: str | None = None
    lms_name: str = ""
    submission_id: int | None = None
    timestamp: datetime | None = None
    late: bool = False

    @property
    def who(self) -> str:
        """The hand-in's author for messages: the LMS user id, and the LMS's name for them when known."""
        return f"{self.lms_user_id} ({self.lms_name})" if self.lms_name else str(self.lms_user_id)


def parse_hand_in(path: Path, extracted: Path, pattern: str = CANVAS_FILE_NAME) -> HandIn | None:
    """Who handed in `path`, from its name (or from the folder a zip the student handed in was unpacked to).

    Parameters
    ----------
    path : Path
        A file in the extracted folder.
    extracted : Path
        nbgrader's extracted folder (names below it are matched).
    pattern : str
        The LMS's file name pattern (:data:`CANVAS_FILE_NAME`).

    Returns
    -------
    HandIn or None
        None when neither the name nor a folder above it matches.
    """
    relative = PurePath(path.relative_to(extracted)) if path.is_relative_to(extracted) else PurePath(path.name)
    regexp = re.compile(pattern, re.DOTALL)  # a file name may hold a line break
    # A student who handed in a zip: nbgrader unpacks it into a folder named after it, so the Canvas name is
    # on that folder and the file keeps its own name.
    candidates = [(relative.name, None), *((part, relative.name) for part in reversed(relative.parts[:-1]))]
    for name, inner in candidates:
        match = regexp.fullmatch(name)
        if match is None:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        if "file_id" not in groups or not ({"student_id", "lms_user_id"} & groups.keys()):
            raise ValueError(
                f"the file name pattern {pattern!r} must provide (?P<file_id>...) and (?P<student_id>...) "
                "or (?P<lms_user_id>...)"
            )
        return HandIn(
            path=path,
            shown=str(relative),
            file_name=inner if inner is not None else groups["file_id"],
            student_id=groups.get("student_id"),
            lms_user_id=groups.get("lms_user_id"),
            lms_name=groups.get("name", ""),
            submission_id=int(groups["submission_id"]) if groups.get("submission_id", "").isdigit() else None,
            timestamp=_utc(groups["timestamp"]) if groups.get("timestamp") else None,
            late=bool(groups.get("late")),
        )
    return None


def _utc(text: str) -> datetime:
    from nbgrader.utils import parse_utc

    return parse_utc(text)


# -- which notebook it is ------------------------------------------------------------------------------


def _key(stem: str) -> str:
    """A file name stem without decorations, case or punctuation: what is left of what it was called."""
    stem = _DECORATIONS.sub("", stem.strip())
    stem = re.sub(r"^copy of ", "", stem, flags=re.IGNORECASE)
    return re.sub(r"[^0-9a-z]", "", stem.lower())


def notebook_by_name(file_name: str, notebooks: Sequence[str], assignment: str) -> str | None:
    """The notebook of the assignment a file name stands for, or None.

    ``shallow_narrow.ipynb`` itself, or renamed on its way: ``shallow_narrow-1.ipynb``
    (Canvas, a second upload), ``shallow_narrow (1).ipynb`` (a browser),
    ``shallow_narrow-Copy1.ipynb`` (JupyterLab), ``Shallow Narrow.ipynb``, or named
    after the assignment (``01_shallow_narrow.ipynb``, when it has one notebook).

    Parameters
    ----------
    file_name : str
        The name the student gave the file.
    notebooks : sequence of str
        The assignment's notebooks (``shallow_narrow.ipynb``).
    assignment : str
        The assignment's id (``01_shallow_narrow``).
    """
    if not file_name.lower().endswith(".ipynb"):
        return None
    if file_name in notebooks:
        return file_name
    key = _key(file_name[: -len(".ipynb")])
    by_key = {_key(nb[: -len(".ipynb")]): nb for nb in notebooks}
    if key in by_key:
        return by_key[key]
    if len(notebooks) == 1 and key == _key(assignment):
        return notebooks[0]
    # "01_shallow_narrow_shallow_narrow.ipynb" and the like: the longest notebook name that ends it.
    ending = sorted((k for k in by_key if k and key.endswith(k)), key=len, reverse=True)
    return by_key[ending[0]] if ending else None


@dataclass(frozen=True)
class NotebookFile:
    """What a handed-in file holds, as far as collecting it is concerned.

    Attributes
    ----------
    problem : str or None
        Why there is nothing to grade in it ("empty (0 bytes)", "not a notebook: ...",
        "a notebook without cells"), or None.
    grade_ids : frozenset of str
        The ids of its nbgrader cells (what tells one assignment's notebook from another's).
    """

    problem: str | None
    grade_ids: frozenset[str] = frozenset()


def read_notebook(path: Path) -> NotebookFile:
    """Read a handed-in file just enough to say whether it holds a notebook, and which cells."""
    data = path.read_bytes()
    if not data.strip():
        return NotebookFile(f"empty ({len(data)} bytes)")
    try:
        nb = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        return NotebookFile(f"not a notebook (unreadable JSON: {error})")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return NotebookFile("not a notebook (no list of cells)")
    if not nb["cells"]:
        return NotebookFile("a notebook without cells")
    ids = set()
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return NotebookFile(None, frozenset(ids))


def identify(grade_ids: frozenset[str], released: Mapping[tuple[str, str], frozenset[str]]) -> tuple[str, str] | None:
    """The released notebook whose nbgrader cells a handed-in notebook shares most (Jaccard), or None.

    Parameters
    ----------
    grade_ids : frozenset of str
        The handed-in notebook's nbgrader cell ids.
    released : mapping
        ``(assignment, notebook)`` to the cell ids of that released notebook.

    Returns
    -------
    tuple of (str, str) or None
        None when it shares no cell with any, or when two notebooks share equally much.
    """
    scores = {
        key: len(grade_ids & ids) / len(grade_ids | ids) for key, ids in released.items() if grade_ids & ids
    }
    if not scores:
        return None
    best = max(scores.values())
    top = [key for key, score in scores.items() if score == best]
    return top[0] if len(top) == 1 else None


def released_notebooks(folders: Iterable[Path]) -> dict[tuple[str, str], frozenset[str]]:
    """The nbgrader cell ids of each notebook in course folders laid out ``<folder>/<assignment>/<notebook>``."""
    found: dict[tuple[str, str], frozenset[str]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*/*.ipynb")):
            key = (path.parent.name, path.name)
            notebook = read_notebook(path)
            if key not in found and notebook.problem is None and notebook.grade_ids:
                found[key] = notebook.grade_ids
    return found


# -- a whole download ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What to collect from one download, and what to tell the instructor.

    Attributes
    ----------
    collect : dict
        File to ``(student id, notebook name)`` it is collected as.
    messages : list of (str, str)
        ``(level, text)``: ``"info"`` or ``"warning"``, in the order they arose.
    hand_ins : dict
        File to who handed it in, for every file named as the LMS names submissions.
    left_out : dict
        The files not collected, by why ("older submissions", "of another assignment", ...).
    """

    collect: dict[Path, tuple[str, str]] = field(default_factory=dict)
    hand_ins: dict[Path, HandIn] = field(default_factory=dict)
    messages: list[tuple[str, str]] = field(default_factory=list)
    left_out: dict[str, list[Path]] = field(default_factory=dict)

    def leave_out(self, path: Path, kind: str, message: str) -> None:
        self.left_out.setdefault(kind, []).append(path)
        self.messages.append(("warning", message))

    def students(self) -> dict[str, dict[str, Path]]:
        """Per student id, the file collected as each notebook."""
        out: dict[str, dict[str, Path]] = {}
        for path, (student, notebook) in self.collect.items():
            out.setdefault(student, {})[notebook] = path
        return out

    def summary(self, assignment: str) -> str:
        kept = len(self.collect)
        parts = [f"{len(paths)} {kind}" for kind, paths in sorted(self.left_out.items())]
        left = f"; not collected: {', '.join(parts)} (each named above; the files stay where they are)" if parts else ""
        return (
            f"{assignment}: {kept} file{'s' if kept != 1 else ''} of {len(self.students())} "
            f"student{'s' if len(self.students()) != 1 else ''} to collect{left}"
        )


def _order(hand_in: HandIn) -> tuple:
    """Later hand-ins sort later: by time when known, then by the LMS's file id, then by Canvas's ``-N`` suffix."""
    suffix = re.search(r"-(\d+)(?:\.[^.]*)?$", hand_in.file_name)
    return (
        hand_in.timestamp or datetime.min,
        hand_in.submission_id if hand_in.submission_id is not None else -1,
        int(suffix.group(1)) if suffix else 0,
    )


def plan_collection(
    files: Iterable[Path],
    *,
    extracted: Path,
    assignment: str,
    released: Mapping[tuple[str, str], frozenset[str]],
    students_by_lms_id: Mapping[str, str],
    pattern: str = CANVAS_FILE_NAME,
    lms_id_is_student_id: bool = False,
    valid_ext: Sequence[str] = (".ipynb",),
) -> Plan:
    """Decide, for every file of a download, whether it is collected, as whose which notebook, or why not.

    Parameters
    ----------
    files : iterable of Path
        Every file in nbgrader's extracted folder.
    extracted : Path
        That folder.
    assignment : str
        The assignment being collected.
    released : mapping
        ``(assignment, notebook)`` to its nbgrader cell ids, for every assignment of the course
        (:func:`released_notebooks`): a notebook of another assignment is told apart by its cells.
    students_by_lms_id : mapping
        LMS user id to the course's student id (nbgrader's ``Student.lms_user_id``).
    pattern : str
        The LMS's file name pattern.
    lms_id_is_student_id : bool
        A student the gradebook does not know by LMS id is collected under the LMS id itself
        (instead of left out).
    valid_ext : sequence of str
        Extensions collected (nbgrader's ``FileNameCollectorPlugin.valid_ext``); other files,
        helper modules, screenshots, the zips themselves, are passed over without a message.
    """
    plan = Plan()
    notebooks = sorted(nb for (a, nb) in released if a == assignment)
    expected = ", ".join(notebooks) or "its notebooks"
    candidates: dict[tuple[str, str], list[tuple[HandIn, NotebookFile]]] = {}

    for path in sorted(files):
        if path.suffix not in valid_ext:
            continue
        hand_in = parse_hand_in(path, extracted, pattern)
        shown = str(path.relative_to(extracted)) if path.is_relative_to(extracted) else path.name
        if hand_in is None:
            plan.leave_out(path, "not named as the LMS names submissions",
                           f"{shown}: not an LMS submission name (expected {_pattern_hint(pattern)})")  # fmt: skip
            continue
        plan.hand_ins[path] = hand_in
        student = hand_in.student_id
        if student is None:
            student = students_by_lms_id.get(hand_in.lms_user_id or "")
            if student is None and lms_id_is_student_id:
                student = hand_in.lms_user_id
        if student is None:
            plan.leave_out(path, "of an unknown student", (
                f"{hand_in.shown}: LMS user {hand_in.who} is not a student of the gradebook. Add them with their "
                f"LMS id (`nbgrader db student add <student id> --lms-user-id={hand_in.lms_user_id}`, or import the "
                f"class roster: see README, 'Grading from an LMS'), then run zip_collect again"
            ))  # fmt: skip
            continue

        content = read_notebook(path)
        by_name = notebook_by_name(hand_in.file_name, notebooks, assignment)
        by_cells = identify(content.grade_ids, released) if content.problem is None else None
        if by_cells is not None and by_cells[0] != assignment:
            other, other_nb = by_cells
            plan.leave_out(path, "of another assignment", (
                f"{student}: {hand_in.shown} is the notebook of {other} ({other_nb}), not of {assignment}: "
                f"not collected. {student} handed in the wrong assignment: ask them for {expected}"
            ))  # fmt: skip
            continue
        notebook = by_cells[1] if by_cells is not None else by_name
        if notebook is None:
            other = next((a for (a, nb) in released if a != assignment and nb == hand_in.file_name), None)
            why = (
                f"is named as the notebook of {other}" if other
                else "is not one of its notebooks, by its name or by its cells"
            )  # fmt: skip
            kind = "of another assignment" if other else "not a notebook of the assignment"
            plan.leave_out(path, kind, (
                f"{student}: {hand_in.shown} {why} ({assignment} has {expected}): not collected. "
                f"Ask {student} for {expected}, or copy the file to submitted/{student}/{assignment}/ yourself"
            ))  # fmt: skip
            continue
        candidates.setdefault((student, notebook), []).append((hand_in, content))

    for (student, notebook), found in sorted(candidates.items()):
        found.sort(key=lambda pair: _order(pair[0]))
        latest, content = found[-1]
        older = found[:-1]
        # The same upload twice (two downloads unpacked side by side): one file, if they are the same.
        same_id = [h for h, _ in older if h.submission_id is not None and h.submission_id == latest.submission_id]
        if same_id:
            if any(h.path.read_bytes() != latest.path.read_bytes() for h in same_id):
                plan.messages.append(("warning", (
                    f"{student}: {', '.join(h.shown for h in [*same_id, latest])} carry the same LMS file id "
                    f"{latest.submission_id} but differ: none collected; copy the right one to "
                    f"submitted/{student}/{assignment}/{notebook} yourself"
                )))  # fmt: skip
                plan.left_out.setdefault("ambiguous", []).extend(h.path for h, _ in found)
                continue
            plan.messages.append(("info", f"{student}: {latest.shown} came in more than one download: collected once"))
            older = [(h, c) for h, c in older if h not in same_id]
        plan.collect[latest.path] = (student, notebook)
        if latest.file_name != notebook:
            plan.messages.append(("info", f"{student}: {latest.shown} is collected as {notebook}"))
        if older:
            plan.messages.append(("warning", (
                f"{student} handed in {notebook} {len(older) + 1} times: the latest, {latest.shown}, counts "
                f"(as nbgrader keeps a student's latest submission); not collected: "
                f"{', '.join(h.shown for h, _ in older)}"
            )))  # fmt: skip
            for h, _ in older:
                plan.left_out.setdefault("older submissions", []).append(h.path)
        if content.problem is not None:
            earlier = next((h for h, c in reversed(older) if c.problem is None), None)
            hint = (
                f"; an earlier file, {earlier.shown}, is not: to grade that one instead, copy it to "
                f"submitted/{student}/{assignment}/{notebook}" if earlier else ""
            )  # fmt: skip
            plan.messages.append(("warning", (
                f"{student}: {latest.shown} is {content.problem}: collected as handed in, so the submission is on "
                f"record, but there is nothing in it to grade{hint}"
            )))  # fmt: skip
        if latest.late and latest.timestamp is None:
            plan.messages.append(("warning", (
                f"{student}: the LMS marks {latest.shown} late, but its name holds no time, so nbgrader applies no "
                f"late penalty. To apply it, write the time it was handed in (SpeedGrader shows it) into "
                f"submitted/{student}/{assignment}/timestamp.txt (e.g. 2025-03-07 17:05:00 UTC) before autograding"
            )))  # fmt: skip
    return plan


def _pattern_hint(pattern: str) -> str:
    if pattern == CANVAS_FILE_NAME:
        return "Canvas's lastnamefirstname_<user id>_<file id>_<file name>"
    return f"a name matching {pattern!r}"


# -- late penalty ------------------------------------------------------------------------------------------


def late_penalty(
    score: float, seconds_late: float, *, percent_per_day: float, max_percent: float, grace_seconds: float = 0.0
) -> float:
    """The points a late submission loses: a percentage of its score per day begun, capped.

    Parameters
    ----------
    score : float
        The notebook's score.
    seconds_late : float
        How late it was handed in (nbgrader's ``total_seconds_late``).
    percent_per_day : float
        Percent of the score lost per day late; a day begun counts as a day (1 second late is one day).
    max_percent : float
        The most a submission loses, in percent of its score, however late.
    grace_seconds : float
        Lateness forgiven (clock differences, an upload that took a while): within it, nothing is lost;
        beyond it, days count from the due date.

    Returns
    -------
    float
        The penalty in points, between 0 and ``score * max_percent / 100`` (0 for a score of 0 or below).
    """
    if seconds_late <= grace_seconds or score <= 0:
        return 0.0
    days = math.ceil(seconds_late / 86400)
    percent = min(days * percent_per_day, max_percent, 100.0)
    return round(score * max(percent, 0.0) / 100, 6)


# -- the LMS's gradebook ---------------------------------------------------------------------------------


def canvas_roster(export: Path, id_column: str = "SIS User ID") -> list[dict[str, str]]:
    """The students of a Canvas gradebook export, as rows for ``nbgrader db student import``.

    Parameters
    ----------
    export : Path
        The CSV Canvas writes (Grades → Export): ``Student`` ("Last, First"), ``ID`` (Canvas's user
        id), ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment.
    id_column : str
        Which column holds the course's student ids (:data:`CANVAS_ID_COLUMNS`).

    Returns
    -------
    list of dict
        ``id``, ``first_name``, ``last_name``, ``lms_user_id`` per student (the test student Canvas
        adds for "Student View" and the points-possible row are left out).
    """
    if id_column not in CANVAS_ID_COLUMNS:
        raise ValueError(f"the student ids must come from one of {', '.join(CANVAS_ID_COLUMNS)}, not {id_column!r}")
    rows = []
    with export.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"Student", "ID", id_column} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{export}: not a Canvas gradebook export (no column {', '.join(sorted(missing))})")
        for row in reader:
            name = (row.get("Student") or "").strip()
            if "Points Possible" in name or name == "Student, Test" or not (row.get(id_column) or "").strip():
                continue
            last, _, first = name.partition(",")
            rows.append({
                "id": row[id_column].strip(), "first_name": first.strip(), "last_name": last.strip(),
                "lms_user_id": (row.get("ID") or "").strip(),
            })  # fmt: skip
    return rows


def write_roster(rows: Sequence[Mapping[str, str]], path: Path) -> Path:
    """Write roster rows as the CSV ``nbgrader db student import`` reads (its column names)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "first_name", "last_name", "lms_user_id"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@dataclass(frozen=True)
class GradeRow:
    """One student's grades for the Canvas import.

    Attributes
    ----------
    student_id, first_name, last_name, lms_user_id : str or None
        From nbgrader's gradebook.
    scores : dict
        Column to score; None leaves the cell blank (Canvas then keeps what it has).
    """

    student_id: str
    first_name: str | None
    last_name: str | None
    lms_user_id: str | None
    scores: Mapping[str, float | None]


def _number(value: float | None) -> str:
    return "" if value is None else format(round(value, 2), "g")


def canvas_import_rows(
    columns: Sequence[tuple[str, float]], students: Iterable[GradeRow], id_column: str = "SIS User ID"
) -> list[list[str]]:
    """The rows of a CSV a Canvas gradebook imports (Grades → Import).

    Parameters
    ----------
    columns : sequence of (str, float)
        Each assignment's column title (Canvas's own, ``"Shallow narrow (4567)"``, updates that
        assignment; a new title makes a new one) and its points possible.
    students : iterable of GradeRow
        One per student.
    id_column : str
        The column the course's student ids go in (:data:`CANVAS_ID_COLUMNS`); Canvas's user id
        (``lms_user_id``) goes in ``ID`` in any case.

    Returns
    -------
    list of list of str
        The header, the points-possible row, one row per student.
    """
    if id_column not in CANVAS_ID_COLUMNS:
        raise ValueError(f"the student ids go in one of {', '.join(CANVAS_ID_COLUMNS)}, not {id_column!r}")
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *(title for title, _ in columns)]
    rows = [header, [POINTS_POSSIBLE, "", "", "", "", *(_number(points) for _, points in columns)]]
    for student in students:
        name = ", ".join(x for x in (student.last_name, student.first_name) if x)
        ids = {"ID": student.lms_user_id or "", "SIS User ID": "", "SIS Login ID": ""}
        ids[id_column] = student.student_id
        rows.append([
            name, ids["ID"], ids["SIS User ID"], ids["SIS Login ID"], "",
            *(_number(student.scores.get(title)) for title, _ in columns),
        ])  # fmt: skip
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograder.course.lms roster EXPORT.csv ROSTER.csv [--id-column ...]``.

    Turns a Canvas gradebook export into the roster ``nbgrader db student import`` reads,
    with each student's Canvas user id (what ``zip_collect`` recognizes them by).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.course.lms", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    roster = commands.add_parser("roster", help="Canvas gradebook export -> nbgrader student roster")
    roster.add_argument("export", type=Path, help="the CSV of Canvas's Grades → Export")
    roster.add_argument("roster", type=Path, help="the CSV to write, for `nbgrader db student import`")
    roster.add_argument("--id-column", default="SIS User ID", choices=CANVAS_ID_COLUMNS,
                        help="the column that holds the course's student ids (default: SIS User ID)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        rows = canvas_roster(args.export, args.id_column)
    except (OSError, ValueError) as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    write_roster(rows, args.roster)
    print(f"{len(rows)} students written to {args.roster}; now run: nbgrader db student import {args.roster}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
