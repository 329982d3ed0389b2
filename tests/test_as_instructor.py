"""The sandbox, the forked kernels, the adversarial battery and the grader's failures, as an ordinary user.

Instructors run nbgrader as their own user (the formgrader on a hub, a terminal on a
workstation), where the sandbox is rootless: bubblewrap in a user namespace.  CI runs
as root, so here those modules run a second time, as :data:`instructor.USER`, in a
pytest of their own; none of their tests may be skipped there.  That run starts in
the background when the suite starts (``conftest.pytest_collection_finish``) and this
test, which the suite runs last, reads its outcome.

Run as an ordinary user, the whole suite already is that second run (the modules
below are collected as usual), so this test has nothing to add.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from instructor import as_user

MODULES = [
    "test_sandbox.py",
    "test_forkserver.py",
    "test_adversarial.py",
    "test_grader_failures.py",
    "test_parallel.py",
    "test_new_assignment.py",
    "test_ungradable.py",
    "test_variants.py",
]
"""Everything that starts a student kernel, grades a class or decides what a grader failure is."""


@pytest.mark.skipif(os.geteuid() != 0, reason="already an ordinary user: the modules themselves ran as one")
def test_the_grader_holds_as_the_instructors_own_user(instructor_run) -> None:
    returncode, output = instructor_run.result(timeout=1800)
    assert returncode == 0, output
    suite = ET.parse(instructor_run.report).getroot().find("testsuite")
    assert suite is not None
    counts = {key: int(suite.get(key, "0")) for key in ("tests", "skipped", "failures", "errors")}
    assert counts["tests"] > 90 and counts == {**counts, "skipped": 0, "failures": 0, "errors": 0}, counts
    whoami = subprocess.run(as_user(["id", "-u"]), capture_output=True, text=True, check=True).stdout
    assert int(whoami) != 0
