"""Run a command as an ordinary Linux user: the way instructors run nbgrader (tests only).

On a hub the formgrader runs as the instructor's own user, and so does a terminal on
a workstation.  Tests that run as root (CI) use this to run the grader as such a user:
one made with ``useradd`` when it is missing, reached with ``setpriv``.

The user must be able to run this checkout's Python.  A CI machine may keep it where
only root can look (pyenv under /root, mode 0700): then the command runs in a private
mount namespace in which each such folder is replaced by a world-readable tmpfs that
holds only the paths the Python needs, bound read-only from the real ones.  Nothing
of the host changes.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

from autograder.course.reach import reachable_script

USER = "autograder-instructor"
"""The ordinary user the tests create and run the grader as."""

ROOT = Path(__file__).resolve().parent.parent


def ensure_user() -> pwd.struct_passwd:
    """The test instructor's account, created on first use (needs root)."""
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--home-dir", f"/home/{USER}", "--shell", "/bin/sh", USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(USER)


def as_user(argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    """A command line that runs `argv` as :data:`USER`, with this checkout's Python reachable.

    Parameters
    ----------
    argv : list of str
        The command.
    env : dict, optional
        Extra environment (on top of a clean one: PATH with the venv first, HOME, LANG).
    """
    account = ensure_user()
    clean = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": account.pw_dir,
        "USER": USER,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **({"CI": os.environ["CI"]} if "CI" in os.environ else {}),
        **(env or {}),
    }
    drop = [
        "setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups",
        "env", "-i", *(f"{k}={v}" for k, v in clean.items()), *argv,
    ]  # fmt: skip
    script = reachable_script([Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix), ROOT],
                              stage="instructor-stage")
    if not script:
        return drop
    return ["unshare", "--mount", "--propagation", "private", "sh", "-ec", f"{script}\nexec \"$@\"", "sh", *drop]


def owned_folder(prefix: str) -> Path:
    """A new folder under /tmp that belongs to :data:`USER`."""
    import tempfile

    account = ensure_user()
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chown(path, account.pw_uid, account.pw_gid)
    return path


class BackgroundRun:
    """A pytest of some test modules, as :data:`USER`, started now and read later.

    The run as the instructor takes minutes; started when the suite starts and read by
    the last test, it overlaps the rest of the suite.  Its temporary files go to a folder
    of its own (``TMPDIR``), so the outer run's checks of /tmp see nothing of it.
    """

    def __init__(self, modules: list[str]) -> None:
        import subprocess

        self.scratch = owned_folder("autograder-as-instructor-")
        self.report = self.scratch / "report.xml"
        tmp = self.scratch / "tmp"
        tmp.mkdir()
        account = ensure_user()
        os.chown(tmp, account.pw_uid, account.pw_gid)
        command = as_user(
            [
                sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--durations=15",
                f"--basetemp={self.scratch / 'pytest'}", f"--junitxml={self.report}",
                *(str(ROOT / "tests" / module) for module in modules),
            ],
            env={"TMPDIR": str(tmp)},
        )  # fmt: skip
        self.log = open(self.scratch / "log.txt", "w+")  # noqa: SIM115 - read back by result()
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # fmt: skip

    def result(self, timeout: float) -> tuple[int, str]:
        """Wait for the run; its exit status and the end of its output."""
        self.process.wait(timeout=timeout)
        self.log.seek(0)
        return self.process.returncode, self.log.read()[-12000:]

    def stop(self) -> None:
        """Stop the run if it still goes (the suite ended early), and remove its files."""
        import shutil
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
