"""``03_depth_and_init``: the deep narrow network: depth, initialisation and the vanishing gradient.

One folder, one assignment (nothing here imports another assignment):

- :mod:`.inputs` -- the inputs each graded check draws, and which judge decides it;
- :mod:`.mistakes` -- the mistakes it names, and what each wrong version of a method returns;
- :mod:`.judges` -- compare what the student's code returned with the reference, say what is wrong;
- :mod:`.reference` -- the reference math;
- :mod:`.plot` -- the feedback plot of a training run.
"""

from __future__ import annotations

from ...core.checks import Assignment
from ...core.mistakes import GENERIC, Catalogue
from . import inputs
from . import mistakes
from .plot import training_figure

ASSIGNMENT = Assignment(
    name="03_depth_and_init",
    topic="depth",
    checks=tuple(inputs.CHECKS),
    mistakes=Catalogue.union("03_depth_and_init", GENERIC, mistakes.MISTAKES),
    plot=training_figure,
    variant=inputs.VARIANT,
)
