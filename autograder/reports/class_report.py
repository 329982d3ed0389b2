"""The class report: one self-contained HTML file per assignment, for the instructor.

It reads two things nbgrader leaves behind after ``nbgrader autograde``:

- the gradebook: each submission's total and its score per graded cell (manual
  grades included, and which answers still wait for one);
- the autograded notebooks, ``<autograded>/<student>/<assignment>/*.ipynb``: each
  verdict output carries ``{"check", "score", "mistakes"}`` under
  ``metadata["autograder"]`` (see :func:`autograder.nbgrader_plugins.cells.verdict_outputs`),
  which says which known mistakes the grader diagnosed.

and writes a single HTML file (inline CSS, plots embedded as base64 PNG, nothing
fetched from anywhere), rendered from the Jinja2 template ``templates/class_report.html.j2``
with autoescaping on: the score distribution, the pass rate of each test, how
many students made each diagnosed mistake, and one row per student.  Each plot is
described in words, with its numbers, as its ``alt`` text and as a caption under it;
a formula in a mistake's title (``$...$``) is written as MathML, so the page needs no
script to show it.

Usage::

    from autograder.reports.class_report import write_report
    write_report("01_shallow_narrow", "sqlite:///gradebook.db", Path("autograded"), Path("reports/01.html"))
"""

from __future__ import annotations

import base64
import collections
import functools
import io
import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import jinja2
import markupsafe

from ..core.checks import all_mistakes
from ..core.mistakes import Mistake
from ..nbgrader_plugins.cells import VERDICT_KEY, VERDICT_MIME


# -- the data ------------------------------------------------------------------------------


@dataclass
class TestResult:
    """One graded cell of one submission."""

    name: str
    score: float | None
    max_score: float
    manual: bool
    """A written answer or manually graded cell (not an autograded test)."""
    pending: bool
    """Still needs a manual grade."""

    @property
    def passed(self) -> bool:
        return not self.pending and self.score is not None and self.score >= self.max_score


@dataclass
class StudentRow:
    """One submission, as the report shows it."""

    student: str
    score: float
    max_score: float
    tests: dict[str, TestResult] = field(default_factory=dict)
    mistakes: dict[str, list[str]] = field(default_factory=dict)
    """Mistake code -> the checks whose verdict named it."""
    notebook_missing: bool = False
    unreadable: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return any(t.pending for t in self.tests.values())


@dataclass
class TestColumn:
    """A graded cell of the assignment."""

    name: str
    max_score: float
    manual: bool


@dataclass
class ClassData:
    """Everything the report shows."""

    assignment: str
    known: bool
    """The assignment exists in the gradebook."""
    max_score: float
    tests: list[TestColumn]
    rows: list[StudentRow]
    students_without_submission: int


def _verdicts_in(nb: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every verdict record of an autograded notebook, each once.

    Read from an output's ``metadata["autograder"]``, from its verdict data when
    the metadata is gone, or from the cell's metadata.
    """
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        records: list[Any] = []
        for place in [cell, *(o for o in cell.get("outputs", []) if isinstance(o, dict))]:
            meta = place.get("metadata")
            found = meta.get(VERDICT_KEY) if isinstance(meta, dict) else None
            if (
                found is None
                and isinstance(place.get("data"), dict)
                and isinstance(place["data"].get(VERDICT_MIME), str)
            ):
                try:
                    found = json.loads(place["data"][VERDICT_MIME])
                except ValueError:
                    found = None
            records.extend(found if isinstance(found, list) else [found])
        seen: list[Any] = []
        for record in records:
            if isinstance(record, dict) and "check" in record and record not in seen:
                seen.append(record)
                yield record


def _grade_ids(nb: dict[str, Any]) -> list[str]:
    """The graded cells' ids in notebook order."""
    ids = []
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and meta.get("grade") and meta.get("grade_id"):
            ids.append(str(meta["grade_id"]))
    return ids


def _read_mistakes(row: StudentRow, folder: Path, order: list[str]) -> None:
    """Fill a row's diagnosed mistakes from its autograded notebooks (and learn the cell order)."""
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not notebooks:
        row.notebook_missing = True
        return
    for path in notebooks:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(nb, dict):
                raise ValueError("not a notebook")
        except (OSError, ValueError):
            row.unreadable.append(path.name)
            continue
        order.extend(i for i in _grade_ids(nb) if i not in order)
        for record in _verdicts_in(nb):
            mistakes = record.get("mistakes") or []
            for code in mistakes if isinstance(mistakes, list) else []:
                checks = row.mistakes.setdefault(str(code), [])
                if str(record["check"]) not in checks:
                    checks.append(str(record["check"]))


def collect(assignment: str, db_url: str, autograded_dir: Path) -> ClassData:
    """Read the gradebook and the autograded notebooks of one assignment.

    Parameters
    ----------
    assignment : str
        The assignment's name in the gradebook.
    db_url : str
        The gradebook's database URL (``sqlite:///...``, ``postgresql://...``).
    autograded_dir : pathlib.Path
        nbgrader's ``autograded/`` folder.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        # Opening it would create an empty gradebook: say what is wrong instead.
        raise FileNotFoundError(f"no gradebook at {db_url} (run nbgrader autograde first?)")
    with Gradebook(db_url) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            return ClassData(assignment, False, 0.0, [], [], len(gb.students))
        columns: dict[str, TestColumn] = {}
        for notebook in found.notebooks:
            for cell in sorted(notebook.grade_cells, key=lambda c: c.id):
                columns[cell.name] = TestColumn(cell.name, float(cell.max_score), cell.cell_type != "code")
        rows = []
        for submission in gb.assignment_submissions(assignment):
            row = StudentRow(str(submission.student_id), float(submission.score or 0), float(submission.max_score or 0))
            for nb in submission.notebooks:
                for grade in nb.grades:
                    manual = grade.cell.cell_type != "code"
                    pending = bool(grade.needs_manual_grade) or grade.score is None
                    score = None if grade.score is None else float(grade.score)
                    row.tests[grade.name] = TestResult(grade.name, score, float(grade.max_score), manual, pending)
            rows.append(row)
        submitted = {r.student for r in rows}
        without = sum(1 for s in gb.students if s.id not in submitted)
        max_score = float(found.max_score or 0)
    order: list[str] = []
    for row in rows:
        _read_mistakes(row, Path(autograded_dir) / row.student / assignment, order)
    rows.sort(key=lambda r: r.student)
    # Notebook order where a notebook shows it; the gradebook does not keep cell positions.
    tests = sorted(columns.values(), key=lambda c: order.index(c.name) if c.name in order else len(order))
    return ClassData(assignment, True, max_score, tests, rows, without)


# -- the plots -----------------------------------------------------------------------------


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _score_histogram(data: ClassData) -> str:
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    scores = np.array([r.score for r in data.rows])
    top = max(data.max_score, float(scores.max(initial=0)), 1.0)
    if top <= 40 and float(top).is_integer():
        bins = np.arange(0, top + 2) - 0.5
    else:
        bins = np.linspace(0, top, 11)
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    ax.hist(scores, bins=bins, color="tab:blue", edgecolor="white")
    ax.set(xlabel=f"total score (out of {data.max_score:g})", ylabel="students", title="Score distribution")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return _png(fig)


def _bar_chart(labels: list[str], values: list[float], title: str, xlabel: str, limit: float | None = None) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 0.9 + 0.42 * len(labels)))
    ax = fig.subplots()
    positions = list(range(len(labels)))[::-1]
    bars = ax.barh(positions, values, color="tab:orange" if limit is None else "tab:green")
    ax.bar_label(bars, labels=[f"{v:.0f}%" if limit is not None else f"{v:g}" for v in values], padding=3)
    ax.set_yticks(positions, labels)
    ax.set(xlabel=xlabel, title=title)
    if limit is not None:
        ax.set_xlim(0, limit * 1.12)
        ax.set_xticks([limit * k / 5 for k in range(6)])
    else:
        ax.set_xlim(0, max(values, default=1) * 1.15)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return _png(fig)


# -- the plots in words --------------------------------------------------------------------


def describe_scores(data: ClassData) -> str:
    """The score histogram in words: how many students got each total, the mean and the median.

    With more than a dozen different totals, the lowest, the quartiles and the highest instead.
    """
    scores = sorted((r.score for r in data.rows), reverse=True)
    text = f"Histogram of the total scores of {len(scores)} submissions (out of {data.max_score:g}): "
    counts = collections.Counter(scores)
    if len(counts) <= 12:
        text += ", ".join(f"{n} scored {score:g}" for score, n in sorted(counts.items(), reverse=True))
    else:
        q1, _, q3 = statistics.quantiles(scores, n=4)
        text += f"lowest {scores[-1]:g}, quartiles {q1:.3g} and {q3:.3g}, highest {scores[0]:g}"
    return text + f"; mean {statistics.fmean(scores):.3g}, median {statistics.median(scores):g}."


def describe_bars(title: str, labels: list[str], values: list[float], unit: str = "") -> str:
    """A bar chart in words: each bar's label and value, in the chart's order (top first)."""
    return f"{title}: " + ", ".join(f"{label} {value:.3g}{unit}" for label, value in zip(labels, values)) + "."


# -- the HTML ------------------------------------------------------------------------------

TEMPLATE = "class_report.html.j2"
"""The page, in ``autograder/reports/templates/`` (its stylesheet, inlined, beside it)."""


@functools.cache
def _environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's templates, made once.

    Autoescaping is on for the HTML templates (and for any other, to fail safe):
    student ids, cell names and mistake codes come from submissions and from the
    gradebook, so none of them may reach the page unescaped.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "autograder.reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the report instead of leaving a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["math"] = _math
    env.globals["pct"] = _pct
    env.globals["notes"] = _notes
    return env


def _num(value: float, spec: str = "g") -> str:
    """A number as ``format`` writes it with `spec` (the template's ``num`` filter: ``2.0`` -> ``2``)."""
    return format(value, spec)


def _math(text: str) -> markupsafe.Markup:
    """Text with ``$...$`` formulas, as HTML: the text escaped, each formula as MathML (the ``math`` filter)."""
    from ..nbgrader_plugins.offline_math import math_html

    return markupsafe.Markup(math_html(str(text)))


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _notes(row: StudentRow) -> list[str]:
    """What the instructor should know about one submission, for its "notes" cell."""
    notes = []
    if row.notebook_missing:
        notes.append("no autograded notebook")
    if row.unreadable:
        notes.append("unreadable: " + ", ".join(row.unreadable))
    if row.pending:
        notes.append("manual grading pending")
    return notes


@dataclass
class MistakeCount:
    """One diagnosed mistake across the class."""

    code: str
    students: int
    checks: list[str]
    """The checks whose verdict named it, first seen first."""


def _mistake_counts(data: ClassData) -> list[MistakeCount]:
    """Each diagnosed mistake and how many students made it, most frequent first."""
    students: dict[str, int] = {}
    checks: dict[str, list[str]] = {}
    for row in data.rows:
        for code, where in row.mistakes.items():
            students[code] = students.get(code, 0) + 1
            checks.setdefault(code, [])
            checks[code] += [c for c in where if c not in checks[code]]
    return sorted((MistakeCount(c, n, checks[c]) for c, n in students.items()), key=lambda m: (-m.students, m.code))


def catalogue() -> dict[str, Mistake]:
    """Every mistake any assignment can name, by code."""
    return {mistake.code: mistake for mistake in all_mistakes()}


def _title(code: str, known: dict[str, Mistake] | None = None) -> str:
    mistake = (known if known is not None else catalogue()).get(code)
    return mistake.title if mistake else "(not in the current catalogue)"


@dataclass
class ColumnStats:
    """How the class did on one graded cell."""

    column: TestColumn
    passed: int
    graded: int
    waiting: int
    """Answers still to grade by hand."""
    mean: float | None
    """Mean score of the graded answers (None: none graded yet)."""


def _test_stats(data: ClassData, column: TestColumn) -> ColumnStats:
    """How the class did on one graded cell."""
    results = [r.tests[column.name] for r in data.rows if column.name in r.tests]
    graded = [t for t in results if not t.pending and t.score is not None]
    mean = statistics.fmean(t.score for t in graded) if graded else None  # type: ignore[misc]
    return ColumnStats(column, sum(t.passed for t in graded), len(graded), sum(t.pending for t in results), mean)


def render(data: ClassData, similarity: markupsafe.Markup | None = None) -> str:
    """The report's HTML for collected data.

    Parameters
    ----------
    data : ClassData
        What :func:`collect` read.
    similarity : markupsafe.Markup, optional
        The similarity section (:func:`autograder.integrity.views.section_html`), when the
        course asked for it for this assignment; inserted as it is (it is escaped already).

    Returns
    -------
    str
        One self-contained HTML page, rendered from ``templates/class_report.html.j2``.
    """
    known = catalogue()
    context: dict[str, Any] = {
        "data": data,
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "title": lambda code: _title(code, known),
        "similarity": similarity,
    }
    if data.rows:  # the figures and statistics only exist with submissions
        scores = [r.score for r in data.rows]
        tests = [_test_stats(data, column) for column in data.tests]
        auto = [t for t in tests if not t.column.manual]
        counts = _mistake_counts(data)
        rates = [100 * t.passed / t.graded if t.graded else 0.0 for t in auto]
        context |= {
            "mean": statistics.fmean(scores),
            "median": statistics.median(scores),
            "full_marks": sum(s >= data.max_score for s in scores),
            "pending": sum(1 for r in data.rows if r.pending),
            "missing": sum(1 for r in data.rows if r.notebook_missing),
            "with_mistakes": sum(1 for r in data.rows if r.mistakes),
            "tests": tests,
            "mistakes": counts,
            "histogram": _score_histogram(data),
            "histogram_text": describe_scores(data),
            "pass_rates": _bar_chart(
                [t.column.name for t in auto], rates, "Pass rate per test", "% of students with full marks", 100
            )
            if auto
            else None,
            "pass_rates_text": describe_bars(
                "Pass rate per autograded test (share of students with full marks)",
                [t.column.name for t in auto],
                rates,
                "%",
            ),
            "mistake_chart": _bar_chart(
                [m.code for m in counts], [m.students for m in counts], "Diagnosed mistakes", "students"
            )
            if counts
            else None,
            "mistake_chart_text": describe_bars(
                "Students per diagnosed mistake", [m.code for m in counts], [m.students for m in counts]
            ),
        }
    return _environment().get_template(TEMPLATE).render(context)


def write_report(
    assignment: str, db_url: str, autograded_dir: Path, out_path: Path, with_similarity: bool = False
) -> Path:
    """Write the class report of one assignment as a self-contained HTML file.

    Parameters
    ----------
    assignment : str
        The assignment's name in the gradebook, e.g. ``"01_shallow_narrow"``.
    db_url : str
        The gradebook's database URL.
    autograded_dir : pathlib.Path
        nbgrader's ``autograded/`` folder (``<student>/<assignment>/*.ipynb`` inside).
    out_path : pathlib.Path
        Where to write the HTML file (parent folders are created).
    with_similarity : bool, optional
        Add the similarity section: the pairs of students whose work is most alike, each
        linking to its side-by-side page, written to ``<out_path's folder>/<assignment>/similarity/``
        (the course folder is the parent of `autograded_dir`).

    Returns
    -------
    pathlib.Path
        `out_path`.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    section = None
    if with_similarity:
        from urllib.parse import quote

        from ..integrity.similarity import write_report as write_similarity
        from ..integrity.views import section_html

        pages = out_path.parent / assignment / "similarity"
        found = write_similarity(Path(autograded_dir).parent, assignment, out_dir=pages)
        section = section_html(found, link_base=f"{quote(assignment)}/similarity/")
    out_path.write_text(render(collect(assignment, db_url, Path(autograded_dir)), section), encoding="utf-8")
    return out_path
