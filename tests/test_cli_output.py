"""What `python -m autograder grade` and `demo` print: the score table, the progress bar, the summary.

Formatting only, from hand-made data and a hand-filled gradebook: nothing is graded here.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.batch import parallel
from autograder.batch.parallel import Summary

ROWS = [
    cli.ScoreRow("ada", {"test_forward": (2, 2), "test_dloss_dw": (3, 3), "think_learning_rate": None}, 8, 10),
    cli.ScoreRow("[b]bob", {"test_forward": (0, 2), "test_dloss_dw": (1, 3)}, 1, 10),
]
COLUMNS = ["test_forward", "test_dloss_dw", "test_training_curve", "think_learning_rate"]
PLAIN = """\
student   test_forward   test_dloss_dw   test_training_curve   think_learning_rate   total
------------------------------------------------------------------------------------------
ada                2/2             3/3                     -                manual    8/10
[b]bob             0/2             1/3                     -                     -    1/10"""

TERMINAL_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS", "TERM")


@pytest.fixture
def no_terminal_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Whatever the environment running the tests says about terminals and colours, forget it."""
    for name in TERMINAL_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_score_table_as_plain_text_is_readable_and_never_cut(no_terminal_settings: pytest.MonkeyPatch) -> None:
    no_terminal_settings.setenv("COLUMNS", "40")  # a narrow "terminal" must not squeeze a log's table
    text = cli.plain_text(cli.scores_table(COLUMNS, ROWS))
    assert text == PLAIN  # "[b]" is a student id's text, not rich markup
    assert "\x1b" not in text and max(map(len, text.splitlines())) > 80


def test_show_prints_plain_text_where_there_is_no_terminal(no_terminal_settings: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    cli.show(cli.scores_table(COLUMNS, ROWS), file=out)
    assert out.getvalue() == PLAIN + "\n"


def test_show_colours_a_terminal_unless_no_color(no_terminal_settings: pytest.MonkeyPatch) -> None:
    no_terminal_settings.setenv("TTY_COMPATIBLE", "1")  # this StringIO counts as a terminal
    out = io.StringIO()
    cli.show(cli.scores_table(COLUMNS, ROWS), file=out)
    assert "\x1b[32m" in out.getvalue()  # full marks in green
    no_terminal_settings.setenv("NO_COLOR", "1")
    out = io.StringIO()
    cli.show(cli.scores_table(COLUMNS, ROWS), file=out)
    assert "\x1b[3" not in out.getvalue() and "test_forward" in out.getvalue()


@pytest.mark.filterwarnings("ignore:.*not in session")  # nbgrader's add_submission, as in every autograde
def test_score_rows_from_a_gradebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        gb.add_assignment("a_test")
        gb.add_notebook("nb", "a_test")
        gb.add_grade_cell("auto", "nb", "a_test", max_score=2, cell_type="code")
        gb.add_grade_cell("essay", "nb", "a_test", max_score=1, cell_type="markdown")
        for student, score in [("zoe", 2), ("ann", 0)]:
            gb.add_student(student)
            gb.add_submission("a_test", student)
            grade = gb.find_grade("auto", "nb", "a_test", student)
            grade.auto_score, grade.needs_manual_grade = score, False  # as nbgrader autograde records it
            gb.db.commit()
    columns, rows = cli.score_rows("a_test", db_url)
    assert columns == ["auto", "essay"]
    assert [(r.student, r.cells, r.score, r.max_score) for r in rows] == [
        ("ann", {"auto": (0.0, 2.0), "essay": None}, 0.0, 3.0),
        ("zoe", {"auto": (2.0, 2.0), "essay": None}, 2.0, 3.0),
    ]
    assert cli.plain_text(cli.score_table("a_test", db_url)).splitlines()[2:] == [
        "ann        0/2   manual     0/3",
        "zoe        2/2   manual     2/3",
    ]


def test_progress_off_a_terminal_is_one_plain_line_at_the_end(
    no_terminal_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = Summary(failed={"bob": "why"})
    for done in (1, 2, 3):
        parallel._progress(done, 3, 0.0, summary)
    assert capsys.readouterr() == ("", "")  # nothing per submission in a log
    parallel._progress(3, 3, 0.0, summary, end=True)
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("3/3 submissions done, 1 failed, ") and err.count("\n") == 1
    parallel._progress(0, 0, 0.0, Summary(), end=True)  # nothing to grade: nothing to say
    assert capsys.readouterr() == ("", "")


def test_progress_on_a_terminal_is_a_bar_that_is_closed_at_the_end(
    no_terminal_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_terminal_settings.setenv("TTY_COMPATIBLE", "1")
    no_terminal_settings.setenv("NO_COLOR", "1")
    stderr = sys.stderr
    summary = Summary()
    try:
        parallel._progress(1, 3, 0.0, summary)
        summary.failed["bob"] = "why"
        parallel._progress(2, 3, 0.0, summary)
    finally:
        parallel._progress(3, 3, 0.0, summary, end=True)
    assert parallel._BAR is None and sys.stderr is stderr  # rich gave stderr back
    err = capsys.readouterr().err
    assert "━" in err and "3/3 done, 1 failed, ETA" in err  # drawn once more when closed
    assert "\x1b[3" not in err  # NO_COLOR


def test_summary_text_keeps_the_lines_scripts_look_for() -> None:
    summary = Summary(graded=["ann", "bob"], skipped=["cy"], failed={"dan": "no notebook"},
                      seconds={"ann": 2.0, "bob": 1.0}, elapsed=3.25)
    assert summary.text().splitlines() == [
        "graded 2, failed 1, skipped 1 (unchanged) in 3.2 s",
        "slowest: ann 2.0 s, bob 1.0 s",
        "FAILED dan: no notebook",
    ]
