"""``02_learning_landscape``: the loss landscape of the shallow network: grid, gradient field, saddle, largest stable learning rate.

One folder, one assignment (nothing here imports another assignment):

- :mod:`.inputs` -- the inputs each graded check draws, and which judge decides it;
- :mod:`.mistakes` -- the mistakes it names, and what each wrong version of a function returns;
- :mod:`.judges` -- compare what the student's code returned with the reference, say what is wrong;
- :mod:`.reference` -- the reference math;
"""

from __future__ import annotations

from ...core.checks import Assignment
from ...core.mistakes import GENERIC, Catalogue
from ...models import shallow_mistakes
from . import inputs
from . import mistakes

ASSIGNMENT = Assignment(
    name="02_learning_landscape",
    topic="landscape",
    checks=tuple(inputs.CHECKS),
    mistakes=Catalogue.union("02_learning_landscape", GENERIC, shallow_mistakes.MISTAKES, mistakes.MISTAKES),
)
