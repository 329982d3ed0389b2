# generated from source/course_helpers.py: edit that file, then run make build
"""Helpers that every assignment of the course shares (shipped to students with each notebook).

Given code, like the rest of the helper modules: seeding, data, the xkcd plot style,
figures that step aside while grading and say in words what they show, fast slider
pictures, the message screen of the explorers and the self-check mechanism.  Your work is
in the notebook.

Each assignment's helper module imports what it needs from here.  Names with a leading
underscore are for those modules only: ``from <assignment>_helpers import *`` leaves them
out of the notebook.

The one hand-written version is ``source/course_helpers.py``; ``make build`` copies it into
each assignment folder that imports it, because a notebook (and the grader's sandbox) sees its
own folder only.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import linecache
import logging
import os
import random
import sys
from typing import Any, Callable, Iterator, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SEED = 2021

# matplotlib (its xkcd style above all) asks for fonts by name and *logs* a "findfont" line
# on stderr for each one it lacks.  In a graded cell any stderr output costs points, so those
# lines are silenced here, and xkcd_style() names a font that is installed.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


# -- seeding and data -------------------------------------------------------------------------------


def set_seed(seed: int | None = None) -> None:
    """Seed Python's and numpy's global random generators.

    Parameters
    ----------
    seed : int, optional
        The seed; a random one when None.
    """
    if seed is None:
        seed = np.random.choice(2**32)
    random.seed(seed)
    np.random.seed(seed)
    print(f"Random seed {seed} has been set.")


def gen_samples(n: int, a: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Generate `n` samples of the line ``y = a * x`` plus Gaussian noise.

    Parameters
    ----------
    n : int
        Number of samples (> 0).
    a : float
        The slope of the line.
    sigma : float
        Standard deviation of the noise (>= 0).  With 0, x is evenly spaced on [0, 1].

    Returns
    -------
    x : numpy.ndarray
        Inputs, shape ``(n,)``: uniform on [0, 1) when ``sigma > 0``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.
    """
    assert n > 0
    assert sigma >= 0
    if sigma > 0:
        x = np.random.rand(n)
        noise = np.random.normal(scale=sigma, size=n)
        y = a * x + noise
    else:
        x = np.linspace(0.0, 1.0, n, endpoint=True)
        y = a * x
    return x, y


# -- your own numbers ------------------------------------------------------------------------------

_VARIANT_FILE = "variant.json"
"""Written into the assignment folder when it is built: the ranges of your values, and whether your course uses them."""

_VARIANT_ENV = "AUTOGRADER_VARIANT"
"""Set by the grader while it runs your notebook: the values it judges your run by."""

_chosen_values: dict[str, Any] | None = None
"""The values :func:`variant_values` gave last (the instructor's own notebook checks its run with them)."""


def _unit(assignment: str, student: str, name: str) -> float:
    """A number in [0, 1) fixed by the assignment, your id and the value's name (as the grader draws it)."""
    import hashlib

    digest = hashlib.sha256(f"{assignment}\0{student}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def variant_values(student_id: str = "") -> tuple[dict[str, Any], str]:
    """Your values for this assignment's runs, and a sentence saying whose they are.

    Where the course gives every student their own numbers, they are drawn from your student
    id: on a JupyterHub, your user name; elsewhere, the id you type (the grader always uses
    the id your submission is filed under).  Elsewhere everyone gets the worked solution's.

    Parameters
    ----------
    student_id : str, optional
        Your student id, when you work without a hub.

    Returns
    -------
    values : dict
        The values by name (``"seed"`` is the seed of your data).
    whose : str
        Whose values they are, to print.
    """
    global _chosen_values
    import json

    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), _VARIANT_FILE)) as f:
            spec = json.load(f)
    except (OSError, ValueError):
        spec = None
    graded = os.environ.get(_VARIANT_ENV)
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
    student = hub_user or str(student_id).strip()
    if graded:
        given = json.loads(graded)
        values, whose = dict(given["values"]), f"the values of student {given.get('student')} (set by the grader)"
    elif spec is None or not spec.get("on"):
        values, whose = dict(spec["default"]) if spec else {}, "the course's values (the same for everyone)"
    elif not student:
        values = dict(spec["default"])
        whose = "the worked solution's values: type your student id in STUDENT_ID to get your own"
    else:
        values = dict(spec["default"])
        for name, (low, high, digits) in sorted(spec["ranges"].items()):
            values[name] = round(low + (high - low) * _unit(spec["assignment"], student, name), digits)
        if "seed" in values:
            values["seed"] = int(_unit(spec["assignment"], student, "seed") * 2**31)
        source = "your hub user name" if hub_user else "the id you typed"
        whose = f"your own values (student {student}, from {source})"
        if hub_user and student_id and str(student_id).strip() != hub_user:
            whose += f"; the STUDENT_ID you typed ({str(student_id).strip()}) is not used on the hub"
    _chosen_values = values
    return values, whose


# -- figures ----------------------------------------------------------------------------------------


def _figure(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a helper that draws: it is skipped while the autograder runs the notebook.

    The grader sets ``AUTOGRADER_FIGURES=skip`` in its kernel: no test reads a figure, and
    your feedback draws your training run against the reference by itself. Run the
    notebook to see the figure.
    """

    @functools.wraps(draw)
    def figure_or_note(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get("AUTOGRADER_FIGURES") == "skip":
            print(f"({draw.__name__}: no figure in the graded copy; run the notebook to see it.)")
            return None
        return draw(*args, **kwargs)

    return figure_or_note


def _comic_font() -> str:
    """The first hand-drawn font installed here, or matplotlib's default font."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in ("xkcd", "xkcd Script", "Humor Sans", "Comic Neue", "Comic Sans MS"):
        if name in installed:
            return name
    return "DejaVu Sans"


@contextlib.contextmanager
def xkcd_style() -> Iterator[None]:
    """``plt.xkcd()`` with a font that is really installed, so nothing is logged."""
    with plt.xkcd():
        plt.rcParams["font.family"] = [_comic_font()]
        yield


def _png(fig: Figure) -> bytes:
    """A figure as PNG bytes, cropped to what is drawn, as the notebook's inline backend writes it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _caption_html(description: str) -> str:
    """A figure's description as an HTML caption line."""
    return (
        '<p style="font-style: italic; margin: 0.2em 0 0.8em; max-width: 60em">'
        f"Figure: {html.escape(description)}</p>"
    )


_CAPTION_CLASS = "figure-caption"
"""The CSS class of an explorer's caption widget (what tells it from the message widget beside it)."""


def _caption_widget() -> Any:
    """The caption of an explorer's picture: an HTML widget, filled with :func:`_caption_html` at each move."""
    import ipywidgets as widgets

    caption = widgets.HTML()
    caption.add_class(_CAPTION_CLASS)
    return caption


def _show(fig: Figure, description: str) -> None:
    """Show `fig` below the cell, described in words: use this instead of ``plt.show()``.

    The description is the picture's alt text (what a screen reader says for it, and the
    ``alt`` of its ``<img>`` when the notebook becomes a web page) and a caption under it,
    for everyone.  Outside a notebook (a script, the tests) this is ``plt.show()``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed once shown, so the notebook does not show it a second time.
    description : str
        What the figure shows, with its numbers: "the loss falls from 6.35 to 0.034 in 211 epochs".
    """
    from IPython import get_ipython
    from IPython.display import Image, display

    if not hasattr(get_ipython(), "kernel"):  # not in a notebook's kernel (None: not in IPython at all)
        plt.show()
        return
    display(Image(data=_png(fig), format="png", alt=description))
    display({"text/plain": f"Figure: {description}", "text/html": _caption_html(description)}, raw=True)
    plt.close(fig)


def _number(value: float, digits: int = 3) -> str:
    """A number for a description: `digits` significant digits; "not a number" for inf and nan."""
    return f"{value:.{digits}g}" if np.isfinite(value) else "not a number"


def _point(w1: float, w2: float) -> str:
    """A point of the weight plane, for a description: ``(1.4, -1.6)``."""
    return f"({_number(w1)}, {_number(w2)})"


class LiveFigure:
    """A figure drawn once; later only its moving artists are drawn again, onto the saved background.

    Axes, ticks, labels and everything else that stays put are rendered a single time.  A
    slider move changes the data of a few lines and calls :meth:`png`, which restores the
    background, draws those lines and encodes the pixels: a few milliseconds instead of
    re-plotting the figure.
    """

    def __init__(self, fig: Figure, moving: Sequence[Any], dpi: float = 80) -> None:
        self.fig = fig
        self.moving = list(moving)
        fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(fig)
        for artist in self.moving:
            artist.set_animated(True)  # left out of the full draw below
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self) -> bytes:
        """The current picture as PNG bytes."""
        from PIL import Image

        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        width, height = self.canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


# -- the explorers: your class as it is now, and a message where the picture was -------------------


def _current_class(model_class: type) -> type:
    """The class of that name as the notebook defines it *now*.

    Running the class cell again makes a new class object, but an explorer built earlier
    still holds the old one. Looking the name up again at every slider move lets a fixed
    class take over without running the explorer's cell again.
    """
    module = sys.modules.get(getattr(model_class, "__module__", ""))
    latest = getattr(module, getattr(model_class, "__qualname__", ""), None)
    if isinstance(latest, type) and latest.__name__ == model_class.__name__:
        return latest
    return model_class


class _Screen:
    """Where an explorer shows its picture, or a message in its place when your code fails.

    Attributes
    ----------
    caption : ipywidgets.HTML
        What the picture shows, in words (hidden while there is a message).
    image : ipywidgets.Image
        The picture (hidden while there is a message).
    message : ipywidgets.HTML
        The message (hidden while the picture is good).
    text : str
        The message in plain text ("" while the picture is good).
    description : str
        What the picture shows, in plain text ("" while there is a message).
    """

    def __init__(self) -> None:
        import ipywidgets as widgets

        self.caption = _caption_widget()
        self.image = widgets.Image(format="png")
        self.message = widgets.HTML()
        self.message.layout.display = "none"
        self.text = ""
        self.description = ""

    @property
    def children(self) -> tuple[Any, Any, Any]:
        """The widgets to put under the sliders: the caption, the message, then the picture (last)."""
        return self.caption, self.message, self.image

    def show(self, png: bytes, description: str) -> None:
        """Show a picture with its description in words, and hide the message.

        The description is the caption above the picture.  (Not also its tooltip: JupyterLab's
        widget manager, jupyterlab_widgets 3.0.17, fails to draw an Image whose tooltip is set.)
        """
        self.image.value = png
        self.description = description
        self.caption.value = _caption_html(description)
        self.text = ""
        self.message.layout.display = "none"
        self.image.layout.display = ""
        self.caption.layout.display = ""

    def fail(self, text: str) -> None:
        """Show `text` where the picture was."""
        self.text = text
        self.description = ""
        lines = "<br>".join(html.escape(line) for line in text.splitlines())
        self.message.value = (
            '<div style="border: 2px solid #c0392b; background: #fdecea; padding: 8px 12px; '
            f'font-family: monospace; line-height: 1.5">{lines}</div>'
        )
        self.message.layout.display = ""
        self.image.layout.display = "none"
        self.caption.layout.display = "none"


# -- self-checks ------------------------------------------------------------------------------------

# A failed self-check is raised from this two-line function, compiled from a string: the traceback
# a student sees (in the notebook and in the Validate dialog) then shows their own cell and the
# message, not this module's code.
_FAILED = "def self_check_failed(message):\n    raise AssertionError(message)\n"
linecache.cache["<self-check>"] = (len(_FAILED), None, _FAILED.splitlines(True), "<self-check>")
exec(compile(_FAILED, "<self-check>", "exec"))


def _self_check(check: Callable[..., None]) -> Callable[..., None]:
    """Mark a self-check: its failure reaches the student as the message alone.

    Errors other than a failed check (say, a NotImplementedError from an unfinished
    function) pass through unchanged: their traceback points at the student's code.
    """

    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True  # noqa: F841 - IPython leaves this frame out of tracebacks
        try:
            return check(*args, **kwargs)
        except AssertionError as failure:
            message = str(failure)
        self_check_failed(message)  # type: ignore[name-defined]  # noqa: F821 - defined by exec above

    return run
