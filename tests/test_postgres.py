"""The gradebook in PostgreSQL: a real server, started by the test, written by a parallel run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder.batch import parallel
from autograder.course.submissions import example_answer
from conftest import ASSIGNMENT, FULL_MARKS, Course

pytestmark = pytest.mark.postgres


def _postgres_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian keeps each major version apart)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:  # a failure, not a skip: a missing install step must not pass unseen
        pytest.fail("PostgreSQL is missing: `make setup` as root installs it, else `sudo apt-get install postgresql`")
    return found[-1].parent


def _as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; the Debian package provides the `postgres` user.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory):
    pg_bin = _postgres_bin()
    # Not under pytest's tmp folder: that is private to root, and the server runs as `postgres`.
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    _as_postgres(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    # Unix socket only: no TCP port to collide with anything.
    _as_postgres(
        str(pg_bin / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(base / "log"),
        "-o",
        f"-k {sockets} -c listen_addresses=''",
        "start",
    )
    try:
        _as_postgres(str(pg_bin / "createdb"), "-h", str(sockets), "-U", "postgres", "course")
        yield f"postgresql+psycopg2://postgres@/course?host={sockets}"
    finally:
        _as_postgres(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def test_parallel_grading_writes_into_postgresql(postgres_url: str, tmp_path: Path, monkeypatch) -> None:
    from nbgrader.api import Gradebook

    monkeypatch.setenv("SHALLOW_NARROW_DB_URL", postgres_url)
    course = Course(tmp_path)
    course.db_url = postgres_url
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    for student in ("correct", "sign_flipped"):
        course.submit_answer(student, example_answer(ASSIGNMENT, student))
    summary = parallel.grade(ASSIGNMENT, root=course.root, workers=2, force=True, progress=False)
    assert not summary.failed, summary.failed
    assert not (tmp_path / "gradebook.db").exists(), "nothing may fall back to SQLite"
    with Gradebook(postgres_url) as gb:
        correct = {g.name: g.score for g in gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "correct").grades}
        flipped = {
            g.name: g.score for g in gb.find_submission_notebook("shallow_narrow", ASSIGNMENT, "sign_flipped").grades
        }
    assert all(correct[t] == p for t, p in FULL_MARKS.items())
    assert flipped["test_dloss_dw"] == 0 and flipped["test_forward"] == FULL_MARKS["test_forward"]
