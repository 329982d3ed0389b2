"""JupyterLab settings of every server on the course's hub (read from ``JUPYTER_CONFIG_PATH``).

No news or update checks (the hub's users are not asked whether they want Jupyter's
news, and no server calls out): the defaults in ``lab-settings/overrides.json``, which
each user may still change in their own settings.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when the server loads this file

c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "lab-settings")
