"""The hub's exchange keeps students apart: a student who tries, as that Unix user.

The course's hub uses nbgrader's own file-system exchange with the permissions that
``hub/serve.py`` sets and the two plug-ins of ``hub/exchange.py``.  Here the grader
account releases 01_shallow_narrow, Alice and Bob fetch and submit it with nbgrader's
commands (what the Assignment List runs), and Bob then tries everything a student can
try against Alice's work: listing, reading, renaming, deleting and writing her
submission, handing in under her name, planting symbolic links for the grader to follow,
moving the course's folder away, reading her feedback and her home.  Each attempt runs
as Bob's own Unix user.  No hub and no browser: tests/test_hub.py does it end to end.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from hub_site import ALICE, ASSIGNMENT, BOB, GRADER, Site, serve

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="makes Unix accounts: needs root (CI runs as root)")

ALICE_WORK = "alice's own work"
BOB_WORK = "bob's own work"
FORGED = "bob pretending to be alice"


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


@pytest.fixture(scope="module")
def submitted(site: Site) -> dict[str, str]:
    """Released, fetched and handed in by both students; then Bob's tricks. Returns the inbound entries' names."""
    site.nbgrader(GRADER, "release_assignment", ASSIGNMENT)  # the course's release/ is generated and committed
    site.script(ALICE, f"""
nbgrader("fetch_assignment", {ASSIGNMENT!r})
open("{ASSIGNMENT}/answer.txt", "w").write({ALICE_WORK!r})
nbgrader("submit", {ASSIGNMENT!r})
""")  # fmt: skip
    # Bob hands in his own work, then hands in under Alice's name with nbgrader's own option for it, then
    # makes two submissions of his own by hand, later than his real one: a folder with links to the
    # grader's gradebook and instructor notebooks in it, and a link in place of a folder.
    cache = site.home(BOB) / ".local/share/jupyter/nbgrader_cache" / serve.COURSE_ID
    planted, link = f"{BOB}+{ASSIGNMENT}+2099-{{stamp}}+planted", f"{BOB}+{ASSIGNMENT}+2100-{{stamp}}+link"
    site.script(BOB, f"""
import os, shutil
nbgrader("fetch_assignment", {ASSIGNMENT!r})
open("{ASSIGNMENT}/answer.txt", "w").write({BOB_WORK!r})
nbgrader("submit", {ASSIGNMENT!r})
open("{ASSIGNMENT}/answer.txt", "w").write({FORGED!r})
nbgrader("submit", {ASSIGNMENT!r}, "--student={ALICE}")

(mine,) = [e.path for e in os.scandir({str(cache)!r}) if e.name.startswith("{BOB}+{ASSIGNMENT}+")]
stamp = open(mine + "/timestamp.txt").read()[5:]  # after the year
planted = os.path.join({str(site.inbound)!r}, {planted!r}.format(stamp=stamp))
os.mkdir(planted)
for name in os.listdir(mine):
    shutil.copy(os.path.join(mine, name), planted)
open(os.path.join(planted, "timestamp.txt"), "w").write("2099-" + stamp)
os.symlink({str(site.course / "gradebook.db")!r}, os.path.join(planted, "gradebook.db"))
os.symlink({str(site.course / "source")!r}, os.path.join(planted, "source"))
os.symlink({str(site.course / "source" / ASSIGNMENT)!r},
           os.path.join({str(site.inbound)!r}, {link!r}.format(stamp=stamp)))
""")  # fmt: skip
    names = os.listdir(site.inbound)
    alice = [name for name in names if name.startswith(f"{ALICE}+") and os.stat(site.inbound / name).st_uid
             == site.accounts[ALICE].pw_uid]  # fmt: skip
    assert len(alice) == 1, names
    (planted_name,) = [name for name in names if name.endswith("+planted")]
    (link_name,) = [name for name in names if name.endswith("+link")]
    return {"alice": alice[0], "planted": planted_name, "link": link_name}


@pytest.fixture(scope="module")
def collected(site: Site, submitted: dict[str, str]) -> str:
    """The grader account collects (as the formgrader's Collect button does); returns its log."""
    done = site.nbgrader(GRADER, "collect", ASSIGNMENT)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def feedback(site: Site, collected: str) -> dict[str, str]:
    """Feedback released for both students and fetched by each; returns what each fetched."""
    # Stand-in feedback files (tests/test_hub.py makes real ones): what release_feedback needs
    # beside each is the submission's timestamp and secret, as generate_feedback leaves them.
    script = "import shutil\n"
    for student in (ALICE, BOB):
        folder = site.course / "feedback" / student / ASSIGNMENT
        submission = site.course / "submitted" / student / ASSIGNMENT
        script += f"""
import os
os.makedirs({str(folder)!r}, exist_ok=True)
open({str(folder / "shallow_narrow.html")!r}, "w").write("<p>feedback for {student}</p>")
for name in ("timestamp.txt", "submission_secret.txt"):
    shutil.copy({str(submission)!r} + "/" + name, {str(folder)!r})
"""
    site.script(GRADER, script + f"nbgrader('release_feedback', {ASSIGNMENT!r})\n")
    fetched = {}
    for student in (ALICE, BOB):
        site.nbgrader(student, "fetch_feedback", ASSIGNMENT)
        files = sorted((site.home(student) / ASSIGNMENT / "feedback").glob("*/shallow_narrow.html"))
        fetched[student] = "".join(f.read_text() for f in files)
    return fetched


def attempts(site: Site, user: str, tries: dict[str, str]) -> dict[str, str]:
    """Run each Python statement as `user`; what happened: "denied: <error>" or "done: <result>"."""
    code = "import json, os, shutil\nresults = {}\n"
    for name, statement in tries.items():
        code += f"""
try:
    result = {statement}
    results[{name!r}] = "done: " + repr(result)[:200]
except OSError as error:
    results[{name!r}] = "denied: " + type(error).__name__
"""
    code += "print(json.dumps(results))"
    done = site.python(user, code, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- tests


def test_nothing_is_world_writable_but_what_a_submit_needs(site: Site, submitted: dict[str, str]) -> None:
    course = site.exchange / serve.COURSE_ID
    writable = {}
    for dirpath, dirnames, filenames in os.walk(site.exchange):
        for name in [*dirnames, *filenames, ""]:
            path = Path(dirpath) / name
            info = os.lstat(path)
            if info.st_mode & stat.S_IWOTH and not stat.S_ISLNK(info.st_mode):
                writable[path] = stat.S_IMODE(info.st_mode)
    # The root (stock nbgrader insists) and inbound (the submit), both sticky; inbound cannot be listed.
    found = {str(path): oct(mode) for path, mode in writable.items()}
    assert writable == {site.exchange: 0o1777, course / "inbound": 0o3733}, found
    alice = site.inbound / submitted["alice"]
    assert stat.S_IMODE(os.stat(alice).st_mode) == 0o770  # stock: 0777
    assert os.stat(alice).st_gid == site.accounts[GRADER].pw_gid  # the grader's group, from inbound's set-gid
    assert {stat.S_IMODE(p.stat().st_mode) for p in alice.iterdir()} == {0o640}
    assert stat.S_IMODE(os.stat(site.home(ALICE)).st_mode) == 0o700


def test_bob_can_neither_list_read_nor_change_alices_submission(site: Site, submitted: dict[str, str]) -> None:
    alice = site.inbound / submitted["alice"]
    notebook = alice / "shallow_narrow.ipynb"
    results = attempts(site, BOB, {
        "list inbound": f"os.listdir({str(site.inbound)!r})",
        "list her folder (its name known)": f"os.listdir({str(alice)!r})",
        "read her notebook": f"open({str(notebook)!r}).read()",
        "read her secret": f"open({str(alice / 'submission_secret.txt')!r}).read()",
        "overwrite her notebook": f"open({str(notebook)!r}, 'w').write('{{}}')",
        "add a file": f"open({str(alice / 'extra.txt')!r}, 'w').write('x')",
        "rename her folder": f"os.rename({str(alice)!r}, {str(site.inbound / (submitted['alice'] + 'x'))!r})",
        "delete her folder": f"shutil.rmtree({str(alice)!r})",
        "move the course away": f"os.rename({str(site.exchange / serve.COURSE_ID)!r}, "
                                f"{str(site.exchange / 'elsewhere')!r})",
        "release into outbound": f"os.mkdir({str(site.exchange / serve.COURSE_ID / 'outbound' / 'fake')!r})",
        "read her home": f"os.listdir({str(site.home(ALICE))!r})",
        "read the course folder": f"os.listdir({str(site.course)!r})",
    })  # fmt: skip
    assert {name: outcome.split(":")[0] for name, outcome in results.items()} == dict.fromkeys(results, "denied"), (
        results
    )
    assert (alice / "answer.txt").read_text() == ALICE_WORK  # untouched

    # nbgrader's own commands show Bob nothing of Alice's either.
    listing = site.nbgrader(BOB, "list", "--inbound", check=False)
    assert ALICE not in listing.stdout + listing.stderr


def test_a_submission_under_alices_name_is_refused(site: Site, submitted: dict[str, str], collected: str) -> None:
    # Stock collect takes the newest folder per name and only warns that its owner differs.
    assert (site.course / "submitted" / ALICE / ASSIGNMENT / "answer.txt").read_text() == ALICE_WORK
    refused = [name for name in os.listdir(site.inbound) if name.startswith(f".refused+{ALICE}+")]
    assert len(refused) == 1, refused
    assert (site.inbound / refused[0] / "answer.txt").read_text() == FORGED  # kept for the instructor to see
    assert "Refused" in collected and "not a folder owned by the user" in collected


def test_collect_follows_no_link(site: Site, submitted: dict[str, str], collected: str) -> None:
    bob = site.course / "submitted" / BOB / ASSIGNMENT
    # Bob's newest entry, a link to the instructor's notebook folder, is set aside; his hand-made folder
    # (the newest genuine one) is collected without the links planted in it.
    assert f".refused+{submitted['link']}" in os.listdir(site.inbound)
    assert (bob / "timestamp.txt").read_text().startswith("2099")
    assert (bob / "answer.txt").read_text() == BOB_WORK
    assert not (bob / "gradebook.db").exists() and not (bob / "source").exists()
    assert not any(p.is_symlink() for p in bob.rglob("*"))
    instructor_notebook = (site.course / "source" / ASSIGNMENT / "shallow_narrow.ipynb").read_text()
    assert all(p.read_text(errors="replace") != instructor_notebook for p in bob.glob("*.ipynb"))
    assert "Left out" in collected


def test_feedback_reaches_its_own_student_only(site: Site, feedback: dict[str, str]) -> None:
    assert feedback == {ALICE: f"<p>feedback for {ALICE}</p>", BOB: f"<p>feedback for {BOB}</p>"}
    released = site.exchange / serve.COURSE_ID / "feedback"
    results = attempts(site, BOB, {
        "list released feedback": f"os.listdir({str(released)!r})",
        "read Alice's nbgrader cache": f"os.listdir({str(site.home(ALICE) / '.local')!r})",
        "read the course's feedback": f"os.listdir({str(site.course / 'feedback')!r})",
    })  # fmt: skip
    assert {name: outcome.split(":")[0] for name, outcome in results.items()} == dict.fromkeys(results, "denied"), (
        results
    )
    # Asking nbgrader for Alice's feedback gets Bob his own (it looks in his own cache).
    site.nbgrader(BOB, "fetch_feedback", ASSIGNMENT, f"--student={ALICE}", check=False)
    fetched = "".join(p.read_text() for p in (site.home(BOB) / ASSIGNMENT / "feedback").glob("*/*.html"))
    assert ALICE not in fetched
