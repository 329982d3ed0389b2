"""The similarity report: planted copies among independently written solutions, the normaliser, and the pages.

The corpus (``tests/similarity_corpus/``, see its README) holds 32 solutions of
01_shallow_narrow written independently and 5 planted copies (variables renamed, independent
lines reordered, comments and wording changed, their original's mistake kept).  They are
handed in as the release with their answers filled in, and, for the shared-mistake signal,
"autograded" here without kernels: each check's verdict is judged in-process on the trusted
corpus code and written into the test cells exactly as the grader writes it
(:func:`autograder.nbgrader_plugins.cells.verdict_outputs`).
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import shutil
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import nbformat
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.core import checks
from autograder.core.in_process import judge_without_the_notebook
from autograder.core.mistakes import NOT_IMPLEMENTED
from autograder.core.verdict import Verdict, fail
from autograder.course.submissions import example_answer, submission_from_answer
from autograder.integrity import similarity, views
from autograder.integrity.normalise import normalise_code, normalise_text
from autograder.nbgrader_plugins.cells import verdict_outputs
from conftest import ASSIGNMENT, ROOT, solution_namespace

CORPUS = Path(__file__).parent / "similarity_corpus"
NOTEBOOK = "shallow_narrow.ipynb"
ODD = "Zoë <b>\"O'Hara\" & co"
"""A student id with everything that must be escaped in HTML."""


def _copy_of(answer: str) -> str | None:
    for node in ast.parse(answer).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COPY_OF":
            return str(ast.literal_eval(node.value))
    return None


ANSWERS = {path.stem: path.read_text() for path in sorted(CORPUS.glob("*/*.py"))}
INDEPENDENT = sorted(path.stem for path in CORPUS.glob("independent/*.py"))
PLANTED = {frozenset({path.stem, _copy_of(path.read_text())}) for path in CORPUS.glob("planted/*.py")}


def _release() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def _checks_by_cell() -> dict[str, list[str]]:
    """The checks each graded test cell runs (named in the source notebook's hidden tests)."""
    source = nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: checks.checks_in(cell.source)
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and checks.checks_in(cell.source)
    }


def autograde_in_process(nb: nbformat.NotebookNode, student: str) -> nbformat.NotebookNode:
    """The notebook as the grader would record it: each test cell's outputs are its verdicts.

    For the corpus's own, trusted code only: it runs in this process.
    """
    graded = nbformat.from_dict(nb)
    names = _checks_by_cell()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # diverging training runs of wrong answers
        namespace = solution_namespace(graded)
        for cell in graded.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and not meta.get("solution") and meta.get("grade_id") in names:
                cell.outputs = [
                    output
                    for name in names[meta["grade_id"]]
                    for output in verdict_outputs(name, judge_without_the_notebook(name, namespace, ASSIGNMENT, student))
                ]
    return graded


def make_course(root: Path, answers: dict[str, str | None], grade: bool = False) -> Path:
    """A course folder: the release, and each student's answer handed in (None: the release as it is)."""
    shutil.copytree(ROOT / "release" / ASSIGNMENT, root / "release" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    release = _release()
    for student, answer in answers.items():
        nb = release if answer is None else submission_from_answer(release, answer)
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
        if grade:
            folder = root / "autograded" / student / ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(autograde_in_process(nb, student), folder / NOTEBOOK)
    return root


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus handed in and autograded."""
    return make_course(tmp_path_factory.mktemp("graded"), dict(ANSWERS), grade=True)


@pytest.fixture(scope="module")
def ungraded_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus handed in, nothing autograded yet."""
    return make_course(tmp_path_factory.mktemp("ungraded"), dict(ANSWERS))


@pytest.fixture(scope="module")
def graded_report(graded_course: Path) -> similarity.SimilarityReport:
    return similarity.compare(graded_course, ASSIGNMENT)


@pytest.fixture(scope="module")
def ungraded_report(ungraded_course: Path) -> similarity.SimilarityReport:
    return similarity.compare(ungraded_course, ASSIGNMENT)


def _pair(report: similarity.SimilarityReport, a: str, b: str) -> similarity.Pair:
    return next(p for p in report.pairs if {p.a, p.b} == {a, b})


# -- the corpus ----------------------------------------------------------------------------


def test_the_corpus_has_30_independent_solutions_and_disguised_copies() -> None:
    assert len(INDEPENDENT) >= 30
    assert len(PLANTED) == 5
    release = _release()
    starter = next(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")
                   and c.cell_type == "code")  # fmt: skip

    def code(student: str) -> str:
        nb = submission_from_answer(release, ANSWERS[student])
        return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                    and c.cell_type == "code")  # fmt: skip

    for pair in PLANTED:
        copy = next(s for s in pair if _copy_of(ANSWERS[s]))
        original = _copy_of(ANSWERS[copy])
        assert original in INDEPENDENT, copy
        # A real disguise: the code and the answer as handed in differ, yet they are one solution.
        assert code(copy) != code(original)
        assert ANSWERS[copy].split("WRITTEN_ANSWERS")[1] != ANSWERS[original].split("WRITTEN_ANSWERS")[1]
    # Independent solutions: no two hand in the same normalised code (the class's common one-liners aside).
    versions = [normalise_code(code(s), starter).statements for s in INDEPENDENT]
    dloss = [tuple(s.text for s in v if s.scope.endswith("dloss_dw")) for v in versions]
    assert len(set(dloss)) >= len(INDEPENDENT) - 2


# -- the ranking ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["graded_report", "ungraded_report"])
def test_every_planted_pair_ranks_above_every_independent_pair(which: str, request: pytest.FixtureRequest) -> None:
    report = request.getfixturevalue(which)
    assert len(report.students) == len(ANSWERS)
    ranked = [frozenset({p.a, p.b}) for p in report.pairs]
    assert set(ranked[: len(PLANTED)]) == PLANTED, ranked[: len(PLANTED) + 2]
    lowest_planted = min(p.score for p in report.pairs if frozenset({p.a, p.b}) in PLANTED)
    others = [p.score for p in report.pairs if frozenset({p.a, p.b}) not in PLANTED]
    assert others and max(others) < lowest_planted  # the listed others are the best of the rest


@pytest.mark.parametrize("which", ["graded_report", "ungraded_report"])
def test_only_the_planted_pairs_are_flagged(which: str, request: pytest.FixtureRequest) -> None:
    report = request.getfixturevalue(which)
    assert {frozenset({p.a, p.b}) for p in report.flagged_pairs} == PLANTED
    assert report.median < 0.05  # most pairs of independent students have next to nothing in common


def test_independent_right_solutions_are_not_flagged(graded_report: similarity.SimilarityReport) -> None:
    corpus = graded_report.corpus
    right = {w.student for w in corpus.works if w.graded and not w.mistakes}
    assert len(right & set(INDEPENDENT)) >= 15  # most of the class got it right
    for pair in graded_report.pairs:
        if pair.a in right and pair.b in right and frozenset({pair.a, pair.b}) not in PLANTED:
            assert not pair.flagged and pair.score < graded_report.settings.flag


def test_mistakes_come_from_the_autograded_verdicts(
    graded_report: similarity.SimilarityReport, ungraded_report: similarity.SimilarityReport
) -> None:
    assert graded_report.graded == len(ANSWERS) and ungraded_report.graded == 0
    swapped = _pair(graded_report, "s19_samir", "s35_ines")  # a mistake only these two make
    diagnosed = {m.detail: m.students for m in swapped.shared_mistakes if m.kind == "diagnosed"}
    assert diagnosed == {"grad_swapped_weights": 2}
    assert any(m.kind == "same output" and m.check == "shallow_narrow.seed_run" for m in swapped.shared_mistakes)
    flipped = _pair(graded_report, "s08_hana", "s36_jonas")  # the class's most common mistake
    assert {m.detail: m.students for m in flipped.shared_mistakes if m.kind == "diagnosed"} == {"grad_sign_flipped": 4}
    assert swapped.mistakes == pytest.approx(1.0) and 0 < flipped.mistakes < 0.5
    for pair in PLANTED:  # shared mistakes raise a score, never lower it
        a, b = sorted(pair)
        assert _pair(graded_report, a, b).score >= _pair(ungraded_report, a, b).score
        assert _pair(ungraded_report, a, b).mistakes is None
    assert _pair(graded_report, "s19_samir", "s35_ines").score > _pair(ungraded_report, "s19_samir", "s35_ines").score


def test_a_not_implemented_function_or_a_pass_is_no_mistake() -> None:
    def notebook(*verdicts: tuple[str, Verdict]) -> dict:
        outputs = [o for name, v in verdicts for o in verdict_outputs(name, v)]
        cell = {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "solution": False}}, "outputs": outputs}
        return json.loads(json.dumps({"cells": [cell]}))  # as read back from disk

    assert similarity.read_mistakes(notebook(("a.f", fail("`f` raised NotImplementedError.", NOT_IMPLEMENTED)))) == []
    assert similarity.read_mistakes(notebook(("a.f", Verdict(1.0, "right")))) == []
    signs = similarity.read_mistakes(
        notebook(("a.f", Verdict(1.0, "right")), ("a.g", Verdict(0.0, "off by 2.5 at x = 3")))
    )
    assert [(s.check, s.kind, s.detail) for s in signs] == [
        ("a.g", "same output", "off by 2.5 at x = 3"),
        ("a.g", "symptom", "off by # at x = #"),
    ]


def test_code_everyone_writes_is_not_flagged(tmp_path: Path) -> None:
    # Twelve students hand in the same (right) code, each with their own answer.
    right = example_answer(ASSIGNMENT, "correct").split("WRITTEN_ANSWERS")[0]
    texts = [ANSWERS[s].split("WRITTEN_ANSWERS")[1] for s in INDEPENDENT[:12]]
    answers = {f"student{i:02d}": f"{right}WRITTEN_ANSWERS{text}" for i, text in enumerate(texts)}
    report = similarity.compare(make_course(tmp_path, answers), ASSIGNMENT)
    assert not report.flagged_pairs
    assert all(p.code is not None and p.code < 0.05 for p in report.pairs)
    assert report.cells[0].most_common == 12  # and the report says the whole class wrote it


def test_the_ranking_is_the_same_in_every_run(graded_course: Path, graded_report: similarity.SimilarityReport) -> None:
    again = similarity.compare(graded_course, ASSIGNMENT)
    assert [(p.a, p.b, p.score) for p in again.pairs] == [(p.a, p.b, p.score) for p in graded_report.pairs]
    # Fingerprints do not depend on Python's per-process string hashing (copydetect's own hashes do).
    code = (
        "from autograder.integrity.similarity import fingerprints; "
        "print(sorted(fingerprints(list('abcdefghij'), 3, 2)))"
    )
    runs = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, text=True,
                       capture_output=True, check=True).stdout  # fmt: skip
        for seed in ("1", "2")
    }
    assert runs == {f"{sorted(similarity.fingerprints(list('abcdefghij'), 3, 2))}\n"}


# -- the pair sums -------------------------------------------------------------------------


@given(
    st.lists(st.sets(st.integers(0, 12), max_size=10), min_size=2, max_size=9),
    st.sampled_from([1, 2, 48]),
)
def test_pair_sums_are_the_rarity_weighted_overlaps(features: list[set[int]], dense_above: int) -> None:
    original = similarity.DENSE_ABOVE
    similarity.DENSE_ABOVE = dense_above  # both ways of summing: pair by pair, and the matrix product
    try:
        shared, totals, df = similarity.pair_sums(features)
    finally:
        similarity.DENSE_ABOVE = original
    n = len(features)
    weight = {f: np.log(max(n, 10) / sum(f in s for s in features)) for s in features for f in s}
    for i, j in itertools.combinations(range(n), 2):
        assert shared[i, j] == pytest.approx(sum(weight[f] for f in features[i] & features[j]), abs=1e-5)
        assert shared[j, i] == pytest.approx(shared[i, j], abs=1e-9)
    for i in range(n):
        assert totals[i] == pytest.approx(sum(weight[f] for f in features[i]))


# -- the normaliser ------------------------------------------------------------------------

STARTER = '''class Net:
  def f(self, x, y_true):
    """Docstring of the release."""
    assert x.shape == y_true.shape
    # YOUR CODE HERE
    raise NotImplementedError()
    return g1, g2
'''

BODY = """    {r} = y_true - self.w1 * self.w2 * x
    {a} = np.mean({r} * x)
    {g1} = -2 * self.w2 * {a}
    {g2} = -2 * self.w1 * {a}
    {k} = len(x)
    return {g1}, {g2}
"""


def _cell(body: str) -> str:
    return STARTER.replace("    # YOUR CODE HERE\n    raise NotImplementedError()\n", body)


def _texts(source: str) -> list[str]:
    return [s.text for s in normalise_code(source, STARTER).statements]


IDENTIFIER = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: not __import__("keyword").iskeyword(s) and s not in {"self", "np", "x", "y_true", "len"}
)


@given(st.lists(IDENTIFIER, min_size=5, max_size=5, unique=True))
def test_local_names_do_not_matter(names: list[str]) -> None:
    mine = BODY.format(r="resid", a="avg", g1="g1", g2="g2", k="n")
    theirs = BODY.format(**dict(zip(["r", "a", "g1", "g2", "k"], names)))
    assert _texts(_cell(theirs)) == _texts(_cell(mine))


@given(st.permutations([1, 2, 3]))
def test_independent_lines_have_one_order(order: list[int]) -> None:
    lines = BODY.format(r="r", a="a", g1="g1", g2="g2", k="n").splitlines(keepends=True)
    # Lines 2, 3 and 4 (g1, g2, n) depend on a but not on each other; r and a must come first.
    shuffled = "".join([lines[0], lines[1], *(lines[i + 1] for i in order), lines[5]])
    assert _texts(_cell(shuffled)) == _texts(_cell("".join(lines)))


def test_comments_docstrings_layout_and_starter_code_do_not_count() -> None:
    plain = _cell(BODY.format(r="r", a="a", g1="g1", g2="g2", k="n"))
    noisy = _cell(
        '    """my own docstring"""\n'
        "    r = (y_true -   self.w1*self.w2*x)   # residuals\n\n"
        "    # the mean\n"
        "    a = np.mean(r*x)\n"
        "    g1 = -2*self.w2*a; g2 = -2*self.w1*a\n"
        "    n = len(\n        x)\n"
        "    return (g1, g2)\n"
    )
    assert _texts(noisy) == _texts(plain)
    assert _texts(STARTER) == []  # the release itself: nothing of the student's own
    texts = _texts(plain)
    assert "assert" not in " ".join(texts) and "NotImplementedError" not in " ".join(texts)
    assert sum(t.startswith("return") for t in texts) == 1  # the student's; the release's after it is dropped
    assert len(texts) == 6


def test_dependent_lines_keep_their_order() -> None:
    # The same lines in the other order: a different program, so it must stay different.
    first = _cell("    t = x * 2\n    t = t + y_true\n    g1, g2 = t, t\n")
    second = _cell("    t = t + y_true\n    t = x * 2\n    g1, g2 = t, t\n")
    assert sorted(_texts(first)) == sorted(_texts(second)) and _texts(first) != _texts(second)


def test_code_that_does_not_parse_is_compared_line_by_line() -> None:
    result = normalise_code(_cell("    r = y_true - (self.w1 * x  # unclosed\n    a = np.mean(r)\n"), STARTER)
    assert not result.parsed
    texts = [s.text for s in result.statements]
    assert texts == ["r = y_true - (self.w1 * x", "a = np.mean(r)"]  # no comment, no starter lines


def test_written_answers_are_compared_by_their_words() -> None:
    words = normalise_text("YOUR ANSWER HERE\n**No!** The Weights *oscillate*, and it's slower.", "YOUR ANSWER HERE")
    assert [w.text for w in words] == ["weight", "oscillate", "slower"]
    text = "No, the weights oscillate"
    assert [text[w.start : w.end] for w in normalise_text(text)] == ["weights", "oscillate"]


# -- the pages -----------------------------------------------------------------------------


class Page(HTMLParser):
    """The links, the text and the marked spans of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self.marks: dict[str, list[str]] = {}
        self._stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "span":
            self._stack.append(str(found.get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._stack:
            self.marks.setdefault(self._stack[-1], []).append(data)


def test_each_listed_pair_has_a_side_by_side_view(graded_course: Path, tmp_path: Path) -> None:
    out = tmp_path / "similarity"
    out.mkdir()
    (out / "pair-9999.html").write_text("stale")
    report = similarity.write_report(graded_course, ASSIGNMENT, out)
    index = Page((out / "index.html").read_text())
    pages = sorted(p.name for p in out.glob("pair-*.html"))
    assert pages == sorted(p.page for p in report.pairs)  # the stale page is gone
    assert sorted(link for link in index.links if link.startswith("pair-")) == pages
    view = Page((out / _pair(report, "s19_samir", "s35_ines").page).read_text())
    assert "index.html" in view.links
    # The copied gradient is marked on both sides, the starter code folded away, the copied phrases marked.
    rare = "".join(view.marks.get("rare", []))
    assert "np.mean(resid * self.w1 * x)" in rare and "np.mean(r * self.w1 * x)" in rare
    assert any("lines of starter code" in t for t in view.marks.get("folded", []))
    assert "disaster" in rare
    assert "grad_swapped_weights" not in "".join(view.text)  # mistakes are named by their title
    assert "w1 and w2 are swapped" in "".join(view.text)
    text = "".join(index.text)
    assert "ShallowNarrowExercise.forward" in text  # the report says which code most of the class shares


def test_student_ids_are_escaped(tmp_path: Path) -> None:
    copy = ANSWERS["s12_lucia"].replace("slope", "s")
    answers = {"s12_lucia": ANSWERS["s12_lucia"], ODD: copy, **{s: ANSWERS[s] for s in INDEPENDENT[:6]}}
    root = make_course(tmp_path / "course", answers)
    report = similarity.write_report(root, ASSIGNMENT)
    out = similarity.default_output(root, ASSIGNMENT)
    assert report.pairs[0].flagged and ODD in {report.pairs[0].a, report.pairs[0].b}
    for page in [out / "index.html", out / report.pairs[0].page]:
        html = page.read_text()
        assert "<b>\"O'Hara\"" not in html
        assert ODD in "".join(Page(html).text)
    fragment = views.section_html(report, link_base=f"{ASSIGNMENT}/similarity/")
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert "<b>\"O'Hara\"" not in fragment and ODD in "".join(Page(fragment).text)
    # Markup: the class report's template (autoescaping on) inserts it as it is, not escaped twice.
    assert jinja2.Environment(autoescape=True).from_string("{{ f }}").render(f=fragment) == str(fragment)
    assert Page(fragment).links == [f"{ASSIGNMENT}/similarity/{p.page}" for p in report.flagged_pairs] + [
        f"{ASSIGNMENT}/similarity/index.html"
    ]


def test_what_cannot_be_compared_is_said(tmp_path: Path) -> None:
    answers: dict[str, str | None] = {s: ANSWERS[s] for s in INDEPENDENT[:4]}
    answers["unfinished"] = None
    answers["broken"] = ANSWERS[INDEPENDENT[0]]
    root = make_course(tmp_path, answers)
    path = root / "submitted" / "broken" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "shallow_narrow_class")
    cell.source = cell.source.replace("def dloss_dw(self, x, y_true):\n", "def dloss_dw(self, x, y_true):\n    (\n")
    nbformat.write(nb, path)
    (root / "submitted" / "no_notebook" / ASSIGNMENT).mkdir(parents=True)
    (root / "submitted" / "corrupt" / ASSIGNMENT).mkdir(parents=True)
    (root / "submitted" / "corrupt" / ASSIGNMENT / NOTEBOOK).write_text("{not json")
    report = similarity.write_report(root, ASSIGNMENT)
    assert set(report.left_out) == {"no_notebook", "corrupt"}
    assert "no shallow_narrow.ipynb" in report.left_out["no_notebook"]
    assert report.unparsed == {"broken": ["shallow_narrow_class"]}
    assert len(report.students) == 6 and report.pairs_compared == 15
    unfinished = [p for p in report.pairs if "unfinished" in (p.a, p.b)]
    assert all(p.score == 0 for p in unfinished)  # the release as it is has nothing of its own to share
    text = "".join(Page((similarity.default_output(root, ASSIGNMENT) / "index.html").read_text()).text)
    assert "no_notebook" in text and "corrupt" in text and "Nothing is autograded yet" in text


def test_the_command(graded_course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    out = tmp_path / "pages"
    assert similarity.main([ASSIGNMENT, "--root", str(graded_course), "--out", str(out), "--also-show", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"{len(ANSWERS)} submissions" in printed and "5 flagged" in printed
    assert printed.count("FLAGGED") == 5 and (out / "index.html").is_file()
    assert similarity.main(["no_such_assignment", "--root", str(graded_course)]) == 2
    monkeypatch.chdir(tmp_path)  # no nbgrader_config.py here or above: say so rather than guess
    assert similarity.main([ASSIGNMENT]) == 2
    assert "nbgrader_config.py" in capsys.readouterr().err


def test_the_course_command_runs_it(graded_course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from autograder import cli

    out = tmp_path / "pages"
    assert cli.main(["similarity", ASSIGNMENT, "--root", str(graded_course), "--out", str(out)]) == 0
    assert "5 flagged" in capsys.readouterr().out and (out / "index.html").is_file()
    with pytest.raises(SystemExit) as help_shown:  # its own options, listed by its own --help
        cli.main(["similarity", "--help"])
    assert help_shown.value.code == 0 and "--also-show" in capsys.readouterr().out
