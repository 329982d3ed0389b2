"""The similarity report's pages: the ranking, one side-by-side view per listed pair, and a class-report section.

Every page is self-contained HTML (inline CSS, nothing fetched), rendered from the
Jinja2 templates in ``templates/`` with autoescaping on: student ids, code, answers and
failure messages all come from submissions, so none may reach a page unescaped.

In a side-by-side view each line of a solution cell is marked:

- ``starter``: the release's code, a comment or a blank line: not compared;
- ``own``: the student's own code, not found in the other's;
- ``common``: found in the other's too, but many students wrote it (it counts little);
- ``rare``: found in the other's too, and written by few students (at most
  :attr:`~autograder.integrity.similarity.Settings.rare_share` of the class): what the score rests on.

Words of the written answers are marked the same way.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from .similarity import Commonness, Document, Pair, SimilarityReport, Work

LEVELS = ("starter", "own", "common", "rare")
"""Marks of a line or word, weakest first."""


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's templates (autoescaping on, undefined names fail)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "autograder.integrity", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["score"] = lambda value: "–" if value is None else f"{value:.2f}"
    env.filters["pct"] = lambda value: f"{100 * value:.0f}%"
    return env


# -- what a side-by-side view shows --------------------------------------------------------


@dataclass
class Line:
    """One line of a solution cell as handed in, with its mark."""

    number: int
    text: str
    mark: str


@dataclass
class CodeSide:
    """One student's side of one solution cell."""

    lines: list[Line]
    same_as: int
    """How many students wrote exactly this code in the cell (after normalisation); 0: none of their own."""
    parsed: bool


@dataclass
class Segment:
    """A run of an answer's text with one mark."""

    text: str
    mark: str


@dataclass
class CellView:
    """One solution cell of both students."""

    grade_id: str
    kind: str
    """"code" or "answer"."""
    left: Any
    right: Any


def _rare_limit(report: SimilarityReport) -> float:
    """The most students a piece may have to count as rare in the views."""
    return max(2.0, report.settings.rare_share * len(report.students))


def _shared_marks(
    mine: Document, theirs: Document, df: dict[Any, int], k: int, rare_limit: float
) -> dict[tuple[int, int], str]:
    """(cell, statement or word) -> "rare" or "common", for what `mine` shares with `theirs`."""
    marks: dict[tuple[int, int], str] = {}
    for value in mine.prints.keys() & theirs.prints.keys():
        mark = "rare" if df.get(value, 0) <= rare_limit else "common"
        for position in mine.prints[value]:
            for origin in mine.origin[position : position + k]:
                if origin[1] >= 0 and marks.get(origin) != "rare":
                    marks[origin] = mark
    return marks


def _code_side(
    work: Work, other: Work, c: int, marks: dict[tuple[int, int], str], report: SimilarityReport
) -> CodeSide:
    """One student's side of code cell `c`: each line marked by what the other student shares of it."""
    corpus = report.corpus
    cell = work.code[c]
    theirs = {s.text for s in other.code[c].code.statements}
    limit = _rare_limit(report)
    line_marks: dict[int, str] = {}
    for s, statement in enumerate(cell.code.statements):
        mark = marks.get((c, s), "own")
        if statement.text in theirs:  # the very same statement (after normalisation): rare if few wrote it
            mark = "rare" if corpus.statements[c][statement.text] <= limit else max(mark, "common", key=LEVELS.index)
        for number in range(statement.first_line, statement.last_line + 1):
            if LEVELS.index(mark) > LEVELS.index(line_marks.get(number, "starter")):
                line_marks[number] = mark
    lines = [Line(n, text, line_marks.get(n, "starter")) for n, text in enumerate(cell.source.split("\n"), 1)]
    version = tuple(s.text for s in cell.code.statements)
    return CodeSide(_fold_starter(lines), corpus.versions[c][version] if version else 0, cell.code.parsed)


FOLD_AT = 4
"""Runs of more starter lines than this are folded into one line in a side-by-side view."""

_HEADER = re.compile(r"\s*(?:async\s+)?(?:def|class)\s")


def _fold_starter(lines: list[Line]) -> list[Line]:
    """The lines with each long run of starter code folded to "..." (``def``/``class`` lines stay, for orientation)."""
    out: list[Line] = []
    run: list[Line] = []

    def flush() -> None:
        if len(run) > FOLD_AT:
            out.append(Line(run[0].number, f"... {len(run)} lines of starter code ...", "folded"))
        else:
            out.extend(run)
        run.clear()

    for line in lines:
        if line.mark == "starter" and not _HEADER.match(line.text):
            run.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return out


def _answer_side(work: Work, c: int, marks: dict[tuple[int, int], str]) -> list[Segment]:
    cell = work.answers[c]
    segments: list[Segment] = []
    at = 0
    for w, word in enumerate(cell.words):
        mark = marks.get((c, w))
        if mark is None:
            continue
        segments.append(Segment(cell.source[at : word.start], "plain"))
        segments.append(Segment(cell.source[word.start : word.end], mark))
        at = word.end
    segments.append(Segment(cell.source[at:], "plain"))
    return [s for s in segments if s.text]


def pair_cells(report: SimilarityReport, pair: Pair) -> list[CellView]:
    """Both students' solution cells, marked, for the side-by-side view of `pair`."""
    corpus = report.corpus
    index = {w.student: i for i, w in enumerate(corpus.works)}
    i, j = index[pair.a], index[pair.b]
    a, b = corpus.works[i], corpus.works[j]
    limit = _rare_limit(report)
    k_code, k_text = report.settings.code_k, report.settings.text_k
    code_a = _shared_marks(corpus.code[i], corpus.code[j], corpus.code_df, k_code, limit)
    code_b = _shared_marks(corpus.code[j], corpus.code[i], corpus.code_df, k_code, limit)
    text_a = _shared_marks(corpus.text[i], corpus.text[j], corpus.text_df, k_text, limit)
    text_b = _shared_marks(corpus.text[j], corpus.text[i], corpus.text_df, k_text, limit)
    cells = []
    for c, cell in enumerate(a.code):
        cells.append(CellView(cell.grade_id, "code", _code_side(a, b, c, code_a, report),
                              _code_side(b, a, c, code_b, report)))  # fmt: skip
    for c, cell in enumerate(a.answers):
        cells.append(CellView(cell.grade_id, "answer", _answer_side(a, c, text_a), _answer_side(b, c, text_b)))
    return cells


def mistake_label(kind: str, detail: str) -> str:
    """What a shared sign of a mistake says, in words."""
    if kind == "diagnosed":
        from ..core.checks import all_mistakes

        known = {m.code: m.title for m in all_mistakes()}
        return f"diagnosed: {known.get(detail, detail)}"
    if kind == "same output":
        return f"the same failure message, word for word: {detail}"
    return f"the same kind of undiagnosed failure: {detail}"


# -- pages ---------------------------------------------------------------------------------


def _common_context(report: SimilarityReport) -> dict[str, Any]:
    s = report.settings
    return {
        "report": report,
        "settings": s,
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "n": len(report.students),
        "rare_limit": f"{_rare_limit(report):.3g}",
        "cells": report.cells,
        "common_cells": [c for c in report.cells if _mostly_alike(c)],
    }


def _mostly_alike(cell: Commonness) -> bool:
    """A cell most students who wrote it wrote the same way: a match there means nothing."""
    return cell.written > 0 and cell.most_common >= max(2, cell.written // 4)


def render_index(report: SimilarityReport) -> str:
    """The ranking page (``index.html``)."""
    return environment().get_template("similarity_index.html.j2").render(_common_context(report))


def render_pair(report: SimilarityReport, pair: Pair) -> str:
    """The side-by-side view of one listed pair."""
    context = _common_context(report)
    context |= {
        "pair": pair,
        "views": pair_cells(report, pair),
        "mistakes": [(m, mistake_label(m.kind, m.detail)) for m in pair.shared_mistakes],
    }
    return environment().get_template("similarity_pair.html.j2").render(context)


def section_html(report: SimilarityReport, link_base: str = "") -> Any:
    """An HTML fragment for the class report: the flagged pairs, each linking to its side-by-side view.

    Parameters
    ----------
    report : SimilarityReport
        From :func:`autograder.integrity.similarity.compare` (or ``write_report``, which also
        writes the pages the links point at).
    link_base : str, optional
        What goes before a page's file name in a link, relative to the page the fragment is
        put in: for ``reports/<assignment>.html`` and pages in ``reports/<assignment>/similarity/``,
        ``"<assignment>/similarity/"`` (URL-quoted by the caller where needed).

    Returns
    -------
    markupsafe.Markup
        A ``<section>`` element (no ``<html>`` around it), escaped already: Markup, so that the
        class report's template inserts it as it is; it brings its own small stylesheet.
    """
    from markupsafe import Markup

    context = _common_context(report) | {"link_base": link_base}
    return Markup(environment().get_template("similarity_section.html.j2").render(context))


def write_pages(report: SimilarityReport, out_dir: Path) -> Path:
    """Write ``index.html`` and each listed pair's page into `out_dir`; return the index's path.

    Pair pages of an earlier run (``pair-*.html``) are removed first, so no stale view stays.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("pair-*.html"):
        old.unlink()
    for pair in report.pairs:
        (out_dir / pair.page).write_text(render_pair(report, pair), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(render_index(report), encoding="utf-8")
    return index
