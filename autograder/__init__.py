"""Instructor-side autograder for the shallow-narrow course.

The package never ships to students.  Its modules, each with one job:

- :mod:`autograder.reference` -- the reference math (forward pass, gradients, training).
- :mod:`autograder.probe` -- the code that runs *inside* the student's kernel; it only collects data.
- :mod:`autograder.judge` -- compares collected data with the reference, outside the kernel.
- :mod:`autograder.diagnosis` -- names the likely mistake behind a wrong answer.
- :mod:`autograder.checks` -- the graded checks of each assignment.
- :mod:`autograder.sandbox` -- starts student kernels inside bubblewrap with resource limits.
- :mod:`autograder.preprocessors` -- the nbgrader plug-ins (secure execution, hidden feedback).
- :mod:`autograder.build` -- generates release/ and notebooks/ from source/.
- :mod:`autograder.cli` -- ``python -m autograder ...``.
"""

__all__: list[str] = []
