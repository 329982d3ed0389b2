"""Every submission gets feedback: what a student handed in is read leniently, recognised, and repaired or explained.

Stock nbgrader records 0 and says nothing to the student when it cannot read or
place a notebook: a byte-order mark from a Windows editor (not JSON to it), the
notebook saved under another name (JupyterLab's ``-Copy1``: nbgrader skips it as
unknown), cells pasted into a fresh notebook (their nbgrader metadata is gone, and
``OverwriteCells`` stops at the first missing test).  Here, inside nbgrader's own
flow and without touching ``submitted/`` (the record of what was handed in; every
repair is made to the copy in memory that nbgrader sanitizes, grades and writes to
``autograded/``):

- **graded after a repair**, where the intent is unambiguous, and the feedback says
  what was repaired (a notice at the top of the graded notebook): a byte-order mark
  or a UTF-16 file, Windows line endings inside cells, exactly one notebook of this
  assignment in the folder under another name, cells whose nbgrader metadata was
  lost but whose cell id, unchanged content or unambiguous place matches the release;
- **not graded, and told why**: a notebook that is cut off or not a notebook, several
  notebooks that could be it, no notebook, another assignment's notebook.  The
  student gets a feedback page in ``feedback/<student>/<assignment>/`` saying what
  was wrong and what to do, the instructor's log (and, for ``nbgrader autograde``,
  a summary at its end) says the same, and nothing is scored: nbgrader keeps the
  submission without a score (its grades wait for the instructor), never a 0 as if
  the student's code had failed.

Wiring (``nbgrader_config.py``), all public nbgrader configuration:

- :func:`before_autograde` -- ``c.Autograde.pre_convert_hook``: per submission folder,
  which file is each of the assignment's notebooks (:func:`plan_folder`);
- :class:`LenientExporter` -- ``c.Autograde.exporter_class``: reads a submitted
  notebook leniently (:func:`read_notebook`), or the file handed in under another name;
- :class:`RecogniseSubmission` -- the first of ``c.Autograde.sanitize_preprocessors``
  after ``ClearOutput``: recognises the notebook, restores lost metadata, writes the notice;
- :func:`after_feedback` -- ``c.GenerateFeedback.post_convert_hook``: the feedback of a
  renamed notebook also under the name the student handed in, so that nbgrader's
  exchange (``release_feedback`` / ``fetch_feedback``, which go by that name) delivers it.

``python -m autograder grade`` (:mod:`autograder.batch.parallel`) uses the same
functions, so both commands grade, repair and explain alike.
"""

from __future__ import annotations

import atexit
import bisect
import codecs
import copy
import glob
import html
import json
import logging
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors.base import NbGraderPreprocessor

from .. import upstream

INTAKE_KEY = "autograder_intake"
"""Resources key under which the repairs made to a submission travel; also the id of the notice cell."""

# -- what was wrong, what was repaired -------------------------------------------------------------


class Ungradable(Exception):
    """One notebook of a submission cannot be graded: what was wrong with it, and what the student should do.

    Parameters
    ----------
    reason : str
        What was wrong, for the student and the instructor alike (plain text).
    advice : str
        What the student should do.
    """

    def __init__(self, reason: str, advice: str) -> None:
        super().__init__(reason)
        self.reason, self.advice = reason, advice
        self.feedback: Path | None = None  # the student's feedback page, once written

    def where(self, root: str | Path) -> str:
        """Where the student's feedback page is: relative to `root` when inside it, or that none was written."""
        if self.feedback is None:
            return "none written"
        try:
            return str(self.feedback.relative_to(root))
        except ValueError:
            return str(self.feedback)


@dataclass(frozen=True)
class Repair:
    """Something the grader put right before grading: a short line for the instructor, a sentence for the student."""

    summary: str
    feedback: str


RESAVE = (
    "Open your notebook in Jupyter. If it opens, save it there (File > Save Notebook) and hand it in again. If it "
    "does not open, use its last checkpoint (File > Revert Notebook to Checkpoint) or another copy of your work, and "
    "hand that in. Ask your instructor if you cannot."
)
"""What to do about a notebook file that cannot be read."""


def _quoted(name: str) -> str:
    return f"“{name}”"


# -- reading a file leniently ---------------------------------------------------------------------------

_BYTE_ORDER_MARKS = [  # UTF-32's marks first: UTF-32-LE's begins with UTF-16-LE's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 text"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 text"),
    (codecs.BOM_UTF8, "utf-8-sig", None),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 text"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 text"),
]


def read_notebook(path: Path) -> tuple[NotebookNode, list[Repair]]:
    """Read a handed-in notebook, putting right what has only one meaning; raise :class:`Ungradable` otherwise.

    Put right: a byte-order mark (Windows editors add one; JSON, and so Jupyter,
    refuse it), a file saved as UTF-16 or UTF-32, Windows line endings (CR LF) inside
    a cell's text.  Line endings between the JSON's own lines need nothing: JSON
    reads them as spaces.

    Parameters
    ----------
    path : Path
        The notebook file.  A symbolic link is refused: it could point at any file
        the grader can read, such as the instructor's notebook.

    Returns
    -------
    NotebookNode, list of Repair
        The notebook (nbformat 4), and what was put right.
    """
    name = _quoted(path.name)
    if path.is_symlink():
        raise Ungradable(f"{name} is a link to another file, not a notebook file.",
                         "Hand in the notebook file itself (the .ipynb you worked in), not a link to it.")
    data = path.read_bytes()
    if not data.strip():
        raise Ungradable(f"{name} is empty ({len(data)} bytes): nothing was saved in it.", RESAVE)
    repairs = []
    encoding = "utf-8"
    for mark, codec, kind in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            encoding = codec
            if kind is None:
                repairs.append(Repair("removed a byte-order mark", (
                    f"Your notebook file {name} began with an invisible byte-order mark (some Windows editors add "
                    "one), which Jupyter cannot read. It was removed and your notebook graded as it is.")))
            else:
                repairs.append(Repair(f"read as {kind}", (
                    f"Your notebook file {name} was saved as {kind} (some Windows editors do this), which Jupyter "
                    "cannot read. It was read as such and your notebook graded as it is.")))
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        kind = " (it looks like a zip archive)" if data.startswith(b"PK\x03\x04") else ""
        raise Ungradable(f"{name} is not a notebook: it is not text{kind}.", RESAVE) from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except nbformat.reader.NotJSONError:
        raise Ungradable(_json_problem(name, text), RESAVE) from None
    except Exception as exc:  # noqa: BLE001 - any other way of not being a notebook
        raise Ungradable(f"{name} is not a Jupyter notebook ({type(exc).__name__}: {_shorten(str(exc))}).",
                         RESAVE) from None
    crlf = 0
    for cell in nb.cells:
        if "\r" in cell.get("source", ""):
            cell.source = cell.source.replace("\r\n", "\n").replace("\r", "\n")
            crlf += 1
    if crlf:
        repairs.append(Repair(f"Windows line endings in {crlf} cells", (
            f"{crlf} cells of {name} had Windows line endings (CR LF) in their text; they were turned into plain "
            "line endings before grading. Nothing else in them was changed.")))
    return nb, repairs


def _json_problem(name: str, text: str) -> str:
    """Why `text` is not JSON, in words: cut off (an interrupted save or upload), or where it goes wrong."""
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        if err.msg.startswith("Unterminated string") or not text[err.pos:].strip():
            return (f"{name} is cut off: the file stops in the middle of the notebook (after {len(text):,} "
                    "characters), as happens when a save or an upload is interrupted.")
        return f"{name} is damaged: it is not valid notebook JSON ({err.msg} at line {err.lineno}, column {err.colno})."
    return f"{name} could not be read as a notebook."


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- recognising a notebook: which released notebook is it? -----------------------------------------------


@dataclass(frozen=True, eq=False)
class Released:
    """A notebook as it was released to students."""

    assignment: str
    name: str  # the notebook id: its file name without .ipynb
    nb: NotebookNode

    @property
    def file(self) -> str:
        return f"{self.name}.ipynb"


_RELEASE_CACHE: dict[str, tuple[int, Released]] = {}


def released_notebooks(coursedir: CourseDirectory) -> list[Released]:
    """Every released notebook of the course (``release/<assignment>/*.ipynb``), read once per change."""
    found = []
    pattern = os.path.join(coursedir.format_path(coursedir.release_directory, ".", "*"), "*.ipynb")
    for path in sorted(glob.glob(pattern)):
        stamp = os.stat(path).st_mtime_ns
        cached = _RELEASE_CACHE.get(path)
        if cached is None or cached[0] != stamp:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001 - an instructor's broken file: recognise without it
                continue
            cached = (stamp, Released(Path(path).parent.name, Path(path).stem, nb))
            _RELEASE_CACHE[path] = cached
        found.append(cached[1])
    return found


def expected_notebooks(coursedir: CourseDirectory, assignment: str) -> list[str]:
    """The notebook ids of an assignment: its released notebooks (else its source notebooks)."""
    for step in (coursedir.release_directory, coursedir.source_directory):
        folder = Path(coursedir.format_path(step, ".", assignment))
        names = sorted(p.stem for p in folder.glob("*.ipynb"))
        if names:
            return names
    return []


def _grade_id(cell: NotebookNode) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _content(cell: NotebookNode) -> tuple[str, str] | None:
    source = cell.get("source", "")
    return (cell.cell_type, source.strip()) if isinstance(source, str) and source.strip() else None


def _anchors(nb: NotebookNode, release: Released) -> list[tuple[int, int, str]]:
    """Cells of `nb` that are unmistakably cells of the release: ``(index, release index, how)``, in order.

    A cell is one of the release's by its nbgrader grade id, by its cell id, or by
    its content when that content occurs exactly once in each.  Matches that cross
    (a cell moved above another) are dropped, keeping the most in order.
    """
    cells = release.nb.cells
    by_grade = {g: j for j, c in enumerate(cells) if (g := _grade_id(c))}
    by_id = {c.get("id"): j for j, c in enumerate(cells) if c.get("id")}
    released = Counter(_content(c) for c in cells)
    submitted = Counter(_content(c) for c in nb.cells)
    by_content = {k: j for j, c in enumerate(cells) if (k := _content(c)) and released[k] == 1}
    pairs = []
    for i, cell in enumerate(nb.cells):
        grade_id, cell_id, content = _grade_id(cell), cell.get("id"), _content(cell)
        if grade_id in by_grade:
            pairs.append((i, by_grade[grade_id], "grade id"))
        elif cell_id in by_id and cells[by_id[cell_id]].cell_type == cell.cell_type:
            pairs.append((i, by_id[cell_id], "cell id"))
        elif content in by_content and submitted[content] == 1:
            pairs.append((i, by_content[content], "unchanged content"))
    return _longest_in_order(pairs)


def _longest_in_order(pairs: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The longest subsequence of `pairs` (sorted by their first item) whose second items increase."""
    tails: list[int] = []  # tails[k]: the smallest release index ending an in-order run of length k + 1
    ends: list[int] = []  # ends[k]: the position in `pairs` of that run's last pair
    before: list[int] = [-1] * len(pairs)
    for n, (_, j, _) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        before[n] = ends[k - 1] if k else -1
        if k == len(tails):
            tails.append(j)
            ends.append(n)
        else:
            tails[k], ends[k] = j, n
    run, n = [], ends[-1] if ends else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


def _placed(nb: NotebookNode, release: Released, anchors: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Cells matched by their place: between two anchors, the only cell of its kind in the release and in `nb`."""
    bounds = [(-1, -1), *((i, j) for i, j, _ in anchors), (len(nb.cells), len(release.nb.cells))]
    found = []
    for (a_i, a_j), (b_i, b_j) in zip(bounds, bounds[1:]):
        for kind in ("code", "markdown", "raw"):
            mine = [i for i in range(a_i + 1, b_i) if nb.cells[i].cell_type == kind]
            theirs = [j for j in range(a_j + 1, b_j) if release.nb.cells[j].cell_type == kind]
            if len(mine) == 1 and len(theirs) == 1:
                found.append((mine[0], theirs[0], "place"))
    return found


MIN_MATCHED_CELLS = 2
"""Cells a notebook must share with a released notebook (and more than with any other) to be recognised as it."""


def recognise(nb: NotebookNode, releases: Iterable[Released]) -> Released | None:
    """The released notebook `nb` is a copy of, or None when no one is clearly it."""
    ranked = sorted(((len(_anchors(nb, r)), n, r) for n, r in enumerate(releases)), key=lambda t: (-t[0], t[1]))
    if not ranked or ranked[0][0] < MIN_MATCHED_CELLS or (len(ranked) > 1 and ranked[1][0] == ranked[0][0]):
        return None
    return ranked[0][2]


def restore_lost_metadata(nb: NotebookNode, release: Released) -> tuple[dict[str, str], list[str]]:
    """Give cells that lost their nbgrader metadata the release's, where the cell is unmistakably that one.

    A release cell with nbgrader metadata whose grade id is nowhere in `nb` is
    looked for among the cells without nbgrader metadata: by cell id, by unchanged
    content, or by place (the only cell of its kind between two recognised cells,
    as in the release).  A cell that was deleted, or cannot be told apart from
    others, stays missing (``OverwriteCells`` puts missing tests back).

    Returns
    -------
    dict, list
        The grade ids restored, with how each was recognised; the grade ids still missing.
    """
    present = {g for c in nb.cells if (g := _grade_id(c))}
    wanted = {j: g for j, c in enumerate(release.nb.cells) if (g := _grade_id(c)) and g not in present}
    if not wanted:
        return {}, []
    anchors = _anchors(nb, release)
    restored: dict[str, str] = {}
    for i, j, how in anchors + _placed(nb, release, anchors):
        cell = nb.cells[i]
        if j in wanted and wanted[j] not in restored and _grade_id(cell) is None:
            cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(release.nb.cells[j].metadata["nbgrader"])
            restored[wanted[j]] = how
    return restored, [g for g in wanted.values() if g not in restored]


# -- a submission folder: which file is which notebook ------------------------------------------------------


@dataclass
class Plan:
    """What one submission folder holds, and what becomes of each of the assignment's notebooks."""

    student: str
    assignment: str
    folder: Path
    expected: list[str]
    sources: dict[str, Path] = field(default_factory=dict)  # notebook id -> the file graded as it
    repairs: dict[str, list[Repair]] = field(default_factory=dict)  # notebook id -> said in its feedback
    ungradable: dict[str, Ungradable] = field(default_factory=dict)  # notebook id -> why not
    extra: list[str] = field(default_factory=list)  # notebooks in the folder that are graded as nothing
    files: list[str] = field(default_factory=list)  # everything in the folder, for the feedback

    @property
    def renamed(self) -> dict[str, Path]:
        """The notebooks graded from a file of another name."""
        return {name: path for name, path in self.sources.items() if path.stem != name}


def plan_folder(coursedir: CourseDirectory, student: str, assignment: str) -> Plan:
    """Decide, for each of the assignment's notebooks, which handed-in file is graded as it, or why none can be.

    A file of the notebook's own name is it (what is in it is checked when it is
    read).  Where it is missing, exactly one other notebook in the folder that is a
    copy of this notebook (by :func:`recognise`) is graded in its place; several
    such notebooks, only notebooks of other assignments or none that can be read
    make it ungradable, and so does a folder without any notebook.
    """
    folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    plan = Plan(student, assignment, folder, expected_notebooks(coursedir, assignment))
    plan.files = _listing(folder)
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() or p.is_symlink())
    if not plan.expected:  # an assignment nbgrader does not know: as nbgrader does
        plan.sources = {p.stem: p for p in notebooks}
        return plan
    others = [p for p in notebooks if p.stem not in plan.expected]
    missing = [name for name in plan.expected if not os.path.lexists(folder / f"{name}.ipynb")]
    recognised: dict[Path, Released | None] = {}
    unreadable: dict[Path, Ungradable] = {}
    if missing and others:
        releases = released_notebooks(coursedir)
        for path in others:
            try:
                recognised[path] = recognise(read_notebook(path)[0], releases)
            except Ungradable as problem:
                unreadable[path] = problem
    for name in plan.expected:
        own = folder / f"{name}.ipynb"
        if name not in missing:
            plan.sources[name] = own
            continue
        wanted = _quoted(f"{name}.ipynb")
        copies = [p for p, r in recognised.items() if r is not None and (r.assignment, r.name) == (assignment, name)]
        candidates = sorted(copies + list(unreadable))  # a notebook that cannot be read could be it too
        if len(copies) == 1 and not unreadable:
            plan.sources[name] = copies[0]
            plan.repairs.setdefault(name, []).append(Repair(
                f"graded {copies[0].name} as {name}.ipynb",
                f"Your notebook was named {_quoted(copies[0].name)}, not {wanted}. It was the only notebook of "
                f"this assignment in your folder, so it was graded as {wanted}. Next time, hand it in under the "
                "name it was released with."))
        elif len(candidates) > 1:
            names = ", ".join(_quoted(p.name) for p in candidates)
            unsure = "; ".join(problem.reason for problem in unreadable.values())
            plan.ungradable[name] = Ungradable(
                f"There is no {wanted} in your folder, and several notebooks could be it: {names}. The grader "
                f"cannot tell which one you mean.{' ' + unsure if unsure else ''}",
                f"Keep only the notebook you want graded, name it {wanted}, and hand it in again.")
        elif unreadable:
            problem = next(iter(unreadable.values()))
            plan.ungradable[name] = Ungradable(
                f"There is no {wanted} in your folder, and the notebook that could be it cannot be read: "
                f"{problem.reason}", f"{problem.advice} Name the notebook {wanted}.")
        elif others:
            plan.ungradable[name] = _not_this_assignment(others, recognised, assignment, wanted)
        else:
            held = f" It holds: {', '.join(map(_quoted, plan.files[:12]))}." if plan.files else " It is empty."
            plan.ungradable[name] = Ungradable(
                f"There is no notebook (.ipynb file) in your folder for {assignment}.{held}",
                f"Hand in {wanted}, the notebook of {assignment}, with your work saved in it.")
    used = set(plan.sources.values())
    plan.extra = [p.name for p in others if p not in used]
    return plan


def _not_this_assignment(others: list[Path], recognised: dict[Path, Released | None], assignment: str,
                         wanted: str) -> Ungradable:
    """Why none of the notebooks in a folder is the one wanted: they belong to other assignments, or to none."""
    theirs = [f"{_quoted(p.name)} is the notebook of assignment {r.assignment}" if p.name == r.file else
              f"{_quoted(p.name)} is a copy of {_quoted(r.file)}, the notebook of assignment {r.assignment}"
              for p, r in recognised.items() if r is not None]
    if theirs:
        return Ungradable(f"There is no {wanted} in your folder: {'; '.join(theirs)}, not of {assignment}.",
                          f"Hand in {wanted} for {assignment}, and each other assignment's notebook under that "
                          "assignment.")
    names = ", ".join(_quoted(p.name) for p in others)
    return Ungradable(f"There is no {wanted} in your folder, and no notebook in it ({names}) is a copy of it: "
                      f"none has the cells of {assignment}'s notebook (its exercises, tests and text).",
                      f"Hand in {wanted}, the notebook you were given for {assignment}, with your work in it.")


def _listing(folder: Path, limit: int = 200) -> list[str]:
    """The first `limit` files in a submission folder, relative to it (checkpoints, caches, nbgrader's own left out)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):  # links to folders are listed, never entered
        dirnames[:] = sorted(d for d in dirnames if d not in (".ipynb_checkpoints", "__pycache__"))
        rel = Path(dirpath).relative_to(folder)
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in sorted(filenames + links):
            if rel == Path(".") and name in NBGRADER_FILES:
                continue
            found.append(str(rel / name))
            if len(found) >= limit:
                return found
    return found


NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")
"""What nbgrader's exchange adds to a submission; its feedback release needs both beside the feedback page."""


# -- a submitted notebook, ready for nbgrader's sanitizing steps -------------------------------------------


def prepare_notebook(
    coursedir: CourseDirectory, plan: Plan, notebook: str, log: logging.Logger | logging.LoggerAdapter
) -> tuple[NotebookNode, dict[str, Any], Path]:
    """Read the file `plan` grades as `notebook`, leniently; raise :class:`Ungradable` (reported) if there is none.

    Returns
    -------
    NotebookNode, dict, Path
        The notebook; what travels under :data:`INTAKE_KEY` in nbgrader's resources
        (``repairs`` and ``extra``, for :class:`RecogniseSubmission`); the file read.
    """
    if notebook in plan.ungradable:
        raise report_ungradable(coursedir, plan, notebook, plan.ungradable[notebook], log)
    path = plan.sources.get(notebook, plan.folder / f"{notebook}.ipynb")
    try:
        nb, repairs = read_notebook(path)
    except Ungradable as problem:
        if plan.extra:
            problem.reason += f" (Your folder also holds {', '.join(map(_quoted, plan.extra))}, which is not graded.)"
        raise report_ungradable(coursedir, plan, notebook, problem, log) from None
    intake = {"repairs": plan.repairs.get(notebook, []) + repairs, "extra": list(plan.extra)}
    return nb, intake, path


# -- the student's feedback when nothing can be graded --------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ assignment }}: your submission could not be graded</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; padding: 0 1em; line-height: 1.5; }
.problem { border-left: 4px solid #b42318; background: #fef3f2; padding: 0.5em 1em; }
code { background: #f2f4f7; padding: 0 0.2em; }
</style>
</head>
<body>
<h1>{{ assignment }}: your submission could not be graded</h1>
<p>Student: <code>{{ student }}</code>, notebook <code>{{ notebook }}</code>.</p>
<div class="problem" role="alert">
<h2>What was wrong</h2>
<p>{{ reason }}</p>
</div>
<h2>What to do</h2>
<p>{{ advice }}</p>
<h2>What your folder held</h2>
<ul>
{% for name in files %}<li><code>{{ name }}</code></li>
{% else %}<li>nothing</li>
{% endfor %}</ul>
<p>Nothing was scored: this is not a grade of 0. Your instructor has the same message.</p>
</body>
</html>
"""


def write_ungradable_feedback(coursedir: CourseDirectory, plan: Plan, notebook: str, problem: Ungradable) -> Path:
    """Write the student's feedback page for a notebook that could not be graded; return its path.

    It is ``<feedback>/<student>/<assignment>/<notebook>.html``, where
    ``nbgrader generate_feedback`` puts a graded notebook's, and also under the name of
    each notebook the student handed in instead (nbgrader's ``fetch_feedback`` looks for
    feedback by the names handed in), with nbgrader's ``timestamp.txt`` and
    ``submission_secret.txt`` beside it, which ``release_feedback`` needs.
    """
    import jinja2

    page = jinja2.Environment(autoescape=True).from_string(_PAGE).render(
        assignment=plan.assignment, student=plan.student, notebook=f"{notebook}.ipynb", reason=problem.reason,
        advice=problem.advice, files=plan.files,
    )
    target = Path(coursedir.format_path(coursedir.feedback_directory, plan.student, plan.assignment))
    target.mkdir(parents=True, exist_ok=True)
    handed_in = [Path(name).stem for name in plan.files if name.endswith(".ipynb") and "/" not in name]
    for stem in [notebook, *(s for s in handed_in if s not in plan.expected)]:
        (target / f"{stem}.html").write_text(page, encoding="utf-8")
    for name in NBGRADER_FILES:
        source = plan.folder / name
        if source.is_file() and not source.is_symlink():
            shutil.copyfile(source, target / name)
    return target / f"{notebook}.html"


def report_ungradable(coursedir: CourseDirectory, plan: Plan, notebook: str, problem: Ungradable,
                      log: logging.Logger | logging.LoggerAdapter) -> Ungradable:
    """Write the student's feedback, log the reason, remember it for the run's summary; return `problem` to raise."""
    try:
        problem.feedback = write_ungradable_feedback(coursedir, plan, notebook, problem)
    except OSError as exc:  # e.g. a read-only feedback folder: the instructor still learns why
        log.error("%s: the feedback page could not be written: %s", plan.student, exc)
    where = problem.where(coursedir.root)
    log.error("%s: %s not graded (no score): %s The student's feedback: %s", plan.student, plan.assignment,
              problem.reason, where)
    _SUMMARY[(plan.student, plan.assignment)] = f"UNGRADABLE {plan.student} ({plan.assignment}): {problem.reason} " \
                                                f"(no score; feedback: {where})"
    return problem


# -- nbgrader plug-ins -------------------------------------------------------------------------------------------


def course_directory(configurable: Any = None) -> CourseDirectory:
    """The course directory nbgrader is working with: the converter's, the running application's, or the config's.

    A plug-in finds its converter's up its ``parent`` chain; a hook (which gets no
    parent) the running nbgrader application's; otherwise one is made from
    `configurable`'s configuration, or from ``nbgrader_config.py`` in the current
    folder (nbgrader works in the course's root).
    """
    from traitlets.config import Application

    node = configurable
    while node is not None:
        if isinstance(getattr(node, "coursedir", None), CourseDirectory):
            return node.coursedir
        node = getattr(node, "parent", None)
    app = Application.instance() if Application.initialized() else None
    apps = []
    while app is not None:
        apps.append(app)
        app = getattr(app, "subapp", None)
    for app in reversed(apps):  # the subcommand's own first
        if isinstance(getattr(app, "coursedir", None), CourseDirectory):
            return app.coursedir
    if configurable is not None:
        return CourseDirectory(config=configurable.config)
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=os.getcwd()).load_config() \
        if os.path.exists("nbgrader_config.py") else None
    return CourseDirectory(config=config) if config is not None else CourseDirectory()


def _ids(coursedir: CourseDirectory, step: str, folder: str) -> tuple[str, str] | None:
    """``(student, assignment)`` of a submission folder of nbgrader step `step`, as nbgrader parses it."""
    pattern = coursedir.format_path(step, "(?P<student_id>.*)", "(?P<assignment_id>.*)", escape=True)
    found = re.fullmatch(pattern, os.path.normpath(folder))
    return (found["student_id"], found["assignment_id"]) if found else None


class LenientExporter(NotebookExporter):
    """``c.Autograde.exporter_class``: a submitted notebook is read by :func:`read_notebook`, or explained.

    Autograde's first pass reads ``submitted/<student>/<assignment>/<notebook>.ipynb``:
    that file, read leniently, or the file :func:`plan_folder` grades as it (handed
    in under another name).  Where none can be graded, the reported :class:`Ungradable`
    is raised: nbgrader then names the submission in its log, records no score and
    grades the others.  Any other file (the second pass reads ``autograded/``) is
    read as nbconvert reads it.
    """

    def from_filename(
        self, filename: str, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[NotebookNode, dict[str, Any]]:
        info = (resources or {}).get("nbgrader", {})
        coursedir = course_directory(self)
        ids = _ids(coursedir, coursedir.submitted_directory, os.path.dirname(filename))
        if not info or ids is None:
            return super().from_filename(filename, resources, **kw)
        if not os.path.lexists(filename):
            # nbgrader scored the notebook 0 as "not submitted" before this step; it is graded now, or
            # explained, and if it is not scored after all it must stay unscored, not 0.
            _unscore(info)
        plan = plan_folder(coursedir, *ids)
        nb, intake, path = prepare_notebook(coursedir, plan, info["notebook"], self.log)
        resources = resources if resources is not None else ResourcesDict()
        if not resources.get("metadata"):
            resources["metadata"] = ResourcesDict()
        resources["metadata"].update(name=info["notebook"], path=str(plan.folder))
        resources[INTAKE_KEY] = intake
        self.log.debug("Reading %s as %s", path, filename)
        return self.from_notebook_node(nb, resources, **kw)


def _unscore(info: dict[str, Any]) -> None:
    """Put a submitted notebook's grades back to 'not graded yet' (nbgrader zeroes a notebook it thinks missing)."""
    from nbgrader.api import Gradebook, MissingEntry

    if "db_url" not in info:
        return
    with Gradebook(info["db_url"]) as gb:
        try:
            submitted = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
        except MissingEntry:
            return
        for grade in submitted.grades:
            grade.auto_score = None
            grade.needs_manual_grade = True
        gb.db.commit()


class RecogniseSubmission(NbGraderPreprocessor):
    """Autograde's sanitizing steps, right after ``ClearOutput``: the notebook is this one, repaired and said so.

    - another assignment's notebook (under this notebook's name), or one that shares
      nothing with the release, is not graded: :class:`Ungradable`, reported;
    - cells whose nbgrader metadata was lost get the release's back where the cell
      is unmistakably that one (:func:`restore_lost_metadata`);
    - what was repaired, here or when the file was read, is said in a notice at the
      top of the graded notebook (so in the student's feedback) and in the log.

    Add it in ``nbgrader_config.py``::

        c.Autograde.sanitize_preprocessors = [ClearOutput, RecogniseSubmission, RepairCellMetadata, ...]
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources.get("nbgrader", {})
        if not all(key in info for key in ("student", "assignment", "notebook")):
            return nb, resources
        coursedir = course_directory(self)
        intake = resources.get(INTAKE_KEY) or {"repairs": [], "extra": []}
        repairs: list[Repair] = list(intake["repairs"])
        releases = released_notebooks(coursedir)
        own = next((r for r in releases if (r.assignment, r.name) == (info["assignment"], info["notebook"])), None)
        if own is not None:
            best = recognise(nb, releases)
            if (best is not None and best is not own) or not _anchors(nb, own):
                plan = plan_folder(coursedir, info["student"], info["assignment"])
                problem = _wrong_notebook(own, best if best is not own else None)
                raise report_ungradable(coursedir, plan, info["notebook"], problem, self.log)
            repairs += _restored(nb, own)
        notes = list(repairs)
        if intake["extra"]:
            names, graded = ", ".join(map(_quoted, intake["extra"])), _quoted(f"{info['notebook']}.ipynb")
            notes.append(Repair(f"not part of the assignment, not graded: {', '.join(intake['extra'])}",
                                f"Your folder also holds {names}, which was not graded: only {graded} is."))
        if notes:
            nb.cells.insert(0, _notice(notes))
            self.log.warning("%s: %s is graded, and its feedback says: %s", info["student"], info["assignment"],
                             "; ".join(n.summary for n in notes))
            if repairs:
                _SUMMARY[(info["student"], info["assignment"])] = (
                    f"REPAIRED {info['student']} ({info['assignment']}): {'; '.join(r.summary for r in repairs)}")
        resources[INTAKE_KEY] = {"repairs": repairs, "extra": intake["extra"]}
        return nb, resources


def _wrong_notebook(own: Released, other: Released | None) -> Ungradable:
    """Why a notebook handed in under this notebook's name is not graded as it."""
    if other is not None:
        return Ungradable(
            f"{_quoted(own.file)} is not the notebook of {own.assignment}: it is a copy of {_quoted(other.file)}, "
            f"the notebook of assignment {other.assignment}.",
            f"Hand in the notebook of {own.assignment} as {_quoted(own.file)}, and {_quoted(other.file)} under "
            f"{other.assignment}.")
    return Ungradable(
        f"{_quoted(own.file)} has none of the cells of {own.assignment}'s notebook (its exercises, tests and "
        "text), so it cannot be graded as it.",
        f"Start again from the notebook you were given for {own.assignment}, copy your work into its exercise "
        f"cells, and hand it in as {_quoted(own.file)}.")


def _restored(nb: NotebookNode, own: Released) -> list[Repair]:
    """Restore lost nbgrader metadata; what was done, and which written answers could not be found."""
    restored, missing = restore_lost_metadata(nb, own)
    said = []
    if restored:
        ways = sorted(set(restored.values()))
        said.append(Repair(
            f"restored the nbgrader metadata of {', '.join(restored)} (by {', '.join(ways)})",
            f"The grading marks (nbgrader metadata) of {len(restored)} cells were missing, as happens when cells "
            f"are copied into a new notebook: {', '.join(restored)}. Each was recognised by its "
            f"{' or '.join(ways)} and its marks were put back; your work in them was graded as it is. Next time, "
            "work in the notebook you were given."))
    answers = {c.metadata["nbgrader"]["grade_id"] for c in own.nb.cells
               if _grade_id(c) and c.metadata["nbgrader"].get("solution") and c.metadata["nbgrader"].get("grade")}
    lost = [g for g in missing if g in answers]
    if lost:
        said.append(Repair(
            f"answer cells not found: {', '.join(lost)}",
            f"The cells for your answers {', '.join(lost)} were not found: they lost their grading marks and "
            "could not be told apart from your other cells, so empty ones were put in their place. If you "
            "answered them, tell your instructor where."))
    return said


def _notice(notes: list[Repair]) -> NotebookNode:
    """The markdown cell at the top of a repaired notebook: what was put right before grading."""
    lines = "\n".join(f"- {_markdown_text(note.feedback)}" for note in notes)
    cell = new_markdown_cell(f"**About your submission.** The grader put something right before grading it:\n\n{lines}")
    cell["id"] = INTAKE_KEY
    return cell


def _markdown_text(text: str) -> str:
    """`text` shown as it is in markdown: no HTML, emphasis, links or new lines from the names a student chose."""
    text = re.sub(r"([\\`*_{}\[\]()#+!|~])", r"\\\1", " ".join(text.split()))
    return html.escape(text, quote=False)


# -- hooks ---------------------------------------------------------------------------------------------------------


def before_autograde(**kwargs: Any) -> None:
    """``c.Autograde.pre_convert_hook``: the sandbox check, then :func:`choose_notebooks`."""
    from .secure_execute import require_sandbox

    require_sandbox(**kwargs)
    choose_notebooks(**kwargs)


def choose_notebooks(assignment: str = "", student: str = "", notebooks: list[str] | None = None,
                     coursedir: CourseDirectory | None = None, **_: Any) -> None:
    """Per submission folder, before nbgrader reads it: every notebook of the assignment is converted by its name.

    nbgrader calls the hook with the notebook files it found in the folder, and
    would skip one of another name as unknown.  Each of the assignment's notebooks
    is put in that list under its own name, and :class:`LenientExporter` reads the
    file handed in under another name for it, or explains why none can be graded
    (several candidates, none of this assignment).  The first call of a run also
    explains the folders without any notebook, which nbgrader passes over with a
    warning.  `coursedir` is the course's (found the way :func:`course_directory`
    finds it when not given).
    """
    if not notebooks:
        return
    log = _log()
    try:
        _choose_notebooks(assignment, student, notebooks, coursedir or course_directory(), log)
    except Exception:  # noqa: BLE001 - nbgrader would swallow it silently: say it, then grade as nbgrader would
        log.exception("Choosing the notebooks to grade in %s failed; graded as nbgrader finds them",
                      os.path.dirname(notebooks[0]))


def _choose_notebooks(assignment: str, student: str, notebooks: list[str], coursedir: CourseDirectory,
                      log: logging.Logger) -> None:
    _start_of_run(coursedir, assignment or coursedir.assignment_id, student or coursedir.student_id, log)
    folder = os.path.dirname(notebooks[0])
    ids = _ids(coursedir, coursedir.submitted_directory, folder)
    if ids is None:
        return
    plan = plan_folder(coursedir, *ids)
    # Each of the assignment's notebooks is converted under its own name, also where no file has it:
    # LenientExporter reads the file handed in under another name, or explains why none can be graded
    # (instead of nbgrader's "No notebooks found, did you forget to run 'nbgrader generate_assignment'?").
    stand_ins = {os.path.normpath(path) for path in plan.renamed.values()}
    files = {os.path.join(folder, f"{name}.ipynb") for name in plan.expected}
    files |= {n for n in notebooks if os.path.normpath(n) not in stand_ins}
    if sorted(files) != sorted(notebooks):
        upstream.replace_converted_notebooks(notebooks, sorted(files))


_RUNS: set[tuple[str, str, str]] = set()
_SUMMARY: dict[tuple[str, str], str] = {}
"""What this process's runs repaired or could not grade, by (student, assignment): the end-of-run summary."""


def _start_of_run(coursedir: CourseDirectory, assignment: str, student: str, log: logging.Logger) -> None:
    """Once per run: explain the folders without a notebook; under ``nbgrader autograde``, summarise at its end."""
    key = (str(coursedir.root), assignment, student)
    if key in _RUNS:
        return
    _RUNS.add(key)
    excluded = set(filter(None, coursedir.student_id_exclude.split(",")))
    for folder in sorted(glob.glob(coursedir.format_path(coursedir.submitted_directory, student, assignment))):
        ids = _ids(coursedir, coursedir.submitted_directory, folder)
        if ids is None or ids[0] in excluded or not os.path.isdir(folder) or glob.glob(os.path.join(folder, "*.ipynb")):
            continue
        plan = plan_folder(coursedir, *ids)
        for name, problem in plan.ungradable.items():
            report_ungradable(coursedir, plan, name, problem, log)
    if _autograde_command() and len(_RUNS) == 1:
        atexit.register(_print_summary, log)


def _autograde_command() -> bool:
    """True inside the ``nbgrader autograde`` command (not the formgrader, not ``python -m autograder grade``)."""
    from traitlets.config import Application

    app = Application.instance() if Application.initialized() else None
    while app is not None and getattr(app, "subapp", None) is not None:
        app = app.subapp
    return type(app).__name__ == "AutogradeApp"


def _print_summary(log: logging.Logger) -> None:
    if _SUMMARY:
        log.warning("Submissions repaired or not graded (each student's feedback says the same):\n%s",
                    "\n".join(_SUMMARY.values()))


def _log() -> logging.Logger:
    from traitlets.log import get_logger

    return get_logger()


def after_feedback(notebooks: list[str] | None = None, **_: Any) -> None:
    """``c.GenerateFeedback.post_convert_hook``: a renamed notebook's feedback also under the name handed in.

    The student fetches feedback (nbgrader's ``fetch_feedback``) by the names of the
    notebooks they handed in: feedback for ``shallow_narrow.ipynb`` would never reach
    a student who handed in ``shallow_narrow-Copy1.ipynb``.
    """
    coursedir = course_directory()
    for path in notebooks or []:
        ids = _ids(coursedir, coursedir.autograded_directory, os.path.dirname(path))
        if ids is None:
            continue
        name = Path(path).stem
        source = plan_folder(coursedir, *ids).renamed.get(name)
        feedback = Path(coursedir.format_path(coursedir.feedback_directory, *ids)) / f"{name}.html"
        if source is not None and feedback.exists():
            shutil.copyfile(feedback, feedback.with_name(f"{source.stem}.html"))
