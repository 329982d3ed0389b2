"""Generate release/ and notebooks/ from source/, and tell when they are stale.

- ``release/<assignment>/``: the student version, made by stock
  ``nbgrader generate_assignment`` (solutions and hidden tests stripped).
- ``notebooks/<assignment>/``: the published worked solution: the instructor
  notebook with its solution markers and hidden tests removed, executed.
- ``source/<assignment>/course_helpers.py``: a copy of ``source/course_helpers.py``,
  the student helpers the assignments share, in each assignment folder whose modules
  import it.  A notebook, and the grader's sandbox, sees its own folder only, so the
  folder carries the copy, and nbgrader releases it with the rest of the folder.
- ``source/<assignment>/variant.json``: for an assignment with per-student values, their
  ranges and whether the course turns them on (``c.CourseOptions.variants``), read by the
  notebook (:mod:`autograder.core.variants`).  The worked solution's copy says "off": it
  keeps the seed's values wherever it is opened.

Staleness is judged on cell sources only: outputs (plots, timings) change from
run to run and mean nothing here.  Every other generated file must match byte for byte.
"""

from __future__ import annotations

import ast
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

SHARED = SOURCE / "course_helpers.py"
"""The student helpers the assignments share: written once, copied into each assignment folder that imports it.

A file, not a folder, so that neither :func:`assignments` nor nbgrader takes it for an assignment.
"""
GENERATED = f"# generated from source/{SHARED.name}: edit that file, then run make build\n"
"""The first line of every copy of :data:`SHARED`."""

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def assignments() -> list[str]:
    """Names of the assignments in source/, in course order."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and not p.name.startswith("."))


def shared_copy() -> bytes:
    """What every copy of :data:`SHARED` holds: the line :data:`GENERATED`, then the file."""
    return GENERATED.encode() + SHARED.read_bytes()


def _is_copy(path: Path) -> bool:
    """Whether `path` is a generated copy of :data:`SHARED` (so `build` may replace or remove it)."""
    try:
        with path.open("rb") as f:
            return f.readline() == GENERATED.encode()
    except OSError:  # missing
        return False


def needs_shared(folder: Path) -> bool:
    """Whether a module of `folder` (an assignment folder of source/) imports :data:`SHARED`."""

    def imports_it(path: Path) -> bool:
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import) and any(a.name == SHARED.stem for a in node.names):
                return True
            if isinstance(node, ast.ImportFrom) and node.module == SHARED.stem and not node.level:
                return True
        return False

    return any(imports_it(path) for path in sorted(folder.glob("*.py")) if path.name != SHARED.name)


def sync_shared(folder: Path) -> None:
    """Copy :data:`SHARED` into `folder` if one of its modules imports it; else remove a copy left from before."""
    copy = folder / SHARED.name
    if needs_shared(folder):
        copy.write_bytes(shared_copy())
    elif _is_copy(copy):
        copy.unlink()


def stale_shared_copies(assignment: str) -> list[str]:
    """The copies of :data:`SHARED` in source/, release/ and notebooks/ of `assignment` that a build would change.

    A copy that differs from :data:`SHARED` or is missing, where the assignment imports it;
    a generated copy left over, where it does not.  Cheap (no nbgrader run), unlike
    :func:`stale_files`, which reports these among the rest.
    """
    copies = [folder / assignment / SHARED.name for folder in (SOURCE, RELEASE, NOTEBOOKS)]
    if needs_shared(SOURCE / assignment):
        expected = shared_copy()
        stale = [copy for copy in copies if not copy.is_file() or copy.read_bytes() != expected]
    else:
        stale = [copy for copy in copies if _is_copy(copy)]
    return [str(copy.relative_to(ROOT)) for copy in stale]


def variant_spec(assignment: str, on: bool | None = None) -> str | None:
    """The text of `assignment`'s :data:`~autograder.core.variants.SPEC_FILE`, or None when it has no variants.

    `on`: whether variants are on (default: as the course's ``nbgrader_config.py`` says).
    """
    from ..core import checks, variants
    from .options import course_options

    owner = checks.assignment_named(assignment)
    if owner is None or owner.variant is None:
        return None
    if on is None:
        on = assignment in course_options(ROOT).variants
    return variants.spec(owner.variant, assignment, on)


def sync_variant(folder: Path, assignment: str, on: bool | None = None) -> None:
    """Write (or remove) the variant spec of `assignment` in `folder`."""
    from ..core.variants import SPEC_FILE

    text = variant_spec(assignment, on)
    path = folder / SPEC_FILE
    if text is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(text)


def stale_variant_spec(assignment: str) -> list[str]:
    """The variant spec in source/<assignment>/ when it is not what a build would write."""
    from ..core.variants import SPEC_FILE

    path = SOURCE / assignment / SPEC_FILE
    text = variant_spec(assignment)
    current = path.read_text() if path.is_file() else None
    return [] if current == text else [str(path.relative_to(ROOT))]


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
    sync_variant(out_dir, assignment, on=False)  # the worked solution keeps the seed's values
    for path in sorted(src_dir.glob("*.ipynb")):
        nb = worked_solution(nbformat.read(path, as_version=4))
        NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(out_dir)}}).execute()
        nbformat.write(nb, out_dir / path.name)
    shutil.rmtree(out_dir / "__pycache__", ignore_errors=True)
    return out_dir


def build(selected: list[str] | None = None) -> None:
    """Regenerate release/ and notebooks/ for the selected assignments (all by default)."""
    for assignment in selected or assignments():
        # First: nbgrader releases, and the worked solution runs with, the files of source/<assignment>/.
        if needs_shared(SOURCE / assignment):
            print(f"[build] source/{assignment}/{SHARED.name}  (copy of source/{SHARED.name})")
        sync_shared(SOURCE / assignment)
        sync_variant(SOURCE / assignment, assignment)
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
    """Generated files of `assignment` that do not match a fresh build from source/.

    That is the copy of :data:`SHARED` in source/<assignment>/, and release/ and notebooks/.
    The release is regenerated in a scratch course folder with its own gradebook,
    so checking never touches the real one.
    """
    from ..core.variants import SPEC_FILE

    problems = stale_shared_copies(assignment) + stale_variant_spec(assignment)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        fresh_source = scratch / "source" / assignment
        shutil.copytree(SOURCE / assignment, fresh_source)
        sync_shared(fresh_source)  # as `build` would: a stale copy in source/ is not the reference
        sync_variant(fresh_source, assignment)
        fresh = generate_release(assignment, root=scratch, db_url=f"sqlite:///{scratch / 'gradebook.db'}")
        problems += _compare_folder(fresh, RELEASE / assignment, "release", compare_notebook=release_cells)
        for path in sorted(fresh_source.glob("*.py")):
            published = NOTEBOOKS / assignment / path.name
            if not published.exists() or published.read_bytes() != path.read_bytes():
                problems.append(str(published.relative_to(ROOT)))
        off = variant_spec(assignment, on=False)
        if off is not None:
            published = NOTEBOOKS / assignment / SPEC_FILE
            if not published.is_file() or published.read_text() != off:
                problems.append(str(published.relative_to(ROOT)))
    for path in sorted((SOURCE / assignment).glob("*.ipynb")):
        expected = cell_sources(worked_solution(nbformat.read(path, as_version=4)))
        published = NOTEBOOKS / assignment / path.name
        if not published.exists() or cell_sources(nbformat.read(published, as_version=4)) != expected:
            problems.append(str(published.relative_to(ROOT)))
    return list(dict.fromkeys(problems))  # a stale shared copy is found twice: name it once


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
