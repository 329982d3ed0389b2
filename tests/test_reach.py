"""The checkout's Python made reachable by other users (hub users, the suite's instructor) in a mount namespace."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.course.reach import blocked, reachable_script


@pytest.fixture()
def private_home() -> Iterator[Path]:
    """``<tmp>/home`` (0700) holding ``venv/bin/python`` and a secret beside the venv; every folder above is open.

    Not under pytest's tmp_path: that lies in a 0700 folder of its own.
    """
    top = Path(tempfile.mkdtemp(prefix="autograder-reach-"))
    try:
        yield _home_in(top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _home_in(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "venv" / "bin").mkdir(parents=True)
    (home / "venv" / "bin" / "python").write_text("#!/bin/sh\necho reached\n")
    (home / "venv" / "bin" / "python").chmod(0o755)
    (home / "secret.txt").write_text("no")
    for folder in (tmp_path, home / "venv", home / "venv" / "bin"):
        folder.chmod(0o755)
    home.chmod(0o700)
    return home


def test_the_first_closed_folder_and_its_child_on_the_way_are_found(private_home: Path) -> None:
    python = private_home / "venv" / "bin" / "python"
    assert blocked(python) == (private_home, private_home / "venv")
    assert blocked(Path("/usr/bin/env")) is None
    assert reachable_script([Path("/usr/bin/env")], stage="t") == ""


def test_the_script_lays_a_tmpfs_over_the_closed_folder_and_binds_back_only_the_way(private_home: Path) -> None:
    script = reachable_script([private_home / "venv" / "bin" / "python", private_home / "venv"], stage="t")
    lines = script.splitlines()
    assert f"mount -t tmpfs -o mode=755 tmpfs {private_home}" in lines
    assert sum(line.startswith("mount --bind") for line in lines) == 1  # the venv once, not the secret
    assert any(line.startswith("mount --move") and line.endswith(str(private_home / "venv")) for line in lines)


def test_another_user_reaches_the_python_and_not_what_lies_beside_it(private_home: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the script is run as root (make hub, the suite's instructor run): nothing to run it as here")
    python = private_home / "venv" / "bin" / "python"
    script = reachable_script([python], stage="test-reach")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
                 f"{python}; cat {private_home / 'secret.txt'} 2>/dev/null || echo hidden"]  # fmt: skip
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-ec", f"{script}\nexec \"$@\"", "sh", *as_nobody],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["reached", "hidden"]
    # Outside the namespace nothing changed.
    assert (private_home / "secret.txt").read_text() == "no" and oct(private_home.stat().st_mode & 0o777) == "0o700"
