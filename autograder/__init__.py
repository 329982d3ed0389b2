"""Instructor-side autograder for the shallow-narrow course.

The package never ships to students.  Its modules, each with one job:

- :mod:`autograder.reference`, :mod:`~autograder.reference_landscape`, :mod:`~autograder.reference_depth`
  -- the reference math of each assignment.
- :mod:`autograder.probe` -- the code that runs *inside* the student's kernel; it only collects data.
- :mod:`autograder.judge`, :mod:`~autograder.judge_landscape`, :mod:`~autograder.judge_depth`
  -- compare collected data with the reference, outside the kernel, and word the verdict.
- :mod:`autograder.diagnosis` -- names the likely mistake behind a wrong answer.
- :mod:`autograder.checks` and :mod:`autograder.assignments` -- the graded checks of each assignment.
- :mod:`autograder.instructor` -- ``run_check`` for the instructor's own notebook (in-process).
- :mod:`autograder.sandbox` -- starts student kernels inside bubblewrap with resource limits.
- :mod:`autograder.zygote`, :mod:`autograder.forkserver` -- sandboxed kernels forked from a pre-imported Python.
- :mod:`autograder.preprocessors` -- the nbgrader plug-ins (secure execution, hidden tests in feedback).
- :mod:`autograder.parallel` -- grades a whole class in parallel, locally or on Dask.
- :mod:`autograder.plots` -- the student's training run against the reference, for feedback.
- :mod:`autograder.report` -- the class report.
- :mod:`autograder.build` -- generates release/ and notebooks/ from source/.
- :mod:`autograder.submissions` -- turns example answers into submissions.
- :mod:`autograder.cli` -- ``python -m autograder ...``.
"""

__all__: list[str] = []
