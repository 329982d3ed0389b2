"""One module per assignment, each with a ``CHECKS`` list (see :mod:`autograder.checks`)."""
