"""Feedback readable offline: its math is MathML written into the page, and the page loads nothing.

Every formula of every source notebook must convert (a formula the converter cannot handle fails
here, not on a student's page), the MathML must survive nbconvert's Markdown renderer intact, and a
real ``nbgrader generate_feedback`` with the course's configuration must write a page with no raw
``$...$``, no script and no other resource fetched from anywhere, whose every image is described.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import MarkdownWithMath, markdown2html_mistune
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.course import build
from autograder.course.submissions import example_answer, submission_from_answer
from autograder.nbgrader_plugins.offline_math import (
    RenderMath,
    UnsupportedMath,
    feedback_template_dirs,
    latex_to_mathml,
    math_html,
    math_spans,
    render_math,
)
from conftest import ASSIGNMENT, ROOT

MATH_TOKENS = ("inline_math", "block_math", "latex_environment")


def _math_tokens(markdown: str) -> list[dict]:
    """The formulas nbconvert's Markdown parser finds in a text (what it would leave to MathJax)."""

    def walk(tokens: list[dict]):
        for token in tokens:
            yield token
            yield from walk(token.get("children") or [])

    tokens, _ = MarkdownWithMath(renderer=None).parse(markdown)
    return [t for t in walk(tokens) if t["type"] in MATH_TOKENS]


def _markdown_cells() -> list[tuple[str, int, str]]:
    return [
        (f"{path.parent.name}/{path.name}", index, cell.source)
        for path in sorted((ROOT / "source").glob("*/*.ipynb"))
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if cell.cell_type == "markdown" and _math_tokens(cell.source)
    ]


MARKDOWN_CELLS = _markdown_cells()


class Page(HTMLParser):
    """What a page would load, its images' alt texts and the text of its ``<math>`` elements."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []  # every src, and href of a <link>: fetched when the page opens
        self.scripts = 0
        self.alts: list[str | None] = []
        self.maths: list[str] = []
        self.text: list[str] = []  # text outside <math>, <style>, <pre> and <code>
        self._inside: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.alts.append(found.get("alt"))
        if found.get("src") is not None:
            self.loads.append(found["src"] or "")
        if tag == "link" and found.get("href") is not None:
            self.loads.append(found["href"] or "")
        if tag == "math":
            self.maths.append("")
        if tag in ("math", "style", "pre", "code", "script"):
            self._inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._inside and self._inside[-1] == tag:
            self._inside.pop()

    def handle_data(self, data: str) -> None:
        if "math" in self._inside:
            self.maths[-1] += data
        elif not self._inside:
            self.text.append(data)


def assert_offline(page: str) -> Page:
    """Assert that an HTML page shows its math and images without a network, described; return what it holds."""
    parsed = Page(page)
    assert parsed.scripts == 0, "the page runs no script (no MathJax)"
    assert all(src.startswith("data:") for src in parsed.loads), [s[:80] for s in parsed.loads]
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", page, re.DOTALL))
    assert "@import" not in styles
    fetched = [url for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", styles) if not url.startswith("data:")]
    # Bootstrap's icon font, relative to a folder the page does not have: only loaded for an element of
    # class "glyphicon", and the feedback has none.
    assert all(re.match(r"\.\./fonts/glyphicons", url) for url in fetched), fetched
    assert 'class="glyphicon' not in page
    raw = [t for t in parsed.text if re.search(r"\$[^$\s][^$]*\$", t)]
    assert raw == [], f"formulas left as raw LaTeX: {raw[:3]}"
    for alt in parsed.alts:
        assert alt and alt.strip().lower() not in ("image", "figure", "plot"), f"an image without a description: {alt}"
        assert len(re.findall(r"\d+(?:\.\d+)?", alt)) >= 3, f"a description without the picture's numbers: {alt!r}"
    return parsed


# -- every formula of the course converts -------------------------------------------------------------------


def test_the_course_has_formulas_to_convert() -> None:
    assert {name.split("/")[0] for name, _, _ in MARKDOWN_CELLS} == set(build.assignments())


@pytest.mark.parametrize("name, index, source", MARKDOWN_CELLS, ids=[f"{n}[{i}]" for n, i, _ in MARKDOWN_CELLS])
def test_every_formula_of_the_source_notebooks_becomes_mathml(name: str, index: int, source: str) -> None:
    spans = math_spans(source)
    assert len(spans) == len(_math_tokens(source)), "every formula the renderer sees is found in the text"
    for span in spans:
        latex_to_mathml(span.latex, span.display)  # raises UnsupportedMath for what it cannot render
    rendered = render_math(source, on_error=pytest.fail)
    assert _math_tokens(rendered) == [], "nothing is left for MathJax"
    html = markdown2html_mistune(rendered)
    assert html.count("<math ") == len(spans) and "$" not in re.sub(r"<code>.*?</code>", "", html, flags=re.DOTALL)


# -- the converter -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "latex",
    [r"\foo x", r"x^", r"\frac{1}", r"\left( x", r"\begin{aligned} a &= b \end{aligned}", "{", "}"],
)
def test_what_the_converter_cannot_render_is_refused(latex: str) -> None:
    with pytest.raises(UnsupportedMath) as refused:
        latex_to_mathml(latex)
    assert refused.value.latex == latex


def test_a_formula_that_cannot_be_rendered_is_shown_as_its_source() -> None:
    problems: list[UnsupportedMath] = []
    html = markdown2html_mistune(render_math(r"fine $w_1$, broken $\foo x$.", on_error=problems.append))
    assert [p.latex for p in problems] == [r"\foo x"]
    assert html.count("<math ") == 1 and r'<code class="latex" title="LaTeX (not rendered)">\foo x</code>' in (
        html.replace("&#92;", "\\")
    )


def test_mathml_has_no_namespace_and_keeps_its_source() -> None:
    mathml = latex_to_mathml(r"\hat y = w_1 w_2 x", display=True)
    assert mathml.startswith('<math display="block" alttext=') and "xmlns" not in mathml and "http" not in mathml
    assert Page(markdown2html_mistune(mathml)).maths == ["y^=w1w2x"]  # y with a hat over it


def test_code_and_escaped_dollars_are_not_math() -> None:
    source = "costs \\$5 and \\$6; code `$w_1$` stays, $w_1$ does not\n\n```\n$$x$$\n```\n"
    assert [span.latex for span in math_spans(source)] == ["w_1"]
    rendered = render_math(source)
    assert "`$w_1$`" in rendered and "```\n$$x$$\n```" in rendered and "\\$5 and \\$6" in rendered


LATEX = st.lists(
    st.sampled_from([*"abxyw0129+-=*_^()[]{}|<>.,;!' \\", "\\frac", "\\eta", "\\sum_{i}", "\\hat", "\\text{a b}"]),
    max_size=12,
).map("".join)
"""LaTeX, good and broken: what a student might write between dollars."""
PROSE = st.text(alphabet=list("abc *_[]()#\\&<>.-"), max_size=20)
"""Markdown around a formula, on its line (code spans and image alt texts, which hold text only, left out)."""


@given(latex=LATEX, before=PROSE, after=PROSE)
def test_mathml_survives_the_markdown_renderer_intact(latex: str, before: str, after: str) -> None:
    """Whatever Markdown surrounds a formula, nbconvert's renderer passes its MathML through unchanged."""
    try:
        mathml = latex_to_mathml(latex)
    except UnsupportedMath:
        return
    alone = Page(mathml).maths
    assert Page(markdown2html_mistune(f"Text {before} {mathml} {after}")).maths == alone


@given(latex=LATEX)
def test_math_in_plain_text_is_escaped_around_and_rendered_inside(latex: str) -> None:
    assume(latex.strip() and not latex.endswith("\\"))  # "\$" would be an escaped dollar, not the formula's end
    html = math_html(f"<b>x</b> ${latex}$ & y")
    page = Page(html)
    text = "".join(page.text)
    assert text.startswith("<b>x</b> ") and text.endswith(" & y") and "$" not in text
    try:
        assert page.maths == Page(latex_to_mathml(latex)).maths
    except UnsupportedMath:
        assert page.maths == [] and '<code class="latex"' in html


def test_the_preprocessor_renders_markdown_cells_and_math_outputs() -> None:
    nb = new_notebook(cells=[
        new_markdown_cell("the loss $L = \\overline{r^2}$"),
        new_code_cell("display(...)", outputs=[
            new_output("display_data", data={"text/markdown": "slope $w_1 w_2$", "text/plain": "slope"}),
            new_output("display_data", data={"text/latex": "$\\displaystyle x^{2}$", "text/plain": "x**2"}),
            new_output("stream", name="stdout", text="a $ b $ c\n"),  # printed text is shown as it is
        ]),
    ])
    nb, _ = RenderMath().preprocess(nb, {})
    markdown, code = nb.cells
    assert "<math " in markdown.source and "$" not in markdown.source
    shown, latex, printed = code.outputs
    assert "<math " in shown.data["text/markdown"] and "$" not in shown.data["text/markdown"]
    assert latex.data["text/html"].startswith("<div><math ") and latex.data["text/latex"] == "$\\displaystyle x^{2}$"
    assert printed.text == "a $ b $ c\n"


def test_the_feedback_template_override_sits_before_nbgrader_s_template() -> None:
    ours, nbgraders = map(Path, feedback_template_dirs())
    assert (ours / "feedback" / "mathjax.html.j2").is_file()
    assert (nbgraders / "feedback" / "index.html.j2").is_file(), "nbgrader moved its feedback template"
    assert "{{ mathjax() }}" in (nbgraders / "feedback" / "index.html.j2").read_text(), "what the override empties"


# -- a real feedback file ------------------------------------------------------------------------------------

THINK_ANSWER = "Past $\\eta_{\\max} = 2/\\lambda$ it diverges: each step costs \\$0, and `$x$` is code."


@pytest.fixture(scope="module")
def feedback(course) -> str:
    """The feedback of a student with a wrong gradient, who wrote math in their written answer."""
    nb = submission_from_answer(course.release_notebook(), example_answer(ASSIGNMENT, "sign_flipped"))
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "think_learning_rate":
            cell.source = THINK_ANSWER
    course.submit("offline", nb)
    course.autograde()
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    return (course.root / "feedback" / "offline" / ASSIGNMENT / "shallow_narrow.html").read_text(encoding="utf-8")


def test_the_feedback_reads_offline(feedback: str) -> None:
    page = assert_offline(feedback)
    source = nbformat.read(ROOT / "release" / ASSIGNMENT / "shallow_narrow.ipynb", as_version=4)
    formulas = sum(len(math_spans(c.source)) for c in source.cells if c.cell_type == "markdown")
    assert len(page.maths) == formulas + 1  # the notebook's formulas and the one in the written answer
    assert "ηmax=2/λ" in page.maths
    assert len(page.alts) == 2  # the loss curves of the two training tests, each described


def test_the_written_answer_keeps_its_dollar_and_its_code(feedback: str) -> None:
    assert "each step costs $0" in feedback and "<code>$x$</code>" in feedback
