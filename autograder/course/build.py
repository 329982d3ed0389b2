"""Generate release/ and notebooks/ from source/, and tell when they are stale.

- ``release/<assignment>/``: the student version, made by stock
  ``nbgrader generate_assignment`` (solutions and hidden tests stripped).
- ``notebooks/<assignment>/``: the published worked solution: the instructor
  notebook with its solution markers and hidden tests removed, executed.

Staleness is judged on cell sources only: outputs (plots, timings) change from
run to run and mean nothing here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
NOTEBOOKS = ROOT / "notebooks"

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def assignments() -> list[str]:
    """Names of the assignments in source/, in course order."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and not p.name.startswith("."))


def nbgrader(*args: str, root: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a stock nbgrader command in a course folder.

    Raises
    ------
    RuntimeError
        With nbgrader's own output, when the command fails.
    """
    command = [sys.executable, "-m", "nbgrader", *args]
    env = dict(env if env is not None else os.environ)
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}")
    return done


def generate_release(assignment: str, root: Path = ROOT, db_url: str | None = None) -> Path:
    """Run ``nbgrader generate_assignment`` into ``root/release``; return that folder."""
    env = dict(os.environ)
    if db_url:
        env["SHALLOW_NARROW_DB_URL"] = db_url
    nbgrader("generate_assignment", assignment, "--force", f"--CourseDirectory.root={root}", root=ROOT, env=env)
    return root / "release" / assignment


def _strip_region(lines: list[str], begin: str, end: str) -> list[str]:
    kept, inside = [], False
    for line in lines:
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    return kept


def worked_solution(source: NotebookNode) -> NotebookNode:
    """The published form of an instructor notebook (not yet executed).

    Solution code stays (without its markers); hidden tests and nbgrader
    metadata go.
    """
    nb = nbformat.from_dict(source)
    for cell in nb.cells:
        lines = _strip_region(cell.source.split("\n"), HIDDEN_BEGIN, HIDDEN_END)
        lines = [line for line in lines if line.strip() not in SOLUTION_MARKERS]
        cell.source = "\n".join(lines).strip("\n")
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def build_notebooks(assignment: str, timeout: int = 300) -> Path:
    """Write and execute the worked solution of `assignment` into notebooks/."""
    from nbclient import NotebookClient

    src_dir = SOURCE / assignment
    out_dir = NOTEBOOKS / assignment
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(src_dir, out_dir, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__", ".ipynb_checkpoints"))
    for path in sorted(src_dir.glob("*.ipynb")):
        nb = worked_solution(nbformat.read(path, as_version=4))
        NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(out_dir)}}).execute()
        nbformat.write(nb, out_dir / path.name)
    shutil.rmtree(out_dir / "__pycache__", ignore_errors=True)
    return out_dir


def build(selected: list[str] | None = None) -> None:
    """Regenerate release/ and notebooks/ for the selected assignments (all by default)."""
    for assignment in selected or assignments():
        print(f"[build] release/{assignment}  (nbgrader generate_assignment)")
        generate_release(assignment)
        print(f"[build] notebooks/{assignment}  (worked solution, executed)")
        build_notebooks(assignment)


def cell_sources(nb: NotebookNode) -> list[tuple[str, str]]:
    """What staleness is judged on: each cell's type and source."""
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def release_cells(nb: NotebookNode) -> list[tuple[str, str, str]]:
    """Staleness of a release also covers nbgrader's metadata (ids, points, checksums)."""
    return [(c.cell_type, c.source, repr(sorted(c.metadata.get("nbgrader", {}).items()))) for c in nb.cells]


def stale_files(assignment: str) -> list[str]:
    """Files of release/ and notebooks/ that do not match a fresh build from source/.

    The release is regenerated in a scratch course folder with its own gradebook,
    so checking never touches the real one.
    """
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        shutil.copytree(SOURCE / assignment, scratch / "source" / assignment)
        fresh = generate_release(assignment, root=scratch, db_url=f"sqlite:///{scratch / 'gradebook.db'}")
        problems += _compare_folder(fresh, RELEASE / assignment, "release", compare_notebook=release_cells)
    for path in sorted((SOURCE / assignment).glob("*.ipynb")):
        expected = cell_sources(worked_solution(nbformat.read(path, as_version=4)))
        published = NOTEBOOKS / assignment / path.name
        if not published.exists() or cell_sources(nbformat.read(published, as_version=4)) != expected:
            problems.append(str(published.relative_to(ROOT)))
    for path in sorted((SOURCE / assignment).glob("*.py")):
        published = NOTEBOOKS / assignment / path.name
        if not published.exists() or published.read_bytes() != path.read_bytes():
            problems.append(str(published.relative_to(ROOT)))
    return problems


def _compare_folder(fresh: Path, committed: Path, label: str, compare_notebook) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    committed_files = (
        {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()} if committed.exists() else set()
    )
    for rel in sorted(fresh_files | committed_files):
        a, b = fresh / rel, committed / rel
        if rel not in committed_files or rel not in fresh_files:
            problems.append(f"{label}/{committed.name}/{rel}")
        elif rel.suffix == ".ipynb":
            if compare_notebook(nbformat.read(a, as_version=4)) != compare_notebook(nbformat.read(b, as_version=4)):
                problems.append(f"{label}/{committed.name}/{rel}")
        elif a.read_bytes() != b.read_bytes():
            problems.append(f"{label}/{committed.name}/{rel}")
    return problems
