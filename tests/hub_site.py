"""A scratch copy of the course's JupyterHub for the tests (tests/test_hub*.py).

Everything lives in a fresh folder under /tmp (pytest's own folder is closed to other
users): the accounts' homes, the grader account's course folder, nbgrader's exchange and
the hub's files.  The accounts are made with ``useradd`` when missing (the tests run as
root) and pointed at this run's homes; their passwords are new every run.  Nothing of the
machine's own exchange or hub is touched, and ports are chosen free at run time.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from autograder.course.reach import reachable_script

ROOT = Path(__file__).resolve().parent.parent
HUB = ROOT / "hub"

_spec = importlib.util.spec_from_file_location("shallow_narrow_hub_serve", HUB / "serve.py")
serve = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = serve  # dataclasses look their module up by name
_spec.loader.exec_module(serve)

INSTRUCTOR = "snhub-instructor"
TA = "snhub-ta"
ALICE = "snhub-alice"
"""The student who solves it."""
BOB = "snhub-bob"
"""The student who makes a mistake, and who tries to reach Alice's work."""
GRADER = "snhub-grader"
"""The course's grader account: the formgrader service runs as it."""
ASSIGNMENT = "01_shallow_narrow"


NBGRADER_PREAMBLE = """
from jupyter_core.application import NoStart
from nbgrader.apps.nbgraderapp import NbGraderApp


def nbgrader(*argv):
    # `nbgrader ARGV...`, as the command line runs it (NbGraderApp.launch_instance), in this process.
    app = NbGraderApp.instance()
    try:
        app.initialize(list(argv))
        app.start()
    except NoStart:  # what a subcommand's parent says when it is done
        pass
    finally:
        if app.subapp is not None:
            type(app.subapp).clear_instance()
        NbGraderApp.clear_instance()


"""


class Site:
    """The course's hub set up in a scratch folder: accounts, course, exchange (the hub itself: :meth:`start`)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="shallow-narrow-hub-"))
        os.chmod(self.base, 0o755)  # every account reaches its home and the exchange below
        self.passwords = {user: secrets.token_urlsafe(12) for user in (INSTRUCTOR, TA, ALICE, BOB, GRADER)}
        homes = self.base / "home"
        homes.mkdir(mode=0o755)
        self.accounts = {user: serve.ensure_user(user, homes / user) for user in self.passwords}
        serve.set_passwords(self.passwords)
        self.roster = serve.Roster(
            instructors=[INSTRUCTOR],
            teaching_assistants=[TA],
            students=[ALICE, BOB],
            grader_account=GRADER,
            course_dir=str(self.home(GRADER) / serve.COURSE_ID),
            exchange=str(self.base / "exchange"),
            state=str(self.base / "hub"),
            port=serve.free_port(),
        )
        self.course = serve.prepare_course(self.roster)
        self.exchange = serve.prepare_exchange(self.roster)
        self.inbound = self.exchange / serve.COURSE_ID / "inbound"
        self.hub: serve.Hub | None = None

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    @property
    def url(self) -> str:
        return self.roster.url

    # ----------------------------------------------------------------- as a user

    def command(self, user: str, argv: list[str], cwd: Path | None = None) -> list[str]:
        """A command line that runs `argv` as `user` in their home (or `cwd`), with the hub's nbgrader settings.

        As the hub's servers do: this checkout's Python reachable (a private mount namespace
        when it lives where others cannot enter), the nbgrader configuration every server
        shares, this site's exchange.
        """
        account = pwd.getpwnam(user)
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": account.pw_dir,
            "USER": user,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "JUPYTER_CONFIG_PATH": str(HUB / "jupyter" / "common"),
            "SHALLOW_NARROW_EXCHANGE": str(self.exchange),
        }
        drop = [
            "setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups",
            "env", "-i", "-C", str(cwd or account.pw_dir), *(f"{k}={v}" for k, v in env.items()), *argv,
        ]  # fmt: skip
        script = reachable_script([Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix), ROOT],
                                  stage="hub-site-stage")
        if not script:
            return drop
        return ["unshare", "--mount", "--propagation", "private", "sh", "-ec", f"{script}\nexec \"$@\"", "sh", *drop]

    def run(self, user: str, argv: list[str], cwd: Path | None = None, check: bool = True,
            timeout: float = 180, stdin: str | None = None) -> subprocess.CompletedProcess:  # fmt: skip
        """Run `argv` as `user` (see :meth:`command`); its output as text."""
        done = subprocess.run(self.command(user, argv, cwd), input=stdin, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} as {user} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def python(self, user: str, code: str, check: bool = False) -> subprocess.CompletedProcess:
        """Run Python `code` as `user`."""
        return self.run(user, [sys.executable, "-c", code], check=check)

    def write(self, user: str, path: Path, text: str) -> None:
        """Write a file as `user`, as their own JupyterLab would save it."""
        self.run(user, ["sh", "-c", 'cat > "$1"', "sh", str(path)], stdin=text)

    def script(self, user: str, code: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run Python `code` as `user`, with ``nbgrader(*argv)`` at hand: nbgrader's commands, in-process.

        The grader account runs in the course folder, anyone else in their home.  One
        process for several commands: importing nbgrader costs seconds each time.
        """
        cwd = self.course if user == GRADER else None
        return self.run(user, [sys.executable, "-c", NBGRADER_PREAMBLE + code], cwd=cwd, check=check)

    def nbgrader(self, user: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``nbgrader ARGS...`` as `user` (see :meth:`script`)."""
        return self.script(user, f"nbgrader(*{list(args)!r})", check=check)

    # ----------------------------------------------------------------- the hub

    def start(self) -> serve.Hub:
        self.hub = serve.Hub(self.roster, self.base / "jupyterhub.log")
        self.hub.start()
        return self.hub

    def user_processes(self) -> list[psutil.Process]:
        """Processes running as one of this site's accounts (none may outlive the hub)."""
        uids = {account.pw_uid for account in self.accounts.values()}
        found = []
        for process in psutil.process_iter(["uids"]):
            try:
                if process.info["uids"] and process.info["uids"].real in uids:
                    found.append(process)
            except psutil.Error:
                pass
        return found

    def close(self) -> int | None:
        """Stop the hub (if started) and remove the scratch folder; the accounts stay for the next run.

        Returns the hub's exit status (None: not started, or killed when it would not stop).
        """
        try:
            return self.hub.stop() if self.hub is not None else None
        finally:
            if not os.environ.get("SHALLOW_NARROW_HUB_KEEP"):  # set it to look at a failed run's files
                shutil.rmtree(self.base, ignore_errors=True)
