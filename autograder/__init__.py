"""Instructor-side autograder for the shallow-narrow course (never shipped to students).

The tree is the architecture:

- :mod:`autograder.core` -- the engine, which knows no assignment: checks and the registry of
  assignments, the probe that runs in the student's kernel, verdicts, mistake catalogues,
  ``run_check`` for the instructor's own notebook.
- :mod:`autograder.models` -- math shared by several assignments (the shallow network of 01 and 02).
- :mod:`autograder.assignments` -- one package per assignment: its inputs, judges, mistakes,
  reference and feedback plot; each imports only ``core`` and ``models``.
- :mod:`autograder.kernels` -- sandboxed kernels: bubblewrap, the kernel builder, the fork server.
- :mod:`autograder.nbgrader_plugins` -- the nbgrader preprocessors ``nbgrader_config.py`` names.
- :mod:`autograder.batch` -- grading a whole class in parallel, locally or on Dask.
- :mod:`autograder.reports` -- the class report.
- :mod:`autograder.course` -- this repository's folders: building release/ and notebooks/, example submissions.
- :mod:`autograder.cli` -- ``autograder ...`` / ``python -m autograder ...``.

An instructor notebook's test cells call :func:`run_check` (``from autograder import run_check``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_check"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `import autograder` alone (nbgrader_config.py, the CLI) stays light.
    if name == "run_check":
        from .core.in_process import run_check

        return run_check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
