"""``generate_feedback``: the math of the feedback rendered as MathML when the file is written.

Stock feedback leaves ``$...$`` in the page and loads MathJax from a CDN to typeset it, so a
student who opens the file offline reads raw LaTeX.  :class:`RenderMath` turns every formula
into a MathML ``<math>`` element instead (with `latex2mathml`_); browsers render MathML Core
natively (Chromium 109+, Firefox, Safari) and screen readers read it as math.  The page then
needs no script at all, and the one nbgrader's template would load is switched off by a
template of :data:`TEMPLATES` (see :func:`feedback_template_dirs`).

Which text is math is decided by nbconvert's own Markdown parser (the one that renders the
cell), so a ``$`` inside code, or escaped as ``\\$``, stays what it is.  A formula the
converter cannot handle is shown as its LaTeX source, in a ``<code>`` element, and logged.

.. _latex2mathml: https://pypi.org/project/latex2mathml/
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from xml.etree import ElementTree

from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.filters.markdown_mistune import MarkdownWithMath
from nbformat import NotebookNode
from nbgrader.preprocessors.base import NbGraderPreprocessor

TEMPLATES = Path(__file__).with_name("templates")
"""Template overrides for nbconvert: ``feedback/mathjax.html.j2`` makes nbgrader's feedback template load no MathJax."""

_PROTECT = frozenset(string.punctuation) - {"&", "<", ">", '"'}
"""ASCII punctuation written as character references inside the MathML: Markdown reads none of it
(no ``*`` becomes emphasis, no ``$`` math, no ``\\`` an escape).  ``&<>"`` are escaped as usual."""

_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "mover": 2, "munder": 2, "mroot": 2, "msubsup": 3, "munderover": 3}
"""MathML elements with a fixed number of children: the converter leaves one short on some broken input
(``\\frac{1}``) instead of failing."""


class UnsupportedMath(ValueError):
    """A formula the converter cannot turn into MathML."""

    def __init__(self, latex: str, reason: str) -> None:
        super().__init__(f"cannot render {latex!r} as MathML: {reason}")
        self.latex = latex


@dataclass(frozen=True)
class MathSpan:
    """A formula in a text: where it is (delimiters included), its LaTeX and whether it is displayed."""

    start: int
    end: int
    latex: str
    display: bool


# -- LaTeX -> MathML ---------------------------------------------------------------------------------


def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One formula as a ``<math>`` element, safe to put into Markdown or HTML as it is.

    Parameters
    ----------
    latex : str
        The formula, without its delimiters.
    display : bool, optional
        A displayed formula (``$$...$$``): ``display="block"``.

    Returns
    -------
    str
        ``<math display="..." alttext="LaTeX">...</math>`` on one line, without the XML
        namespace (HTML puts ``<math>`` in it by itself), every ASCII punctuation character
        of its text written as a character reference.

    Raises
    ------
    UnsupportedMath
        When latex2mathml fails, leaves a command or brace it did not understand, or
        writes an element with children missing.
    """
    import latex2mathml.converter

    try:
        xml = latex2mathml.converter.convert(latex, display="block" if display else "inline")
        root = ElementTree.fromstring(xml)
    except Exception as error:  # latex2mathml's errors share no base class but Exception
        raise UnsupportedMath(latex, f"{type(error).__name__} {error}".strip()) from error
    for element in root.iter():
        text = element.text or ""
        if any(c in text for c in "\\{}"):
            raise UnsupportedMath(latex, f"{text!r} was not understood")
        expected = _ARITY.get(_local(element.tag))
        if expected is not None and len(element) != expected:
            raise UnsupportedMath(latex, f"<{_local(element.tag)}> has {len(element)} parts, not {expected}")
    root.set("alttext", " ".join(latex.split()))  # the source, for copying and for tools that do not read MathML
    return _serialize(root)


def _local(tag: str) -> str:
    """An element's name without its XML namespace."""
    return tag.rpartition("}")[2]


def _protect(text: str) -> str:
    """`text` escaped for HTML, with every ASCII punctuation character as a character reference."""
    return "".join(f"&#{ord(c)};" if c in _PROTECT else html.escape(c) for c in text)


def _serialize(element: ElementTree.Element) -> str:
    """An element as HTML on one line; no text or attribute of it has a character Markdown would read."""
    attributes = "".join(
        f' {_local(name)}="{_protect(value)}"' for name, value in element.attrib.items() if not name.startswith("{")
    )
    inner = _protect(element.text or "") + "".join(_serialize(child) + _protect(child.tail or "") for child in element)
    return f"<{_local(element.tag)}{attributes}>{inner}</{_local(element.tag)}>"


def source_as_code(latex: str) -> str:
    """A formula that cannot be rendered, shown as its LaTeX source (as safe as :func:`latex_to_mathml`'s output)."""
    return f'<code class="latex" title="LaTeX (not rendered)">{_protect(" ".join(latex.split()))}</code>'


# -- finding the math --------------------------------------------------------------------------------


def _tokens(tokens: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every token of a mistune AST, in document order."""
    for token in tokens:
        yield token
        yield from _tokens(token.get("children") or [])


def _delimited(body: str, kind: str, attrs: dict[str, Any]) -> list[str]:
    """Regular expressions for the places `body` can come from in the source: nbconvert's delimiters of `kind`."""
    inner = r"\s+".join(map(re.escape, body.split()))  # the parser may have re-flowed whitespace (lists, quotes)
    if kind == "inline_math":
        return [rf"(?<![$\\])\$\s*{inner}\s*(?<![$\\])\$", rf"(?<!\\)\\\\\(\s*{inner}\s*(?<!\\)\\\\\)"]
    if kind == "block_math":
        return [rf"(?<!\\)\$\$\s*{inner}\s*(?<!\\)\$\$", rf"(?<!\\)\\\\\[\s*{inner}\s*(?<!\\)\\\\\]"]
    name = re.escape(attrs.get("name", ""))
    return [rf"\\begin\{{{name}\}}\s*{inner}\s*\\end\{{{name}\}}"]


def math_spans(markdown: str) -> list[MathSpan]:
    """The formulas of a Markdown text, as nbconvert's Markdown parser finds them.

    The parser says what is math (and what is code, which is not); each formula is then
    looked up in the text, in order, after the code and formulas before it.

    Parameters
    ----------
    markdown : str
        A Markdown cell's source (``\\r\\n`` line ends are read as ``\\n``).
    """
    source = markdown.replace("\r\n", "\n").replace("\r", "\n")
    tokens, _ = MarkdownWithMath(renderer=None).parse(source)  # type: ignore[arg-type]
    spans: list[MathSpan] = []
    position = 0
    for token in _tokens(tokens):  # type: ignore[arg-type]
        kind = token["type"]
        if kind in ("codespan", "block_code"):
            found = source.find(token.get("raw", ""), position)  # a formula is never looked for inside code
            position = found + len(token["raw"]) if found >= 0 else position
            continue
        if kind not in ("inline_math", "block_math", "latex_environment"):
            continue
        attrs = token.get("attrs", {})
        body = token.get("raw") if kind != "latex_environment" else attrs.get("body", "")
        matches = [m for m in (re.compile(p).search(source, position) for p in _delimited(body, kind, attrs)) if m]
        if not matches:
            continue  # not where the parser saw it (cannot happen for the course's own Markdown: a test says so)
        match = min(matches, key=lambda m: m.start())
        latex = match.group(0) if kind == "latex_environment" else body
        spans.append(MathSpan(match.start(), match.end(), latex, kind != "inline_math"))
        position = match.end()
    return spans


OnError = Callable[[UnsupportedMath], None] | None
"""What to do with a formula that cannot be rendered, besides showing its source (log it, fail a test)."""


def _rendered(span: MathSpan, on_error: OnError) -> str:
    """One formula as MathML, or as its LaTeX source in ``<code>`` when the converter cannot handle it."""
    try:
        return latex_to_mathml(span.latex, span.display)
    except UnsupportedMath as problem:
        if on_error is not None:
            on_error(problem)
        return source_as_code(span.latex)


def _replace(text: str, spans: list[MathSpan], outside: Callable[[str], str], on_error: OnError) -> str:
    """`text` with each span rendered, and what lies between them passed through `outside`."""
    pieces, last = [], 0
    for span in spans:
        pieces += [outside(text[last : span.start]), _rendered(span, on_error)]
        last = span.end
    return "".join([*pieces, outside(text[last:])])


def render_math(markdown: str, on_error: OnError = None) -> str:
    """A Markdown text with each formula replaced by its MathML (or by its source as code, if it cannot be rendered).

    Parameters
    ----------
    markdown : str
        The text; all but its formulas stays as it is.
    on_error : callable, optional
        Called with each :class:`UnsupportedMath`.
    """
    source = markdown.replace("\r\n", "\n").replace("\r", "\n")
    return _replace(source, math_spans(source), str, on_error)


def math_html(text: str, on_error: OnError = None) -> str:
    """Plain text with ``$...$`` formulas as HTML: the text escaped, each formula as MathML.

    Parameters
    ----------
    text : str
        The text (not Markdown: ``*`` and ``_`` stay as they are).
    on_error : callable, optional
        Called with each :class:`UnsupportedMath` (its source is shown as code).
    """
    return _replace(text, math_spans(text), html.escape, on_error)


def latex_output_html(text: str, on_error: OnError = None) -> str:
    """A ``text/latex`` output (LaTeX between ``$`` signs, as IPython writes them) as HTML with MathML."""
    spans = math_spans(text) or [MathSpan(0, len(text), text, True)]  # bare LaTeX: all of it is the formula
    return f"<div>{_replace(text, spans, html.escape, on_error)}</div>"


# -- the nbgrader plug-in ----------------------------------------------------------------------------


class RenderMath(NbGraderPreprocessor):
    """For ``generate_feedback``: every formula becomes MathML, so the feedback needs no MathJax.

    Markdown cells and Markdown outputs (``text/markdown``) get MathML in place of their
    formulas; a LaTeX output (``text/latex``, which nbconvert would leave to MathJax) gets an
    HTML rendering beside it, which nbconvert shows first.  Pair it with
    :func:`feedback_template_dirs`, which drops the MathJax script from the page.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source, self._warn)
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if isinstance(data.get("text/markdown"), str):
                data["text/markdown"] = render_math(data["text/markdown"], self._warn)
            if isinstance(data.get("text/latex"), str) and "text/html" not in data:
                data["text/html"] = latex_output_html(data["text/latex"], self._warn)
        return cell, resources

    def _warn(self, problem: UnsupportedMath) -> None:
        self.log.warning("%s; the feedback shows its LaTeX source", problem)


def feedback_template_dirs() -> list[str]:
    """``HTMLExporter.extra_template_basedirs`` for feedback without MathJax.

    :data:`TEMPLATES` first: its ``feedback/mathjax.html.j2`` takes the place of nbconvert's, so
    nbgrader's feedback template loads no script; then nbgrader's own templates (the ones
    ``GenerateFeedback`` and the formgrader use when this option is not set).
    """
    import nbgrader

    return [str(TEMPLATES), str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates")]
