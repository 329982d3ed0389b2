"""Set up and run the course's JupyterHub: `make hub` (as root), and the hub the tests start.

``python hub/serve.py`` makes the demo accounts (an instructor, a teaching assistant, two
students, the course's grader account) with fresh random passwords, puts a copy of the
course in the grader account's home, makes nbgrader's exchange with the permissions that
keep students apart (``hub/exchange.py``), starts JupyterHub on 127.0.0.1 and prints how to
log in.  Ctrl-C (or SIGTERM) stops the hub and everything it started.  With ``--roster FILE``
(as ``hub/roster.example.json``) it uses a course's own accounts instead, and changes no
password.

The hub runs in namespaces of its own (``unshare``):

- a **PID namespace**, whose first process is JupyterHub: when it ends, the kernel ends
  every process the hub started (servers, kernels, grading sandboxes), whatever happened;
- a **mount namespace**, where folders that other users cannot enter but the course's
  Python lives in (a CI machine's pyenv under ``/root``) are replaced by a tmpfs holding
  only the paths that Python needs, bound from the real ones, so that every
  user's server can run it.  Nothing of the host changes.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from autograder.course.reach import reachable_script

HUB = Path(__file__).resolve().parent
ROOT = HUB.parent
COURSE_ID = "shallow-narrow"
START_TIMEOUT = 120.0  # seconds for the hub to answer; the machine may be busy
STOP_TIMEOUT = 30.0


@dataclass
class Roster:
    """Who uses the hub and where everything lives: the settings ``hub/jupyterhub_config.py`` reads."""

    instructors: list[str]
    teaching_assistants: list[str]
    students: list[str]
    grader_account: str
    course_dir: str
    """The course folder (source/, release/, gradebook, submissions), in the grader account's home."""
    exchange: str
    """nbgrader's exchange root."""
    state: str
    """The hub's own files: database, cookie secret, log, this roster."""
    course_id: str = COURSE_ID
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = field(default_factory=lambda: free_port())
    proxy_api_port: int = field(default_factory=lambda: free_port())
    service_port: int = field(default_factory=lambda: free_port())

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    @property
    def settings_file(self) -> Path:
        return Path(self.state) / "roster.json"

    def write(self) -> Path:
        Path(self.state).mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.state, 0o700)  # the hub's database and secrets
        self.settings_file.write_text(json.dumps(asdict(self), indent=2))
        return self.settings_file


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- accounts


def ensure_user(name: str, home: Path | None = None) -> pwd.struct_passwd:
    """A local account with a private home (``0700``), created when missing (needs root).

    Parameters
    ----------
    name : str
        The user name.
    home : Path, optional
        Where its home should be (the tests use a fresh folder per run); default: as
        ``useradd`` makes it (``/home/<name>``) or as it already is.
    """
    try:
        account = pwd.getpwnam(name)
        if home is not None and Path(account.pw_dir) != home:
            subprocess.run(["usermod", "--home", str(home), name], check=True, capture_output=True)
    except KeyError:
        where = ["--home-dir", str(home)] if home is not None else []
        subprocess.run(["useradd", "--create-home", *where, "--shell", "/bin/bash", name],
                       check=True, capture_output=True)  # fmt: skip
    account = pwd.getpwnam(name)
    folder = Path(account.pw_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, account.pw_uid, account.pw_gid)
    os.chmod(folder, 0o700)
    return account


def set_passwords(passwords: dict[str, str]) -> None:
    """Set the Unix passwords of existing accounts (PAM checks them at the hub's login)."""
    lines = "".join(f"{user}:{password}\n" for user, password in passwords.items())
    subprocess.run(["chpasswd"], input=lines, text=True, check=True, capture_output=True)


def chown_tree(path: Path, account: pwd.struct_passwd) -> None:
    """Give a folder and everything below it to `account` (never following a link)."""
    os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), account.pw_uid, account.pw_gid, follow_symlinks=False)


# --------------------------------------------------------------------------- course and exchange


def prepare_course(roster: Roster) -> Path:
    """A copy of the course (sources, release, its nbgrader_config.py) in the grader account's home.

    Kept when it exists: it holds the gradebook and every submission.
    """
    grader = pwd.getpwnam(roster.grader_account)
    course = Path(roster.course_dir)
    if not course.exists():
        course.mkdir(parents=True, mode=0o700)
        shutil.copytree(ROOT / "source", course / "source")
        shutil.copytree(ROOT / "release", course / "release")
        # The course's own configuration (the secure grader); its folder becomes the course root.
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        chown_tree(course, grader)
    return course


def prepare_exchange(roster: Roster) -> Path:
    """nbgrader's exchange for the course, with the permissions that keep students apart.

    ========================  =====  ==============  =============================================
    folder                    mode   owner           why
    ========================  =====  ==============  =============================================
    root                      1777   root            stock nbgrader wants it writable by all;
                                                     sticky: the course folder cannot be renamed
    root/<course>             0755   grader account  made here, so no student can take the name
    <course>/outbound         0755   grader account  releases: everyone reads, the graders write
    <course>/inbound          3733   grader account  students write blind (no listing); sticky:
                                                     no one renames or deletes another's entry;
                                                     set-group-id: entries get the grader's group
    <course>/feedback         0711   grader account  no listing: each file's name derives from
                                                     its submission's secret
    ========================  =====  ==============  =============================================
    """
    grader = pwd.getpwnam(roster.grader_account)
    root = Path(roster.exchange)
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    os.chmod(root, 0o1777)
    course = root / roster.course_id
    for folder, mode in ((course, 0o755), (course / "outbound", 0o755), (course / "inbound", 0o3733),
                         (course / "feedback", 0o711)):  # fmt: skip
        folder.mkdir(exist_ok=True)
        os.chown(folder, grader.pw_uid, grader.pw_gid)
        os.chmod(folder, mode)
    return root


# --------------------------------------------------------------------------- the hub process


def hub_command(roster: Roster) -> list[str]:
    """The command line that runs JupyterHub for `roster` in its own PID and mount namespaces."""
    jupyterhub = [sys.executable, "-m", "jupyterhub", "-f", str(HUB / "jupyterhub_config.py")]
    script = reachable_script([Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix), ROOT],
                              stage="shallow-narrow-hub-stage")
    return [
        "unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc",
        "sh", "-ec", f"{script}\ncd /\nexec \"$@\"", "sh", *jupyterhub,
    ]  # fmt: skip


class Hub:
    """A running JupyterHub for a roster: started by :meth:`start`, ended by :meth:`stop`."""

    def __init__(self, roster: Roster, log: Path) -> None:
        self.roster = roster
        self.log_path = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the hub and wait until it answers (or fail with the end of its log)."""
        settings = self.roster.write()
        if not (HUB / "node_modules" / ".bin" / "configurable-http-proxy").exists():
            raise RuntimeError("configurable-http-proxy is missing: run `make setup` (npm ci in hub/)")
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")},
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "SN_HUB_SETTINGS": str(settings),
        }
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(hub_command(self.roster), env=env, cwd=self.roster.state,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # fmt: skip
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with direct.open(f"{self.roster.url}/hub/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            try:  # the pause between polls, which also notices a hub that died
                self.process.wait(timeout=0.25)
                raise RuntimeError(f"JupyterHub exited with {self.process.returncode}:\n{self.log_tail()}")
            except subprocess.TimeoutExpired:
                pass
        self.stop()
        raise RuntimeError(f"JupyterHub did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop the hub the gentle way (it stops its servers and proxy), then make sure all is gone.

        Returns the hub's exit status (None when it had to be killed).
        """
        if self.process is None:
            return None
        status: int | None = None
        if self.process.poll() is None:
            # SIGTERM to JupyterHub itself (unshare's child, the namespace's first process): it stops its
            # servers and its proxy, then exits.  Not SIGINT: a hub started from a background job ignores it.
            try:
                for hub in psutil.Process(self.process.pid).children():
                    hub.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                pass
            try:
                status = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # --kill-child: unshare's death kills the hub, and with it the whole PID namespace.
                self.process.kill()
                self.process.wait()
        else:
            status = self.process.returncode
        self._log.close()
        return status


# --------------------------------------------------------------------------- make hub


DEMO = {
    "instructors": ["sn-instructor"],
    "teaching_assistants": ["sn-ta"],
    "students": ["sn-student1", "sn-student2"],
    "grader_account": "grader-shallow-narrow",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1 (default 8000)")
    parser.add_argument("--state", default=str(ROOT / ".hub"),
                        help="a folder for the hub's own files (STATE/hub, private) and the exchange (default .hub/)")
    parser.add_argument("--exchange", default=None, help="nbgrader's exchange root (default STATE/exchange)")
    parser.add_argument("--homes", default="/home", help="where the demo accounts' homes are (default /home)")
    parser.add_argument("--roster", default=None,
                        help="your course's accounts instead of the demo ones (JSON, as hub/roster.example.json)")
    args = parser.parse_args(argv)  # fmt: skip
    if os.geteuid() != 0:
        print("error: the hub runs as root (PAM logins, servers started as each user): sudo make hub",
              file=sys.stderr)  # fmt: skip
        return 2

    base = Path(args.state).resolve()
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)  # users' servers reach the exchange inside; the hub's own files are private
    # A closed terminal or `kill` stops the hub as Ctrl-C does (the hub runs in a session of its own).
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)
    if args.roster:
        spec = json.loads(Path(args.roster).read_text())
        passwords: dict[str, str] = {}  # their own
    else:
        spec = dict(DEMO)
        passwords = demo_accounts(Path(args.homes))
    people = {**dict.fromkeys(spec["instructors"], "instructor"),
              **dict.fromkeys(spec.get("teaching_assistants", []), "TA"),
              **dict.fromkeys(spec["students"], "student")}  # fmt: skip
    missing = [user for user in [*people, spec["grader_account"]] if user not in {p.pw_name for p in pwd.getpwall()}]
    if missing:
        print(f"error: no such Unix accounts: {', '.join(missing)} (create them first, e.g. with useradd)",
              file=sys.stderr)  # fmt: skip
        return 2
    grader = pwd.getpwnam(spec["grader_account"])
    roster = Roster(
        instructors=spec["instructors"],
        teaching_assistants=spec.get("teaching_assistants", []),
        students=spec["students"],
        grader_account=spec["grader_account"],
        course_dir=spec.get("course_dir") or str(Path(grader.pw_dir) / COURSE_ID),
        exchange=spec.get("exchange") or args.exchange or str(base / "exchange"),
        state=str(base / "hub"),
        ip=spec.get("ip", "127.0.0.1"),
        port=spec.get("port", args.port),
    )
    prepare_course(roster)
    prepare_exchange(roster)
    hub = Hub(roster, Path(roster.state) / "jupyterhub.log")
    hub.start()
    print(f"\nThe course's JupyterHub is up: {roster.url}/  (log: {hub.log_path})\n")
    if passwords:
        print("Log in as (passwords are new at every start):")
        width = max(map(len, people))
        for user, role in people.items():
            print(f"  {user:<{width}}  {passwords[user]}   {role}")
    else:
        print(f"Log in with your Unix password: {', '.join(f'{user} ({role})' for user, role in people.items())}")
    print(f"\nGraders (instructor, TA): the formgrader is at {roster.url}/services/{COURSE_ID}/formgrader")
    print(f"Students: Nbgrader > Assignment List.  Course folder: {roster.course_dir} ({roster.grader_account})")
    print("Ctrl-C stops the hub.\n", flush=True)
    try:
        hub.process.wait()
        print(f"JupyterHub exited with {hub.process.returncode}; see {hub.log_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the hub...", flush=True)
        return 0 if hub.stop() == 0 else 1
    finally:
        hub.stop()


def demo_accounts(homes: Path) -> dict[str, str]:
    """The demo accounts, made when missing, with private homes under `homes` and new passwords."""
    homes.mkdir(parents=True, exist_ok=True)
    users = DEMO["instructors"] + DEMO["teaching_assistants"] + DEMO["students"] + [DEMO["grader_account"]]
    passwords = {user: secrets.token_urlsafe(9) for user in users}
    for user in users:
        ensure_user(user, homes / user)
    set_passwords(passwords)
    return passwords


if __name__ == "__main__":
    sys.exit(main())
