"""nbgrader settings every server on the course's hub shares (students', graders', the formgrader's).

nbgrader reads this file from ``JUPYTER_CONFIG_PATH`` (the hub sets it for each server);
the formgrader then reads the course's own ``nbgrader_config.py`` in the course folder,
which adds the course's grading settings (the secure grader) on top.
"""

import importlib.util
import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "shallow-narrow"
# The exchange folder (the hub passes its place; /srv/nbgrader/exchange is nbgrader's usual one).
c.Exchange.root = os.environ.get("SHALLOW_NARROW_EXCHANGE", "/srv/nbgrader/exchange")

# nbgrader's own exchange, closed between students: see hub/exchange.py.  Loaded from its
# file: the hub's servers do not have hub/ on their Python path (nor should students' kernels).
_spec = importlib.util.spec_from_file_location(
    "shallow_narrow_hub_exchange", Path(__file__).resolve().parents[2] / "exchange.py"
)
_exchange = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_exchange)
c.ExchangeFactory.submit = _exchange.PrivateSubmit
c.ExchangeFactory.collect = _exchange.CheckedCollect
