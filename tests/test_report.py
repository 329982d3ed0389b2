"""The class report: built from a real gradebook and real autograded notebooks of a scratch course."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.core import checks
from autograder.reports import class_report as report
from autograder.course.submissions import example_answer, fill_stubs, method_bodies
from conftest import ASSIGNMENT

ODD = "Zoë <b>\"O'Hara\" & co"
"""A student id with everything that must be escaped in HTML (nbgrader accepts it as a folder name)."""

RIGHT = example_answer(ASSIGNMENT, "correct")
SIGN_FLIPPED = example_answer(ASSIGNMENT, "sign_flipped")
ADDS_AND_FLIPPED = SIGN_FLIPPED.replace("y = self.w1 * self.w2 * x", "y = (self.w1 + self.w2) * x")
"""Two mistakes at once: the forward pass adds the weights, the gradients have the wrong sign."""

assert ADDS_AND_FLIPPED != SIGN_FLIPPED
STUDENTS = {"ada": RIGHT, "bob": SIGN_FLIPPED, ODD: ADDS_AND_FLIPPED}


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts (entities decoded), and every image source."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def table(self, first_header: str) -> list[dict[str, str]]:
        """The rows of the table whose first column is headed `first_header`, as dicts."""
        for rows in self.tables:
            if rows and rows[0] and rows[0][0] == first_header:
                return [dict(zip(rows[0], row)) for row in rows[1:]]
        raise KeyError(first_header)


@pytest.fixture(scope="module")
def graded(course):
    """Three autograded students (one with a written answer still to grade) and one who never submitted."""
    from nbgrader.api import Gradebook

    for student, answer in STUDENTS.items():
        nb = fill_stubs(course.release_notebook(), list(method_bodies(answer).values()))
        if student == "ada":
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "think_learning_rate":
                    cell.source = "Too large a learning rate overshoots; too small a one crawls."
        course.submit(student, nb)
    course.autograde()
    with Gradebook(course.db_url) as gb:
        gb.add_student("eve")  # in the class, no submission
    return course


@pytest.fixture(scope="module")
def page(graded, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    assert report.write_report(ASSIGNMENT, graded.db_url, graded.root / "autograded", out) == out
    return out.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.IGNORECASE)
    assert "<script" not in page and "<link" not in page
    images = Tables(page).images
    assert len(images) == 3  # score histogram, pass rates, mistakes
    assert all(src.startswith("data:image/png;base64,") and len(src) > 1000 for src in images)


def test_student_ids_are_escaped(page: str) -> None:
    assert ODD not in page and "<b>\"O'Hara\"" not in page
    # Escaped by Jinja2's autoescaping (MarkupSafe writes quotes as &#34; and &#39;).
    assert "Zoë &lt;b&gt;&#34;O&#39;Hara&#34; &amp; co" in page
    students = {row["student"] for row in Tables(page).table("student")}
    assert students == set(STUDENTS)


def test_per_test_pass_rates(page: str) -> None:
    tests = {row["test"]: row for row in Tables(page).table("test")}
    assert list(tests) == ["test_forward", "test_dloss_dw", "test_training_curve", "test_seed_run", "think_learning_rate"]
    assert (tests["test_forward"]["passed"], tests["test_forward"]["graded"]) == ("2", "3")
    assert (tests["test_dloss_dw"]["passed"], tests["test_dloss_dw"]["pass rate"]) == ("1", "33%")
    assert tests["test_seed_run"]["passed"] == "1"
    assert tests["think_learning_rate"]["kind"] == "manual"
    assert tests["think_learning_rate"]["awaiting grading"] == "1"  # ada wrote an answer; the others left it blank


def test_mistakes_table_counts_students(page: str) -> None:
    mistakes = {row["mistake"]: row for row in Tables(page).table("mistake")}
    assert set(mistakes) == {"grad_sign_flipped", "forward_adds_weights"}
    assert mistakes["grad_sign_flipped"]["students"] == "2"
    assert mistakes["forward_adds_weights"]["students"] == "1"
    assert mistakes["grad_sign_flipped"]["what it is"] == report.catalogue()["grad_sign_flipped"].title
    assert "shallow_narrow.dloss_dw" in mistakes["grad_sign_flipped"]["seen in"]


def test_per_student_rows(page: str) -> None:
    rows = {row["student"]: row for row in Tables(page).table("student")}
    assert rows["ada"]["total"] == "8/10" and rows["ada"]["think_learning_rate"] == "to grade"
    assert "manual grading pending" in rows["ada"]["notes"] and rows["ada"]["diagnosed mistakes"] == "–"
    assert rows["bob"]["test_forward"] == "2/2" and rows["bob"]["test_dloss_dw"] == "0/3"
    assert rows["bob"]["diagnosed mistakes"] == "grad_sign_flipped"
    assert rows[ODD]["total"] == "0/10"
    assert set(rows[ODD]["diagnosed mistakes"].split(", ")) == {"forward_adds_weights", "grad_sign_flipped"}
    assert "1 student(s) in the gradebook have not submitted" in page


def test_missing_autograded_notebook_is_reported(graded, tmp_path: Path) -> None:
    autograded = tmp_path / "autograded"
    shutil.copytree(graded.root / "autograded", autograded)
    shutil.rmtree(autograded / "bob")
    (autograded / ODD / ASSIGNMENT / "shallow_narrow.ipynb").chmod(0o644)
    (autograded / ODD / ASSIGNMENT / "shallow_narrow.ipynb").write_text("{not json")
    tables = Tables(report.write_report(ASSIGNMENT, graded.db_url, autograded, tmp_path / "r.html").read_text())
    rows = {row["student"]: row for row in tables.table("student")}
    assert rows["bob"]["notes"] == "no autograded notebook" and rows["bob"]["test_dloss_dw"] == "0/3"
    assert "unreadable: shallow_narrow.ipynb" in rows[ODD]["notes"]
    with pytest.raises(KeyError):
        tables.table("mistake")  # nothing left to count
    assert "No known mistake was diagnosed" in (tmp_path / "r.html").read_text()


def test_no_submissions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        gb.add_assignment(ASSIGNMENT)
        gb.add_student("ada")
    page = report.write_report(ASSIGNMENT, db_url, tmp_path / "autograded", tmp_path / "r.html").read_text()
    assert "No submissions for this assignment yet" in page and "<img" not in page
    page = report.write_report("no_such_assignment", db_url, tmp_path, tmp_path / "r2.html").read_text()
    assert "no assignment named" in page
    with pytest.raises(FileNotFoundError, match="no gradebook"):
        report.write_report(ASSIGNMENT, f"sqlite:///{tmp_path / 'missing.db'}", tmp_path, tmp_path / "r3.html")
    assert not (tmp_path / "missing.db").exists()


def test_rendering_escapes_everything_and_names_unknown_codes() -> None:
    row = report.StudentRow("<script>alert('x')</script>", 1.0, 2.0)
    row.tests["t<1>"] = report.TestResult("t<1>", 1.0, 2.0, manual=False, pending=False)
    row.mistakes = {"code\"<x>": ["check<&>"]}
    data = report.ClassData("a<b>", True, 2.0, [report.TestColumn("t<1>", 2.0, manual=False)], [row], 0)
    page = report.render(data)
    assert "<script" not in page and "alert(&#39;x&#39;)" in page
    assert "a&lt;b&gt;" in page and "t&lt;1&gt;" in page and "check&lt;&amp;&gt;" in page
    mistakes = Tables(page).table("mistake")
    assert mistakes[0]["mistake"] == 'code"<x>' and "not in the current catalogue" in mistakes[0]["what it is"]
    assert Tables(page).table("student")[0]["t<1>"] == "1/2"


def test_verdicts_are_read_from_metadata_or_from_data_once() -> None:
    details = {"check": "shallow_narrow.dloss_dw", "score": 0.0, "mistakes": ["grad_sign_flipped"]}
    with_metadata = {"output_type": "display_data", "data": {report.VERDICT_MIME: json.dumps(details)},
                     "metadata": {report.VERDICT_KEY: details}}
    data_only = {"output_type": "display_data", "data": {report.VERDICT_MIME: json.dumps(details)}, "metadata": {}}
    nb = {"cells": [{"cell_type": "code", "outputs": [with_metadata]}, {"cell_type": "code", "outputs": [data_only]},
                    {"cell_type": "markdown"}, "junk"]}
    assert list(report._verdicts_in(nb)) == [details, details]  # once per cell


def test_a_mistake_is_titled_from_its_own_assignment_s_catalogue() -> None:
    depth = checks.registry()["depth"].mistakes
    assert report._title("deep_forward_sum") == depth["deep_forward_sum"].title
    assert report._title("lost_precision") == "the values are close but only to a few significant digits"
    # A code the autograded notebooks carry but no assignment knows any more (renamed since).
    assert report._title("no_such_mistake") == "(not in the current catalogue)"


def test_the_similarity_section_is_there_only_when_asked_for(graded, tmp_path: Path) -> None:
    out = tmp_path / "reports" / f"{ASSIGNMENT}.html"
    report.write_report(ASSIGNMENT, graded.db_url, graded.root / "autograded", out, with_similarity=True)
    page = out.read_text(encoding="utf-8")
    assert page.count('<section id="similarity">') == 1
    assert f"{len(STUDENTS)} submissions, {len(STUDENTS) * (len(STUDENTS) - 1) // 2} pairs compared" in page
    assert (tmp_path / "reports" / ASSIGNMENT / "similarity" / "index.html").is_file()
    for link in re.findall(r'href="([^"#]+)"', page):  # every side-by-side link leads to a page written beside it
        assert (out.parent / link.replace("%20", " ")).is_file(), link
    assert ODD not in page  # escaped wherever the section names a student
    report.write_report(ASSIGNMENT, graded.db_url, graded.root / "autograded", out)
    assert 'id="similarity"' not in out.read_text(encoding="utf-8")


def test_the_course_opts_in_per_assignment(tmp_path: Path) -> None:
    from autograder.course.options import course_options

    assert course_options(tmp_path).similarity_in_report == []  # no config: nothing opted in
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseOptions.similarity_in_report = ['01_shallow_narrow']\n"
    )
    assert course_options(tmp_path).similarity_in_report == ["01_shallow_narrow"]
