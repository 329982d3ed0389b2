"""One package per assignment, each with an ``ASSIGNMENT`` (see :mod:`autograder.core.checks`).

An assignment package imports :mod:`autograder.core` and :mod:`autograder.models`,
never another assignment.
"""
