"""JupyterHub for the shallow-narrow course: one course, several graders (nbgrader's documented layout).

- **Who logs in:** local Unix users, with their own passwords (PAM).  Only the users of the
  roster may log in; nobody is a hub admin (an admin could open any student's server).
- **Students, instructors, teaching assistants** each get their own JupyterLab, running as
  their own Unix user, with nbgrader's Assignment List (fetch, submit, fetch feedback).
- **The course's formgrader** runs once, as the course's grader account, as a hub service
  named like the course (``/services/shallow-narrow/``): instructors and teaching
  assistants (the group ``formgrade-shallow-narrow``) open it with their own login;
  students are refused.  It grades with the course's ``nbgrader_config.py`` (the secure
  grader: bubblewrap, rootless, as the grader account).
- **The exchange** is nbgrader's own, on the file system, closed between students
  (``hub/exchange.py`` says how).

Every setting comes from the roster, a JSON file named by ``SN_HUB_SETTINGS``, which
``hub/serve.py`` writes (``make hub``; the tests write their own); its keys are listed in
``serve.Roster``.  Run as root (PAM and starting servers as other users need it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HUB = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent  # the course's environment: the hub runs from it
CONFIG_DIRS = HUB / "jupyter"

settings = json.loads(Path(os.environ["SN_HUB_SETTINGS"]).read_text())
course = settings["course_id"]
state = Path(settings["state"])
members = settings["instructors"] + settings["teaching_assistants"]
students = settings["students"]

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

# --- where it listens: the public port, and the hub's and the proxy's own ports (loopback only)
c.JupyterHub.ip = settings["ip"]
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
# configurable-http-proxy from the npm registry, pinned by hub/package-lock.json (`make setup`: npm ci)
c.ConfigurableHTTPProxy.command = [str(HUB / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every server it started
c.JupyterHub.cleanup_proxy = True

# --- who may log in: local users, their Unix passwords
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login session per server (no systemd-logind here)
c.Authenticator.allowed_users = set(members + students)
c.Authenticator.admin_users = set()

# --- the groups nbgrader's JupyterHub integration expects: graders, and students of the course
c.JupyterHub.load_groups = {
    f"formgrade-{course}": {"users": members},
    f"nbgrader-{course}": {"users": students},
}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{course}",
        "description": "Open the course's formgrader",
        "groups": [f"formgrade-{course}"],
        "scopes": [f"access:services!service={course}", f"read:services!service={course}", "list:services"],
    },
]

# --- everyone's own JupyterLab, as their own user
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # seconds: a busy machine starts JupyterLab slowly
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    # Assignment List and Validate only (no formgrader, no Create Assignment), and the exchange.
    "JUPYTER_CONFIG_PATH": os.pathsep.join([str(CONFIG_DIRS / "users"), str(CONFIG_DIRS / "common")]),
    "SHALLOW_NARROW_EXCHANGE": settings["exchange"],
}


def private_home(spawner) -> None:
    """Make the user's home folder theirs alone before their server starts.

    Debian's ``useradd`` makes homes ``0755`` (``HOME_MODE`` unset in /etc/login.defs):
    every student could then read every other student's notebooks, and the submission
    secrets in their nbgrader cache (the names of their feedback files derive from them).
    """
    import pwd

    home = pwd.getpwnam(spawner.user.name).pw_dir
    mode = os.stat(home).st_mode & 0o777
    if mode & 0o077:
        spawner.log.warning("Home %s of %s was mode %o: made 0700", home, spawner.user.name, mode)
        os.chmod(home, 0o700)


c.Spawner.pre_spawn_hook = private_home

# --- the course's formgrader: a shared JupyterLab of the grader account, as a hub service
c.JupyterHub.services = [
    {
        "name": course,  # nbgrader: the service is named like the course
        "url": f"http://127.0.0.1:{settings['service_port']}",
        "command": [str(VENV_BIN / "jupyterhub-singleuser")],
        "user": settings["grader_account"],
        "cwd": settings["course_dir"],  # the course folder: its nbgrader_config.py is the course's
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            # Formgrader and Create Assignment only, and the exchange.
            "JUPYTER_CONFIG_PATH": os.pathsep.join([str(CONFIG_DIRS / "grader"), str(CONFIG_DIRS / "common")]),
            "SHALLOW_NARROW_EXCHANGE": settings["exchange"],
        },
        "oauth_no_confirm": True,  # the hub's own service: no "authorize access?" page for graders
    },
]
