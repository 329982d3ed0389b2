"""`make hub`: the course's JupyterHub with demo accounts, their logins printed, stopped by Ctrl-C.

Runs ``hub/serve.py`` as ``make hub`` does (with its files, the exchange and the demo
accounts' homes in a scratch folder, on a free port), logs in with a password it printed
(PAM checks it), then presses Ctrl-C: the script must stop the hub and everything it
started, and exit 0.
"""

from __future__ import annotations

import os
import pwd
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import psutil
import pytest

from hub_site import HUB, serve

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="makes Unix accounts and runs a hub: needs root")

START_TIMEOUT = 240  # seconds: setting up the course and starting the hub on a busy machine
STOP_TIMEOUT = 60
LOGIN = re.compile(r"^\s+(\S+)\s+(\S+)\s+(instructor|TA|student)$")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a login answers with a redirect: look at it, do not follow
        return None


def log_in(url: str, user: str, password: str) -> tuple[int, str]:
    """POST the hub's login form as a browser would; its status and where it redirects to."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar),
                                         NoRedirect())  # fmt: skip
    with opener.open(f"{url}/hub/login", timeout=30) as page:
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    try:
        with opener.open(f"{url}/hub/login", data=form, timeout=60) as answer:
            return answer.status, answer.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


@pytest.fixture
def scratch():
    base = Path(tempfile.mkdtemp(prefix="shallow-narrow-hub-demo-"))
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_make_hub_prints_logins_that_work_and_stops_on_ctrl_c(scratch: Path) -> None:
    port = serve.free_port()
    command = [sys.executable, str(HUB / "serve.py"), "--port", str(port), "--state", str(scratch),
               "--homes", str(scratch / "home")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, process.stdout), lines.put(None)], daemon=True).start()
    printed: list[str] = []
    try:
        while not printed or printed[-1].strip() != "Ctrl-C stops the hub.":
            line = lines.get(timeout=START_TIMEOUT)
            assert line is not None, f"make hub ended before the hub was up:\n{''.join(printed)}"
            printed.append(line)
        text = "".join(printed)
        assert f"http://127.0.0.1:{port}/" in text
        logins = {m.group(1): (m.group(2), m.group(3)) for line in printed if (m := LOGIN.match(line.rstrip()))}
        assert {role for _, role in logins.values()} == {"instructor", "TA", "student"}, text
        assert set(logins) == set(serve.DEMO["instructors"] + serve.DEMO["teaching_assistants"]
                                  + serve.DEMO["students"])  # fmt: skip

        student = serve.DEMO["students"][0]
        status, location = log_in(f"http://127.0.0.1:{port}", student, logins[student][0])
        assert status == 302 and "/hub/login" not in location, (status, location)  # PAM took the printed password
        status, location = log_in(f"http://127.0.0.1:{port}", student, logins[student][0] + "x")
        assert status == 403, (status, location)
        demo_uids = {pwd.getpwnam(user).pw_uid for user in logins}
        assert os.stat(scratch / "home" / student).st_mode & 0o777 == 0o700

        process.send_signal(signal.SIGINT)  # Ctrl-C: the terminal signals the script (the hub has its own session)
        assert process.wait(timeout=STOP_TIMEOUT) == 0, "".join(printed) + "".join(iter(lines.get, None))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Nothing the hub started is left: no process of the demo accounts, none of the hub's own.
    leftovers = []
    for p in psutil.process_iter(["uids", "cwd"]):
        if p.info["uids"] and p.info["uids"].real in demo_uids or str(p.info["cwd"] or "").startswith(str(scratch)):
            leftovers.append(p)
    _, alive = psutil.wait_procs(leftovers, timeout=30)
    assert not alive, alive
