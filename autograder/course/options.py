"""The course's own options, set per assignment in ``nbgrader_config.py`` next to nbgrader's.

Features that change what students or the class report see are opt-in per assignment::

    c.CourseOptions.similarity_in_report = ["01_shallow_narrow"]
    c.CourseOptions.variants = ["01_shallow_narrow"]

They live in the same file as nbgrader's settings so that an instructor has one place to
look; nbgrader itself ignores a section it does not know.
"""

from __future__ import annotations

from pathlib import Path

from traitlets import List, Unicode
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader


class CourseOptions(Configurable):
    """Per-assignment switches of the course (read from the course's ``nbgrader_config.py``)."""

    similarity_in_report = List(
        Unicode(),
        default_value=[],
        help="Assignments whose class report carries a similarity section (python -m autograder similarity "
        "works for every assignment; this only adds the section and its side-by-side pages to the report).",
    ).tag(config=True)

    variants = List(
        Unicode(),
        default_value=[],
        help="Assignments where each student gets their own numbers (data, starting weights, learning rate), "
        "drawn from their student id (autograder.core.variants).  Run `make build` after changing it: the "
        "released folder tells the notebook.  The grader draws each submission's numbers from the id nbgrader "
        "files it under, whatever the notebook says.",
    ).tag(config=True)


def course_options(root: Path) -> CourseOptions:
    """The options in ``root/nbgrader_config.py`` (the defaults where there is no such file).

    Parameters
    ----------
    root : pathlib.Path
        The course folder (the one holding ``nbgrader_config.py``).
    """
    path = Path(root) / "nbgrader_config.py"
    if not path.is_file():
        return CourseOptions()
    return CourseOptions(config=PyFileConfigLoader(path.name, path=str(path.parent)).load_config())
