"""``python -m autograder.integrity ASSIGNMENT``: the similarity report (see :func:`.similarity.main`)."""

import sys

from .similarity import main

sys.exit(main())
