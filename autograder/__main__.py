"""`python -m autograder ...`: the command line (see :mod:`autograder.cli`)."""

import sys

from .cli import main

sys.exit(main())
