"""Adversarial battery: submissions that try to cheat the autograder, or to break it.

Every trick measured on a conventional nbgrader course of this exercise (hidden
tests as plain asserts) is tried here, on top of a wrong implementation
(``forward`` and ``dloss_dw`` return zeros), together with failures (endless
loops, exits, floods, memory hogs, leftover processes) and bad input (corrupt
notebooks, missing files, edited or deleted cells, odd student ids).

All of them are graded in ONE ``nbgrader autograde`` run (a few seconds per
student), with correct students before and after them.  Then, per trick: it
scores no more than the same wrong implementation without the trick, every
test still has a verdict, and nothing else changed: the correct students keep
full marks, the gradebook keeps earlier grades, no process a submission started
survives, nothing was written outside the submission's private folder, and the
real course repository is untouched.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psutil
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.preprocessors import OverwriteCells

from autograder.course.submissions import example_answer, fill_stubs, method_bodies
from conftest import ASSIGNMENT, FULL_MARKS, ROOT, Course, verdict_messages

# No skips: the battery runs as root here, and again as an ordinary user, the way instructors
# run nbgrader (tests/test_as_instructor.py).

TIMEOUT = 6
"""Seconds per cell (``SecureExecute.timeout``), short so that hangs cost little here."""

STARTUP_TIMEOUT = 10
"""Seconds a kernel gets to become ready (``SecureExecute.startup_timeout``)."""

NOTEBOOK = "shallow_narrow.ipynb"
TESTS = sorted(FULL_MARKS)

# --------------------------------------------------------------------------------------------
# Submissions.  Code is written as a student would, with @PLACEHOLDERS@ for what a
# determined student could know or guess: the course's paths, and a marker that lets
# this test find the files and processes they leave behind.  Attacks that write aim
# at the scratch course only: should the sandbox ever fail, the real repository
# (which the read attacks do try) must not be damaged by its own test suite.
# --------------------------------------------------------------------------------------------

ZERO_FORWARD = "return np.zeros_like(x)"
ZERO_DLOSS = "return 0.0, 0.0"

FIND_NONCE = """
import sys
frame, nonce = sys._getframe(), None
while frame is not None:  # the grader's probe is somewhere up the stack: steal its one-time token
    for const in frame.f_code.co_consts:
        if isinstance(const, str) and len(const) == 32 and set(const) <= set("0123456789abcdef"):
            nonce = const
    frame = frame.f_back
"""

SILENCE_DISPLAY = """
import IPython.display, IPython.core.display_functions
IPython.display.display = IPython.core.display_functions.display = lambda *args, **kwargs: None
"""

SOLUTION_THIEF = """
import glob, json, os

def steal_class(paths):
    for path in paths:
        try:
            with open(path) as f:
                nb = json.load(f)
        except Exception:
            continue
        for cell in nb.get("cells", []):
            src = "".join(cell.get("source", ""))
            if "class ShallowNarrowExercise" in src and "NotImplementedError" not in src:
                try:
                    exec(src, globals())
                    print("stole", path)
                    return True
                except Exception as exc:
                    print("could not exec", path, exc)
    return False
"""


@dataclass
class Submission:
    """A submission: the release with method bodies, extra cells, files and edits."""

    forward: str = ZERO_FORWARD
    dloss: str = ZERO_DLOSS
    after_imports: str | None = None
    before_class: str | None = None
    after_class: str | None = None
    at_end: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    edit: Callable[[NotebookNode], None] | None = None
    raw: Callable[[str], str] | None = None  # rewrites the notebook file's text (bad input)
    no_notebook: bool = False


def _grade_cells(nb: NotebookNode, prefix: str = "test_") -> list[NotebookNode]:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(prefix)]


def _delete_tests(nb: NotebookNode) -> None:
    nb.cells = [c for c in nb.cells if c not in _grade_cells(nb)]


def _edit_tests(nb: NotebookNode) -> None:
    for cell in _grade_cells(nb):
        cell.source = 'print("✔ all tests passed")'
        cell.metadata.nbgrader["points"] = 100
        cell.metadata.nbgrader["locked"] = False
    nb.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}


def _duplicate_test(nb: NotebookNode) -> None:
    original = _grade_cells(nb)[0]
    fake = new_code_cell('print("✔ `forward` is right")', metadata=dict(original.metadata))
    nb.cells.append(fake)


def _flip_solution_flag(nb: NotebookNode) -> None:
    _grade_cells(nb)[0].metadata.nbgrader["solution"] = True


def _bonus_cell(nb: NotebookNode) -> None:
    meta = {"grade": True, "grade_id": "bonus", "points": 100, "locked": False, "solution": False}
    nb.cells.append(new_code_cell('print("bonus")', metadata={"nbgrader": {**meta, "schema_version": 3}}))


def _cell_without_id(nb: NotebookNode) -> None:
    meta = {"grade": True, "points": 100, "locked": False, "solution": False, "schema_version": 3}
    nb.cells.append(new_code_cell('print("bonus")', metadata={"nbgrader": meta}))


def _schema(version: int) -> Callable[[NotebookNode], None]:
    def edit(nb: NotebookNode) -> None:
        _grade_cells(nb)[-1].metadata.nbgrader["schema_version"] = version

    return edit


CORRECT = method_bodies(example_answer(ASSIGNMENT, "correct"))

TRICKS: dict[str, Submission] = {
    # -- the measured tricks --------------------------------------------------------------------
    "numpy-comparisons": Submission(
        after_class="""
import math
import numpy as np
import numpy.testing

def always(*args, **kwargs):
    return True

def never_fails(*args, **kwargs):
    return None

np.allclose = np.isclose = np.array_equal = np.array_equiv = np.all = np.any = always
for name in ("assert_allclose", "assert_array_equal", "assert_almost_equal", "assert_array_almost_equal",
             "assert_equal", "assert_array_less"):
    setattr(np.testing, name, never_fails)
math.isclose = always
"""
    ),
    "input-transformer": Submission(
        after_class="""
ip = get_ipython()
ip.input_transformers_cleanup.insert(0, lambda lines: ["pass\\n"])
ip.input_transformers_post.append(lambda lines: ["print('✔ all tests passed')\\n"])
"""
    ),
    "run-cell-patch": Submission(
        after_class="""
from IPython.core.interactiveshell import ExecutionResult
ip = get_ipython()

def run_cell(raw_cell, *args, **kwargs):
    print("✔ all tests passed")
    result = ExecutionResult(None)
    result.execution_count = ip.execution_count
    return result

async def run_cell_async(raw_cell, *args, **kwargs):
    return run_cell(raw_cell)

ip.events.register("pre_run_cell", lambda *args: print("✔ all tests passed"))
ip.run_cell, ip.run_cell_async = run_cell, run_cell_async
"""
    ),
    "compile-hook": Submission(
        after_class="""
import ast, builtins
real_compile = builtins.compile

def rigged_compile(source, filename, mode, *args, **kwargs):
    text = source if isinstance(source, str) else ""
    if "assert" in text or "__autograder" in text or "check" in text:
        source = "print('✔ all tests passed')"
    return real_compile(source, filename, mode, *args, **kwargs)

builtins.compile = rigged_compile

class Gut(ast.NodeTransformer):
    def visit_Module(self, node):
        if any(isinstance(n, (ast.Assert, ast.FunctionDef)) for n in ast.walk(node)):
            node.body = ast.parse("print('✔ all tests passed')").body
        return node

get_ipython().ast_transformers.append(Gut())
"""
    ),
    "rewrite-the-inputs": Submission(
        after_class="""
import builtins, re
real_compile = builtins.compile

def zero_inputs(source, filename, mode, *args, **kwargs):
    if isinstance(source, str) and "__autograder_probe__" in source:
        # every test case gets zero weights: then zeros would be the right answer
        source = re.sub(r'"init": \\[[^\\]]*\\]', '"init": [0.0, 0.0]', source)
    return real_compile(source, filename, mode, *args, **kwargs)

builtins.compile = zero_inputs
"""
    ),
    "read-instructor-notebook": Submission(
        after_class=SOLUTION_THIEF
        + """
paths, here = [], os.getcwd()
while True:  # walk up from the working folder
    for pattern in ("source/*/*.ipynb", "*/source/*/*.ipynb", "autograded/*/*/*.ipynb", "submitted/*/*/*.ipynb"):
        paths += glob.glob(os.path.join(here, pattern))
    if os.path.dirname(here) == here:
        break
    here = os.path.dirname(here)
for root in ("@COURSE@", "@REPO@", "/proc/1/root@COURSE@", "/proc/1/cwd/../.."):
    for pattern in ("source/*/*.ipynb", "autograded/*/*/*.ipynb", "submitted/*/*/*.ipynb", "notebooks/*/*.ipynb"):
        paths += glob.glob(os.path.join(root, pattern))
for proc in glob.glob("/proc/[0-9]*"):
    paths += glob.glob(os.path.join(proc, "cwd", "..", "..", "..", "source", "*", "*.ipynb"))
print(len(paths), "notebooks found")
steal_class(sorted(set(paths)))
"""
    ),
    "edit-gradebook": Submission(
        after_class="""
import os, sqlite3
paths, here = {"@COURSE@/gradebook.db"}, os.getcwd()
while True:
    paths.add(os.path.join(here, "gradebook.db"))
    if os.path.dirname(here) == here:
        break
    here = os.path.dirname(here)
for path in sorted(paths):
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1)
        db.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
        db.execute("UPDATE grade SET manual_score = 100 WHERE notebook_id IN (SELECT id FROM submitted_notebook)")
        db.commit()
        print("edited", path)
    except Exception as exc:
        print(path, exc)
"""
    ),
    "zero-random-numbers": Submission(
        after_class="""
import random
import numpy as np

class Zeros:
    def __getattr__(self, name):
        def draw(*args, size=None, **kwargs):
            shape = size if size is not None else (args[-1] if args and isinstance(args[-1], (int, tuple)) else None)
            return np.zeros(shape) if shape is not None else 0.0
        return draw

zeros = Zeros()
for name in ("rand", "randn", "random", "normal", "uniform", "randint", "choice", "random_sample", "permutation"):
    setattr(np.random, name, getattr(zeros, name))
np.random.default_rng = np.random.RandomState = lambda *args, **kwargs: zeros
np.random.seed = lambda *args, **kwargs: None
random.random, random.uniform, random.gauss = (lambda *args: 0.0), (lambda *args: 0.0), (lambda *args: 0.0)
"""
    ),
    "lying-types": Submission(
        before_class="""
import numpy as np

class AgreeableArray(np.ndarray):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __sub__(self, other):
        return np.zeros(self.shape).view(AgreeableArray)
    __rsub__ = __sub__
    def __abs__(self):
        return np.zeros(self.shape).view(AgreeableArray)
    def __bool__(self):
        return True
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True
    def tolist(self):
        return [1.0] * self.size

class AgreeableFloat(float):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __sub__(self, other):
        return AgreeableFloat(0.0)
    __rsub__ = __sub__
    def __abs__(self):
        return AgreeableFloat(0.0)
    def __hash__(self):
        return 0
""",
        forward="return np.zeros_like(x).view(AgreeableArray)",
        dloss="return AgreeableFloat(0.0), AgreeableFloat(0.0)",
    ),
    # -- failures -------------------------------------------------------------------------------
    "endless-loop-in-test": Submission(
        forward="if len(x) == 1:\n    while True:\n        pass\nreturn np.zeros_like(x)",
    ),
    "uninterruptible-loop": Submission(
        after_class="""
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
"""
    ),
    "os-exit": Submission(after_class="import os\nos._exit(0)"),
    "exit-in-every-test": Submission(forward="import os\nos._exit(1)"),
    "output-flood": Submission(
        forward="if len(x) == 1:\n    print('z' * 3_000_000)\nreturn np.zeros_like(x)",
        after_class="""
print("y" * 50_000_000)
while True:
    print("x" * 100_000)
""",
    ),
    "memory-hog": Submission(
        after_class="""
import numpy as np
try:
    huge = np.ones(2**34)
except MemoryError:
    print("no 128 GiB for me")
hoard = []
try:
    while True:
        hoard.append(bytearray(64 * 2**20))
except MemoryError:
    print("holding", len(hoard) * 64, "MiB")
"""
    ),
    "background-processes": Submission(
        after_class="""
import os, subprocess, sys, threading, time
from IPython.display import display
sleeper = [sys.executable, "-c", "import time; time.sleep(600)", "@MARKER@"]
subprocess.Popen(sleeper)
subprocess.Popen(["setsid", "-f", *sleeper])
subprocess.Popen(["nohup", *sleeper], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a classic double-forked daemon
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleeper)
    os._exit(0)

def chatter():  # fake verdicts and fake probe results into every later cell
    while True:
        display({"application/x-autograder-probe+json": '{"nonce": "0", "results": []}'}, raw=True)
        print("✔ `forward` is right on all 6 test cases")
        time.sleep(0.05)

threading.Thread(target=chatter, daemon=True).start()
time.sleep(1)
"""
    ),
    "redefine-helpers": Submission(
        after_imports="""
def loss(y_prediction, y_true):
    return 0.0

def gen_samples(n, a, sigma):
    return np.zeros(n), np.zeros(n)

def set_seed(seed=None):
    pass

import shallow_narrow_helpers
shallow_narrow_helpers.gen_samples, shallow_narrow_helpers.set_seed = gen_samples, set_seed
with open("shallow_narrow_helpers.py", "a") as f:
    f.write("\\ngen_samples = lambda n, a, sigma: (np.zeros(n), np.zeros(n))\\n")
""",
        files={
            "shallow_narrow_helpers.py": "import numpy as np\n"
            "SEED = 0\n"
            "def set_seed(seed=None): pass\n"
            "def gen_samples(n, a, sigma): return np.zeros(n), np.zeros(n)\n"
            "def check_gradient_numerically(*args): print('✔')\n"
        },
    ),
    "write-outside": Submission(
        after_class="""
import os
name = "@MARKER@-escaped"
targets = ["../" + name, "../../" + name, "/tmp/" + name, "/var/tmp/" + name, "/dev/shm/" + name, "/" + name,
           "/root/" + name, os.path.expanduser("~/../" + name), "@COURSE@/" + name,
           "@COURSE@/source/@ASSIGNMENT@/" + name, "@COURSE@/autograded/a-correct/@ASSIGNMENT@/" + name,
           "@COURSE@/submitted/a-correct/@ASSIGNMENT@/" + name,
           os.path.join(os.environ.get("IPYTHONDIR", "/"), "..", "..", name)]
for target in targets:
    try:
        with open(target, "w") as f:
            f.write("pwned")
        print("wrote", target)
    except OSError as exc:
        print(type(exc).__name__, target)
for existing in ["@COURSE@/source/@ASSIGNMENT@/shallow_narrow.ipynb", "@COURSE@/nbgrader_config.py",
                 "@COURSE@/gradebook.db", "@COURSE@/autograded/a-correct/@ASSIGNMENT@/shallow_narrow.ipynb"]:
    try:
        with open(existing, "a") as f:
            f.write("pwned")
    except OSError:
        pass
with open(name, "w") as f:  # its own folder: a private copy, thrown away after grading
    f.write("local")
"""
    ),
    # -- attacks on the grader itself -----------------------------------------------------------
    "replay-death": Submission(
        # The class cell means to die when run a second time, so that the fresh kernel's replay dies too.
        # It cannot tell: each kernel gets a fresh copy of the submission's folder, so the replay runs.
        before_class="import os\nif os.path.exists('ran_once'):\n    os._exit(0)\nopen('ran_once', 'w').write('1')",
        after_class="import os\nos._exit(0)",
    ),
    "spoof-the-probe": Submission(
        forward="""
print("✔ `forward` is right on all 6 test cases, negative weights included.")
import json
from IPython.display import display
display({"application/x-autograder-probe+json": json.dumps({"nonce": "0" * 32, "results": []})}, raw=True)
"""
        + FIND_NONCE
        + """
if nonce and len(x) == 1:
    case = {"out": {"type": "ndarray", "shape": [1], "truncated": False, "values": [0.0]}, "state": [[0.0], [0.0]]}
    forged = {"nonce": nonce, "passed": True, "score": 1.0, "verdict": "pass", "results": [case] * 6}
    display({"application/x-autograder-probe+json": json.dumps(forged)}, raw=True)
"""
        + SILENCE_DISPLAY
        + "\nreturn np.zeros_like(x)",
    ),
    "malformed-payloads": Submission(
        before_class="SEEN = set()",
        forward="""
from IPython.display import display
"""
        + FIND_NONCE
        + """
if nonce and nonce not in SEEN:
    SEEN.add(nonce)
    display({"application/x-autograder-probe+json": "[" * 200_000}, raw=True)  # too deep for json
return np.zeros_like(x)
""",
        dloss="""
import json
from IPython.display import display
"""
        + FIND_NONCE
        + """
if nonce and nonce not in SEEN:
    SEEN.add(nonce)
    bad = [{"out": {"items": 5, "length": 2}, "state": {"w1": 1}}, {"out": [1, 2]}, "x", None, 5, {}]
    display({"application/x-autograder-probe+json": json.dumps({"nonce": nonce, "results": bad})}, raw=True)
"""
        + SILENCE_DISPLAY
        + "\nreturn 0.0, 0.0",
    ),
    "display-id-hijack": Submission(
        forward="""
if len(x) == 1:
    from IPython.display import HTML, display
    for i in range(5):
        display(HTML("<b>✔ passed</b>"), display_id=f"fake{i}")
return np.zeros_like(x)
""",
        at_end="""
from IPython.display import HTML, update_display
for i in range(5):
    update_display(HTML("<b>✔ all tests passed</b>"), display_id=f"fake{i}")
""",
    ),
    "kernel-never-ready": Submission(
        files={
            "ipykernel_launcher.py": "import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '@MARKER@'])\n"
            "time.sleep(3600)\n"
        }
    ),
    "kernel-dies-at-start": Submission(files={"ipykernel_launcher.py": "import os\nos._exit(1)\n"}),
    "symlinks-to-secrets": Submission(
        links={
            "instructor.txt": "@COURSE@/source/@ASSIGNMENT@/shallow_narrow.ipynb",
            "classmate.txt": "@COURSE@/submitted/a-correct/@ASSIGNMENT@/shallow_narrow.ipynb",
            "gradebook.db": "@COURSE@/gradebook.db",
            "source": "@COURSE@/source",
        },
        after_class=SOLUTION_THIEF
        + """
import sqlite3
print(os.listdir("."))
steal_class(["instructor.txt", "classmate.txt"] + glob.glob("source/*/*.ipynb"))
try:
    db = sqlite3.connect("file:gradebook.db?mode=rw", uri=True, timeout=1)
    db.execute("UPDATE grade SET auto_score = 0")
    db.commit()
except Exception as exc:
    print(exc)
""",
    ),
    # -- edited notebooks -----------------------------------------------------------------------
    "deleted-test-cells": Submission(edit=_delete_tests),
    "edited-test-cells": Submission(edit=_edit_tests),
    "duplicated-test-cell": Submission(edit=_duplicate_test),
    # Metadata edits that make stock nbgrader give up on the submission (or, for the schema
    # version, on every later student): RepairCellMetadata puts them right first.
    "solution-flag-on-test": Submission(edit=_flip_solution_flag),
    "bonus-grade-cell": Submission(edit=_bonus_cell),
    "grade-cell-without-id": Submission(edit=_cell_without_id),
    "old-schema-version": Submission(edit=_schema(1)),
    "new-schema-version": Submission(edit=_schema(99)),
}
"""Each trick, on top of the wrong implementation of the baseline student."""

BASELINE = "b-zeros"
CORRECT_FIRST, CORRECT_LAST = "a-correct", "z-correct"
ODD_ID = "o'brien \"jr\" ünï 学生"
LOCAL_FAILURES = "c-failures-stay-local"

FAILURES_OF_A_CORRECT_STUDENT = Submission(
    forward="if len(x) == 1:\n    print('z' * 1_500_000)\n" + CORRECT["forward"],
    dloss=CORRECT["dloss_dw"],
    after_class="""
import os
if not os.path.exists("died_once"):
    open("died_once", "w").write("1")
    os._exit(0)
""",
)
"""A correct student whose notebook also dies, hangs, floods and hoards: each costs its own cell only."""

LOCAL_FAILURE_CELLS = [
    "while True:\n    pass",
    "for _ in range(3000):\n    print('x' * 10_000)",
    "import numpy as np\ntry:\n    np.ones(2**34)\nexcept MemoryError:\n    print('no')\n"
    "hoard = []\ntry:\n    while True:\n        hoard.append(bytearray(64 * 2**20))\n"
    "except MemoryError:\n    del hoard",
    "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '@MARKER@'])",
]

WHERE_AM_I = """
import os
print("uid", os.getuid(), "sees the course:", os.path.exists("@COURSE@"),
      "sees the repo:", os.path.exists("@REPO@/source"))
"""
"""A harmless look around, by the last correct student: is the kernel really in the sandbox?"""

BAD_INPUT: dict[str, Submission] = {
    # nbgrader cannot read these: it reports each by name and grades the rest.
    "x-corrupt": Submission(raw=lambda text: '{"cells": [}{ not json'),
    "x-truncated": Submission(raw=lambda text: text[: len(text) // 2]),
    # A folder without the notebook: nbgrader does not see a submission.
    "x-missing-notebook": Submission(no_notebook=True),
}
REFUSED_BY_NBGRADER = {"x-corrupt", "x-truncated"}


# --------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------


@dataclass
class Batch:
    course: Course
    marker: str
    returncode: int
    log: str
    refused: set[str]
    seconds: float
    repo_before: dict[str, str]
    course_before: dict[str, str]


def _fill(text: str, course: Course, marker: str) -> str:
    return (
        text.replace("@COURSE@", str(course.root))
        .replace("@REPO@", str(ROOT))
        .replace("@MARKER@", marker)
        .replace("@ASSIGNMENT@", ASSIGNMENT)
    )


def _notebook(course: Course, sub: Submission, marker: str) -> NotebookNode:
    nb = fill_stubs(course.release_notebook(), [sub.forward, sub.dloss])
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    class_cell = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    inserts = [(class_cell + 1, sub.after_class), (class_cell, sub.before_class), (code[0] + 1, sub.after_imports)]
    for index, text in inserts:  # from the bottom up, so the indices stay right
        if text:
            nb.cells.insert(index, new_code_cell(_fill(text, course, marker)))
    if sub.at_end:
        nb.cells.append(new_code_cell(_fill(sub.at_end, course, marker)))
    if sub.edit:
        sub.edit(nb)
    return nb


def _hand_in(course: Course, student: str, sub: Submission, marker: str) -> None:
    folder = course.submit(student, _notebook(course, sub, marker))
    for name, text in sub.files.items():
        (folder / name).write_text(_fill(text, course, marker))
    for name, target in sub.links.items():
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(_fill(target, course, marker))
    path = folder / NOTEBOOK
    if sub.raw:
        path.write_text(sub.raw(path.read_text()))
    if sub.no_notebook:
        path.unlink()


def _digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _repo_files() -> dict[str, str]:
    return _digest(sorted((ROOT / "source").rglob("*")) + [ROOT / "gradebook.db", ROOT / "nbgrader_config.py"])


def _course_files(course: Course) -> dict[str, str]:
    paths = sorted((course.root / "source").rglob("*")) + sorted((course.root / "release").rglob("*"))
    return _digest(paths + [course.root / "nbgrader_config.py"])


def _require_sandboxed_grading(course: Course) -> None:
    """Refuse to hand hostile code to a grader that would not sandbox it."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.nbgrader_plugins import SecureExecute
    from autograder.kernels.sandbox import SandboxedKernelManager

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    steps = config.Autograde.autograde_preprocessors
    assert SecureExecute in steps, steps
    manager = SecureExecute(config=config).kernel_manager_class
    if not issubclass(manager, SandboxedKernelManager):
        pytest.fail(f"autograde would run student code with {manager}, outside the sandbox")


def _repairs_metadata(config_dir: Path) -> bool:
    """True when the course's configuration runs RepairCellMetadata before nbgrader's own sanitizing."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.nbgrader_plugins import RepairCellMetadata

    config = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()
    steps = config.Autograde.get("sanitize_preprocessors", [])
    if not isinstance(steps, list) or OverwriteCells not in steps:
        return False
    return RepairCellMetadata in steps[: steps.index(OverwriteCells)]


WIRE_REPAIR = """
# Added by tests/test_adversarial.py: the course's configuration does not do this yet.
from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec  # noqa: E402
from autograder.nbgrader_plugins import RepairCellMetadata  # noqa: E402
c.Autograde.sanitize_preprocessors = [
    ClearOutput, RepairCellMetadata, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata
]
"""


def _escaped_files(course: Course, marker: str) -> list[Path]:
    places = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/"), Path("/root"), ROOT, ROOT / "source"]
    found = [p for place in places for p in place.glob(f"*{marker}*")]
    found += [p for p in course.root.rglob(f"*{marker}*")]
    return found + [p for d in Path("/tmp").glob("autograder-*") for p in d.rglob(f"*{marker}*")]


@pytest.fixture(scope="module")
def batch(course: Course) -> Iterator[Batch]:
    _require_sandboxed_grading(course)
    if not _repairs_metadata(course.root):
        with open(course.root / "nbgrader_config.py", "a") as config:
            config.write(WIRE_REPAIR)
    assert _repairs_metadata(course.root)
    marker = f"adversarial-{uuid.uuid4().hex}"
    correct = Submission(forward=CORRECT["forward"], dloss=CORRECT["dloss_dw"])
    looks_around = Submission(forward=CORRECT["forward"], dloss=CORRECT["dloss_dw"], after_imports=WHERE_AM_I)
    students = {CORRECT_FIRST: correct, BASELINE: Submission(), ODD_ID: correct, CORRECT_LAST: looks_around}
    students.update({f"t-{name}": sub for name, sub in TRICKS.items()})
    students.update(BAD_INPUT)
    for student, sub in students.items():
        _hand_in(course, student, sub, marker)
    local = _notebook(course, FAILURES_OF_A_CORRECT_STUDENT, marker)
    after_exit = 2 + next(i for i, c in enumerate(local.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    for text in reversed(LOCAL_FAILURE_CELLS):  # between the class and the tests
        local.cells.insert(after_exit, new_code_cell(_fill(text, course, marker)))
    course.submit(LOCAL_FAILURES, local)

    repo_before, course_before = _repo_files(), _course_files(course)
    env = dict(course.env)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    command = [
        sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force",
        f"--SecureExecute.timeout={TIMEOUT}", f"--SecureExecute.startup_timeout={STARTUP_TIMEOUT}",
    ]  # fmt: skip
    start = time.monotonic()
    done = subprocess.run(command, cwd=course.root, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - start
    log = done.stdout + done.stderr
    refused = set(re.findall(r"There was an error processing assignment '[^']*' for student '(.*)'$", log, re.M))
    yield Batch(course, marker, done.returncode, log, refused, seconds, repo_before, course_before)
    for path in _escaped_files(course, marker):  # only if a test below failed: leave no litter
        path.unlink(missing_ok=True)


def _scores(batch: Batch, student: str) -> dict[str, float]:
    return {name: score for name, score in batch.course.scores(student).items() if name in FULL_MARKS}


def _grades(batch: Batch, student: str) -> dict[str, tuple[float | None, bool]]:
    from nbgrader.api import Gradebook

    with Gradebook(batch.course.db_url) as gb:
        nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades if g.name in FULL_MARKS}


# --------------------------------------------------------------------------------------------
# Per trick
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_trick_scores_no_more_than_the_wrong_answer_alone(batch: Batch, trick: str) -> None:
    student = f"t-{trick}"
    assert student not in batch.refused, f"nbgrader could not grade {student}:\n{batch.log[-5000:]}"
    baseline, scores = _scores(batch, BASELINE), _scores(batch, student)
    messages = verdict_messages(batch.course.autograded(student))
    for test in TESTS:
        assert scores[test] <= baseline[test], f"{student}/{test} scored {scores[test]}: {messages.get(test)}"
    # Every test was graded (no manual grade pending) and says why it failed.
    for test, (auto_score, manual) in _grades(batch, student).items():
        assert auto_score is not None and not manual, f"{student}/{test} is left for manual grading"
        assert messages.get(test, "").strip(), f"{student}/{test} has no message"


def test_the_baseline_is_wrong_everywhere(batch: Batch) -> None:
    assert _scores(batch, BASELINE) == dict.fromkeys(FULL_MARKS, 0.0)


@pytest.mark.parametrize("student", [CORRECT_FIRST, CORRECT_LAST, ODD_ID])
def test_correct_students_keep_full_marks(batch: Batch, student: str) -> None:
    assert _scores(batch, student) == {t: float(p) for t, p in FULL_MARKS.items()}, verdict_messages(
        batch.course.autograded(student)
    )


def test_a_hanging_dying_flooding_correct_student_loses_nothing(batch: Batch) -> None:
    nb = batch.course.autograded(LOCAL_FAILURES)
    assert _scores(batch, LOCAL_FAILURES) == {t: float(p) for t, p in FULL_MARKS.items()}, verdict_messages(nb)
    errors = [o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert "KernelDied" in errors  # the os._exit cell says what happened to it
    assert any("Timeout" in (e or "") or e == "KeyboardInterrupt" for e in errors)  # so does the endless loop


def test_failures_are_explained(batch: Batch) -> None:
    messages = verdict_messages(batch.course.autograded("t-endless-loop-in-test"))
    assert "timed out" in messages["test_forward"]
    for student, word in [("t-kernel-never-ready", "could not start"), ("t-kernel-dies-at-start", "could not start"),
                          ("t-exit-in-every-test", "died")]:  # fmt: skip
        text = " ".join(verdict_messages(batch.course.autograded(student)).values())
        assert word in text.lower(), f"{student}: {text}"
    # Their own files stopped the kernel: the student is told which kind of file, not to restart.
    text = " ".join(verdict_messages(batch.course.autograded("t-kernel-dies-at-start")).values())
    assert "ipykernel_launcher.py" in text and "Restart your kernel" not in text
    # Their own code killed it: restarting their kernel shows them.
    assert "Restart your kernel" in " ".join(verdict_messages(batch.course.autograded("t-exit-in-every-test")).values())
    # A fresh kernel gets a fresh copy of the folder: what the dead one wrote is gone, the replay runs.
    text = " ".join(verdict_messages(batch.course.autograded("t-replay-death")).values())
    assert "not run" not in text and "wrong" in text


def test_kernels_ran_unprivileged_in_the_sandbox(batch: Batch) -> None:
    from autograder.kernels.sandbox import SandboxLimits

    nb = batch.course.autograded(CORRECT_LAST)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"uid {SandboxLimits().uid} sees the course: False sees the repo: False" in printed


def test_symlinked_secrets_do_not_reach_the_kernel(batch: Batch) -> None:
    # nbgrader copies what a handed-in link points to into the autograded folder...
    folder = batch.course.root / "autograded" / "t-symlinks-to-secrets" / ASSIGNMENT
    instructor = batch.course.root / "source" / ASSIGNMENT / NOTEBOOK
    assert (folder / "instructor.txt").read_bytes() == instructor.read_bytes()
    # ...but the kernel's private copy leaves such files out (the trick's own test checks the score).
    assert _scores(batch, "t-symlinks-to-secrets") == dict.fromkeys(FULL_MARKS, 0.0)


def test_only_unreadable_notebooks_are_refused(batch: Batch) -> None:
    # nbgrader reports each of them by name and grades everyone else.
    assert batch.refused == REFUSED_BY_NBGRADER, batch.log[-5000:]
    assert batch.returncode == 1
    for student in REFUSED_BY_NBGRADER:
        assert sum(_scores(batch, student).values()) == 0


def test_autograde_runs_student_kernels_in_the_sandbox() -> None:
    # nbgrader's Execute hard-wires AsyncKernelManager; SecureExecute must not inherit that.
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.nbgrader_plugins import SecureExecute
    from autograder.kernels.sandbox import SandboxedKernelManager

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    for executor in (SecureExecute(config=config), SecureExecute()):
        assert issubclass(executor.kernel_manager_class, SandboxedKernelManager)


def test_the_course_configuration_repairs_edited_metadata() -> None:
    # Without it, one edited schema_version stops the grading of every later student.
    assert _repairs_metadata(ROOT), (
        "nbgrader_config.py should list RepairCellMetadata in c.Autograde.sanitize_preprocessors, "
        "before DeduplicateIds (see its docstring)"
    )


def test_a_missing_notebook_scores_nothing(batch: Batch) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(batch.course.db_url) as gb:
        try:
            nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "x-missing-notebook")
        except MissingEntry:
            return  # nbgrader skips a folder without a notebook: as if nothing was handed in
        assert all(not g.score for g in nb.grades)


def test_deleted_test_cells_are_graded_not_left_for_manual_grading(batch: Batch) -> None:
    grades = _grades(batch, "t-deleted-test-cells")
    assert grades == dict.fromkeys(FULL_MARKS, (0.0, False))


def test_edited_points_do_not_count(batch: Batch) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(batch.course.db_url) as gb:
        nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "t-edited-test-cells")
        assert {g.name: g.max_score for g in nb.grades if g.name in FULL_MARKS} == {
            t: float(p) for t, p in FULL_MARKS.items()
        }


# --------------------------------------------------------------------------------------------
# Nothing else changed
# --------------------------------------------------------------------------------------------


def test_gradebook_keeps_grades_of_students_graded_earlier(batch: Batch) -> None:
    from nbgrader.api import Gradebook

    assert _scores(batch, CORRECT_FIRST) == {t: float(p) for t, p in FULL_MARKS.items()}
    with Gradebook(batch.course.db_url) as gb:
        for student in gb.students:
            nb = gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, student.id)
            assert all(g.manual_score is None for g in nb.grades), student.id


def test_no_process_started_by_a_submission_survives(batch: Batch) -> None:
    def leftovers() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            if any(batch.marker in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        return found

    alive = leftovers()
    if alive:  # give a dying sandbox a moment
        _gone, alive = psutil.wait_procs(alive, timeout=10)
    assert alive == [], [p.info["cmdline"] for p in alive]


def test_nothing_is_written_outside_the_private_folder(batch: Batch) -> None:
    root = batch.course.root
    assert _escaped_files(batch.course, batch.marker) == []
    assert _course_files(batch.course) == batch.course_before
    # Nor does the private folder's content reach the autograded folder.
    assert not (root / "autograded" / "t-write-outside" / ASSIGNMENT / f"{batch.marker}-escaped").exists()
    helpers = root / "autograded" / "t-redefine-helpers" / ASSIGNMENT / "shallow_narrow_helpers.py"
    assert helpers.read_bytes() == (root / "source" / ASSIGNMENT / "shallow_narrow_helpers.py").read_bytes()


def test_the_real_course_is_untouched(batch: Batch) -> None:
    import sqlite3

    # The instructor (or a demo) may rebuild or regrade the real course meanwhile: what must not
    # be there is anything of this batch.
    for path, digest in _repo_files().items():
        if batch.repo_before.get(path) != digest:
            data = Path(path).read_bytes()
            assert batch.marker.encode() not in data and b"pwned" not in data, path
    gradebook = ROOT / "gradebook.db"
    if gradebook.exists():
        db = sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True)
        try:
            students = {row[0] for row in db.execute("SELECT id FROM student")}
            edited = db.execute("SELECT COUNT(*) FROM grade WHERE manual_score = 100").fetchone()[0]
        finally:
            db.close()
        assert not {s for s in students if s.startswith(("t-", "x-")) or s in (BASELINE, ODD_ID)}
        assert edited == 0


# --------------------------------------------------------------------------------------------
# The grader's own failures, provoked directly (no nbgrader around it)
# --------------------------------------------------------------------------------------------


def _outputs(cell: NotebookNode) -> list[tuple[str, str]]:
    return [(o.output_type, o.get("ename") or o.get("text", "")) for o in cell.outputs]


def test_an_error_inside_the_grader_costs_only_its_cell(tmp_path: Path) -> None:
    from nbformat.v4 import new_notebook

    from autograder.nbgrader_plugins import SecureExecute

    class Fragile(SecureExecute):
        def process_message(self, msg, cell, cell_index):  # type: ignore[no-untyped-def]
            if "BOOM" in str((msg.get("content") or {}).get("text", "")):
                raise ValueError("a message this grader cannot handle")
            return super().process_message(msg, cell, cell_index)

    cells = ["x = 1", "print('BOOM')", "from IPython.display import display\ndisplay({'text/plain': 'y' * 40_000_000}, raw=True)  # one message, too large", "print(x + 1)"]
    nb = new_notebook(cells=[new_code_cell(code) for code in cells])
    nb, _ = Fragile(timeout=TIMEOUT).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert _outputs(nb.cells[1]) == [("error", "GraderError")]
    assert _outputs(nb.cells[2]) == [("error", "CellTimeoutError")]
    assert "could not be collected" in nb.cells[2].outputs[0].evalue
    assert _outputs(nb.cells[3]) == [("stream", "2\n")]  # a fresh kernel, with x replayed


def test_a_notebook_the_grader_cannot_run_is_left_ungraded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbformat.v4 import new_notebook

    from autograder.nbgrader_plugins import GraderFailure, SecureExecute, secure_execute

    def disk_full(*args: object) -> None:
        raise OSError("disk full")

    # The grader's own step of copying the submission into the kernel's folder fails.
    monkeypatch.setattr(secure_execute, "copy_submission", disk_full)
    test = new_code_cell('run_check("shallow_narrow.forward", globals())')
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1, "locked": True}
    nb = new_notebook(cells=[new_code_cell("x = 1"), test])
    # The grader's failure is never the student's: no score at all (nbgrader records none), and why.
    with pytest.raises(GraderFailure, match="disk full"):
        SecureExecute(timeout=TIMEOUT).preprocess(nb, {"metadata": {"path": str(tmp_path)}})


def test_a_test_cell_without_a_registered_check_stops_grading(tmp_path: Path) -> None:
    from nbformat.v4 import new_notebook

    from autograder.nbgrader_plugins import GraderFailure, SecureExecute

    # Its verdict would be decided by its own code, in the student's kernel.
    test = new_code_cell("assert forward(1) == 2")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "plain_assert", "points": 1}
    nb = new_notebook(cells=[new_code_cell("x = 1"), test])
    with pytest.raises(GraderFailure, match="plain_assert"):
        SecureExecute(timeout=TIMEOUT).preprocess(nb, {"metadata": {"path": str(tmp_path)}})


def test_a_notebook_that_takes_too_long_in_all_is_cut_short(tmp_path: Path) -> None:
    from nbformat.v4 import new_notebook

    from autograder.nbgrader_plugins import SecureExecute

    # Each cell is within the cell timeout; together they are not.
    test = new_code_cell('run_check("shallow_narrow.forward", globals())')
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1, "locked": True}
    nb = new_notebook(cells=[new_code_cell("import time\ntime.sleep(2)") for _ in range(4)] + [test])
    start = time.monotonic()
    nb, _ = SecureExecute(timeout=TIMEOUT, notebook_timeout=3).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert time.monotonic() - start < 3 + 2 + STARTUP_TIMEOUT
    assert [_outputs(c) for c in nb.cells[:2]] == [[], []]
    for cell in nb.cells[2:]:
        assert _outputs(cell) == [("error", "CellTimeoutError")]
        assert "longer than 3 s in all" in cell.outputs[0].evalue
