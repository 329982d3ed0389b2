"""The command line: ``python -m autograder COMMAND``.

Commands
--------
build [ASSIGNMENT ...]
    Regenerate release/ and notebooks/ from source/.
report ASSIGNMENT
    Write the class report (reports/ASSIGNMENT.html) from the gradebook and autograded notebooks
    (with a similarity section where nbgrader_config.py opts in: c.CourseOptions.similarity_in_report).
similarity ASSIGNMENT [--flag X] [--also-show N] [--out DIR]
    Rank pairs of students by how alike their work is (reports/ASSIGNMENT/similarity/).
check
    Exit 1 and list the files of release/ and notebooks/ that are stale.
grade ASSIGNMENT [--workers N] [--scheduler tcp://HOST:PORT] [--force] [--unsandboxed]
    Autograde every submission in parallel, through the same secure path
    (exit status 1 when some submission failed or could not be graded, 2 when
    the sandbox cannot be built here, 130 when interrupted or the terminal closed).
demo
    Release, submit the examples, autograde them with ``nbgrader autograde``,
    generate feedback and print each student's score per test.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .course import build as build_mod
from .course.build import ROOT, nbgrader


def _graded_cells_in_order(assignment: str) -> list[str]:
    """Grade ids of the assignment's graded cells, in the order students meet them."""
    import nbformat

    order = []
    for path in sorted((build_mod.RELEASE / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") or meta.get("task"):
                order.append(meta["grade_id"])
    return order


@dataclass
class ScoreRow:
    """One submission in the score table."""

    student: str
    cells: dict[str, tuple[float, float] | None]
    """Graded cell -> ``(score, max score)``, or None while it waits for a manual grade."""
    score: float
    max_score: float


def score_rows(assignment: str, db_url: str | None = None) -> tuple[list[str], list[ScoreRow]]:
    """The graded cells (in the order students meet them) and each student's scores, from the gradebook."""
    from nbgrader.api import Gradebook

    db_url = db_url or _db_url()
    order = _graded_cells_in_order(assignment)
    rows = []
    with Gradebook(db_url) as gb:
        for submission in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student_id):
            cells: dict[str, tuple[float, float] | None] = {}
            for nb in submission.notebooks:
                for grade in nb.grades:
                    manual = grade.score is None or grade.needs_manual_grade
                    cells[grade.name] = None if manual else (float(grade.score), float(grade.max_score))
            rows.append(ScoreRow(str(submission.student_id), cells, float(submission.score or 0),
                                 float(submission.max_score or 0)))
    columns = order + sorted({name for row in rows for name in row.cells} - set(order))
    return columns, rows


def scores_table(columns: list[str], rows: list[ScoreRow]) -> Table:
    """Each student's score per graded cell, as a table (full marks green, none red, on a colour terminal).

    Parameters
    ----------
    columns : list of str
        The graded cells, in the order to show them.
    rows : list of ScoreRow
        One per submission.

    Returns
    -------
    rich.table.Table
        Print it with :func:`show`; :func:`plain_text` gives the text a log gets.
    """
    # Text(...), not str: rich would read "[...]" in a student id or a cell name as markup.
    table = Table(box=RULE, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(Text("student"))
    for name in columns:
        table.add_column(Text(name), justify="right")
    table.add_column(Text("total"), justify="right")
    for row in rows:
        table.add_row(Text(row.student), *(_score_cell(row, name) for name in columns),
                      _score_text(row.score, row.max_score))
    return table


def _score_cell(row: ScoreRow, name: str) -> Text:
    if name not in row.cells:
        return Text("-")
    found = row.cells[name]
    return Text("manual", style="cyan") if found is None else _score_text(*found)


def _score_text(score: float, top: float) -> Text:
    style = "green" if score >= top else ("red" if not score else "yellow")
    return Text(f"{score:g}/{top:g}", style=style)


def score_table(assignment: str, db_url: str | None = None) -> Table:
    """Each student's score per graded cell of `assignment`, from the gradebook (see :func:`scores_table`)."""
    return scores_table(*score_rows(assignment, db_url))


RULE = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)
"""A table style with nothing but a line of dashes under the header: plain ASCII, readable in any log."""

PLAIN_WIDTH = 10_000
"""Columns of the page :func:`plain_text` renders on: wide enough that no table is wrapped or cut."""


def plain_text(renderable: RenderableType) -> str:
    """What `renderable` prints as where there is no terminal: plain text, no colour, at its natural width."""
    buffer = io.StringIO()
    # A file has no width to fit; rich would squeeze a wide table into 80 columns and cut the cells.
    Console(file=buffer, width=PLAIN_WIDTH, color_system=None, force_terminal=False).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def show(renderable: RenderableType, file: TextIO | None = None) -> None:
    """Print `renderable` to `file` (default: standard output as it is now).

    A terminal gets rich's rendering, fitted to its width and coloured (unless ``NO_COLOR``
    is set; ``FORCE_COLOR`` / ``TTY_COMPATIBLE=1`` make a pipe count as a terminal);
    anything else gets :func:`plain_text`.
    """
    console = Console(file=file)
    if console.is_terminal:
        console.print(renderable)
    else:
        print(plain_text(renderable), file=file if file is not None else sys.stdout)


def _db_url() -> str:
    return os.environ.get("SHALLOW_NARROW_DB_URL") or f"sqlite:///{ROOT / 'gradebook.db'}"


def report(assignment: str) -> Path:
    """Write the class report of `assignment` and return its path."""
    from .course.options import course_options
    from .reports.class_report import write_report

    with_similarity = assignment in course_options(ROOT).similarity_in_report
    out = ROOT / "reports" / f"{assignment}.html"
    return write_report(assignment, _db_url(), ROOT / "autograded", out, with_similarity=with_similarity)


def demo() -> None:
    """Run the course's main job on the built-in examples."""
    from .course.submissions import submit_examples

    for assignment in build_mod.assignments():
        print(f"== {assignment}: release (nbgrader generate_assignment)")
        build_mod.generate_release(assignment)
        students = submit_examples(assignment)
        print(f"== {assignment}: submitted {len(students)} example students: {', '.join(students)}")
        print(f"== {assignment}: nbgrader autograde (sandboxed kernel, verdicts outside it)")
        nbgrader("autograde", assignment, "--create", "--force")
        nbgrader("generate_feedback", assignment, "--force")
        print(f"== {assignment}: feedback written under feedback/<student>/{assignment}/")
        print()
        show(score_table(assignment))
        print()
        print(f"== {assignment}: class report: {report(assignment)}")
        print()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["similarity"]:  # its options are its own (autograder.integrity.similarity)
        from .integrity.similarity import main as similarity

        rest = argv[1:]
        return similarity(rest if "--root" in rest or {"-h", "--help"} & set(rest) else [*rest, "--root", str(ROOT)])
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="regenerate release/ and notebooks/ from source/")
    p_build.add_argument("assignments", nargs="*")
    sub.add_parser("check", help="list stale files in release/ and notebooks/")
    sub.add_parser("demo", help="release, submit the examples, autograde, print the scores")
    p_report = sub.add_parser("report", help="write the class report as one HTML file")
    p_report.add_argument("assignment")
    # Its own options are parsed by autograder.integrity.similarity.main (`similarity --help` lists them).
    p_similar = sub.add_parser(
        "similarity", help="rank pairs of students by how alike their work is", add_help=False
    )
    p_similar.add_argument("rest", nargs=argparse.REMAINDER)  # for the help's list of commands
    p_grade = sub.add_parser(
        "grade",
        help="autograde every submission in parallel",
        description="Autograde every submission in submitted/*/ASSIGNMENT/ through the same secure path as "
        "`nbgrader autograde`, in parallel, and record the results in the gradebook and autograded/.",
        epilog="Unchanged submissions already graded are skipped (autograded/.autograder-state.json); an "
        "interrupted run picks up where it stopped. A submission that cannot be graded (cut off, several candidate "
        "notebooks, none, another assignment's) gets a feedback page saying why and no score; one repaired "
        "before grading (a byte-order mark, a renamed notebook, lost cell metadata) says so in its feedback. "
        "Exit status: 0 when every submission was graded, 1 when some failed or could not be graded (each is "
        "listed with the reason), 2 for a usage error or when the sandbox cannot be built here (the message says "
        "what to install or enable), 130 when interrupted or the terminal closed.",
    )
    p_grade.add_argument("assignment")
    p_grade.add_argument(
        "--workers", type=_positive, default=None, help="worker processes on this machine (default: one per core)"
    )
    p_grade.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of a Dask scheduler to run the notebooks")
    p_grade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    p_grade.add_argument(
        "--unsandboxed",
        action="store_true",
        help="grade even where bubblewrap cannot build the sandbox: student code then runs with resource limits "
        "only; the summary and every feedback file say so",
    )
    args = parser.parse_args(argv)

    os.chdir(ROOT)  # nbgrader reads nbgrader_config.py from the course root
    if args.command == "build":
        build_mod.build(args.assignments)
    elif args.command == "check":
        stale = [f for a in build_mod.assignments() for f in build_mod.stale_files(a)]
        if stale:
            print("Stale (run `make build`):\n  " + "\n  ".join(stale))
            return 1
        print("release/ and notebooks/ are up to date with source/.")
    elif args.command == "demo":
        demo()
    elif args.command in ("report", "grade") and args.assignment not in build_mod.assignments():
        known = ", ".join(build_mod.assignments())
        print(f"error: no assignment {args.assignment!r} in source/ (there are: {known})", file=sys.stderr)
        return 2
    elif args.command == "report":
        print(f"Class report: {report(args.assignment)}")
    elif args.command == "grade":
        from .batch.parallel import GradingInterrupted, grade
        from .kernels.sandbox import SandboxUnavailable

        # Ctrl-C, a closed terminal (SIGHUP) or a polite kill (SIGTERM) stops the run: workers, zygotes
        # and kernels stop, what was recorded stays.
        for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        try:
            summary = grade(
                args.assignment,
                workers=args.workers,
                scheduler=args.scheduler,
                force=args.force,
                unsandboxed=args.unsandboxed,
            )
        except SandboxUnavailable as exc:
            print(f"error: grading refuses to start. {exc}", file=sys.stderr)
            return 2
        except GradingInterrupted as stop:
            print(stop.summary.text())
            print(
                f"Interrupted: {len(stop.summary.graded)} submissions recorded this run are kept; "
                "run the same command again to grade the rest."
            )
            return 130
        except KeyboardInterrupt:  # before grading started (e.g. while the sandbox was being checked)
            print("Interrupted before grading started: nothing was recorded.")
            return 130
        print(summary.text())
        print()
        show(score_table(args.assignment))
        return 1 if summary.failed or summary.ungradable else 0
    return 0


def _interrupt(signum: int, _frame: object) -> None:
    """Turn SIGINT, SIGHUP or SIGTERM into the stop that grading handles."""
    from .batch.parallel import request_stop

    request_stop()


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
