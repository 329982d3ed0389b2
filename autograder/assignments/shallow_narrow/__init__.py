"""``01_shallow_narrow``: the shallow narrow network y = w1·w2·x: forward pass, gradient, training.

One folder, one assignment (nothing here imports another assignment):

- :mod:`.inputs` -- the inputs each graded check draws, and which judge decides it;
- :mod:`.judges` -- compare what the student's code returned with the reference, name mistakes;
- the reference math and typical mistakes are the shallow model's (:mod:`autograder.models`), shared with 02;
- :mod:`.plot` -- the feedback plot of a training run.
"""

from __future__ import annotations

from ...core.checks import Assignment
from ...core.mistakes import GENERIC, Catalogue
from ...models import shallow_mistakes
from . import inputs
from .plot import training_figure

ASSIGNMENT = Assignment(
    name="01_shallow_narrow",
    topic="shallow_narrow",
    checks=tuple(inputs.CHECKS),
    mistakes=Catalogue.union("01_shallow_narrow", GENERIC, shallow_mistakes.MISTAKES),
    plot=training_figure,
    variant=inputs.VARIANT,
)
