"""Grade a whole class in parallel, through the same secure path as ``nbgrader autograde``.

Stock nbgrader grades one notebook after another (jupyter/nbgrader #174).  The
expensive part of grading is running the student's notebook; everything else
is bookkeeping.  So the work is split in three:

1. **prepare** (this process): nbgrader's own sanitizing preprocessors
   (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
   CheckCellMetadata) make the notebook that would be executed, reading the
   gradebook;
2. **execute** (worker processes, or a Dask cluster): :class:`SecureExecute`
   runs it in a sandboxed kernel; a job carries its files, so a remote worker
   needs no shared disk and no gradebook;
3. **record** (this process, one submission at a time): stock nbgrader's
   ``Autograde`` converter runs as ``nbgrader autograde`` would, except that
   :class:`ReplaySanitize` and :class:`ReplayExecute` hand it the notebooks of
   steps 1 and 2 instead of sanitizing and running it again.  Scores, comments
   and autograded notebooks are written by nbgrader itself, and only this
   process writes the gradebook, so SQLite never sees two writers; its
   Gradebooks share one database engine (:mod:`autograder.gradebook`).

A submission already graded and unchanged is skipped unless ``force``; the
state file is written after each recorded submission, so an interrupted run
resumes where it stopped.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import json
import os
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .build import ROOT
from .gradebook import shared_engines

STATE_FILE = ".autograder-state.json"


@dataclass
class Job:
    """One notebook to execute: everything a worker needs, no paths into the course."""

    student: str
    assignment: str
    notebook: str
    sanitized: bytes  # the notebook, pickled: the worker's own copy, cheaper than JSON both ways
    files: dict[str, bytes]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What came back from a worker: the executed notebook, or why there is none."""

    student: str
    notebook: str
    executed: NotebookNode | None
    seconds: float
    error: str | None = None


# -- configuration -------------------------------------------------------------------------------


def course_config(root: Path = ROOT) -> Config:
    """The course's nbgrader configuration (``nbgrader_config.py``), as nbgrader loads it."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def _execute_settings(config: Config) -> dict[str, Any]:
    """The SecureExecute settings a worker needs (plain data: it may run on another machine)."""
    settings: dict[str, Any] = {}
    for section in ("Execute", "SecureExecute"):
        if section in config:
            settings.update({k: v for k, v in config[section].items() if isinstance(v, (int, float, str, bool))})
    return settings


# -- step 1: prepare -------------------------------------------------------------------------------


def sanitize_steps(config: Config) -> list[type]:
    """The course's sanitizing preprocessors (it repairs edited metadata first), else nbgrader's."""
    from nbgrader.converters import Autograde

    steps = config.Autograde.get("sanitize_preprocessors")
    return list(steps or Autograde.class_traits()["sanitize_preprocessors"].make_dynamic_default())


def sanitize(path: Path, student: str, assignment: str, db_url: str, config: Config) -> NotebookNode:
    """Apply nbgrader's sanitizing preprocessors to a submitted notebook, in memory.

    The result is also kept for :class:`ReplaySanitize`, so recording does not sanitize again.
    """
    nb = nbformat.read(path, as_version=4)
    submitted = [cell.source for cell in nb.cells]
    notebook = path.stem
    resources: dict[str, Any] = {
        "unique_key": notebook,
        "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook, "db_url": db_url},
    }
    for preprocessor in sanitize_steps(config):
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    ReplaySanitize.sanitized[(student, assignment, notebook)] = (submitted, nb)
    return nb


def _job_files(submission: Path, source: Path) -> dict[str, bytes]:
    """The non-notebook files the kernel sees: the student's, overwritten by the source's (as nbgrader does).

    Symlinks are left out, wherever they point.
    """
    files: dict[str, bytes] = {}
    for folder in (submission, source):
        for path in sorted(folder.rglob("*")):
            # A handed-in symlink could point at the instructor's files: never follow one.
            if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb":
                continue
            if "__pycache__" in path.parts or ".ipynb_checkpoints" in path.parts:
                continue
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def _folder_digest(folder: Path) -> str:
    """A hash of every file in `folder` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(submission: Path, source_digest: str) -> str:
    """Changes when the submission or the assignment's source changes: then it is graded again.

    `source_digest` is :func:`_folder_digest` of the source folder, computed once per run.
    """
    return hashlib.sha256(f"{_folder_digest(submission)}\0{source_digest}".encode()).hexdigest()


# -- step 2: execute (in a worker) ---------------------------------------------------------------


def execute_job(job: Job) -> Outcome:
    """Run one notebook through :class:`SecureExecute` in a scratch folder (runs in a worker)."""
    from .preprocessors import SecureExecute

    start = time.perf_counter()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # what `nbgrader autograde` tells the kernel
    try:
        nb = pickle.loads(job.sanitized)
        with tempfile.TemporaryDirectory(prefix="autograder-job-") as tmp:
            for rel, data in job.files.items():
                target = Path(tmp) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            config = Config({"SecureExecute": dict(job.settings)})
            fast = _forked_kernels()
            if fast is not None:
                config.SecureExecute.kernel_manager_class = fast
                # A forked kernel is disposable: kill its namespace, don't wait for a goodbye.
                config.SecureExecute.shutdown_kernel = "immediate"
            resources = {
                "metadata": {"path": tmp},
                "nbgrader": {"student": job.student, "assignment": job.assignment, "notebook": job.notebook},
            }
            nb, _ = SecureExecute(config=config).preprocess(nb, resources)
        return Outcome(job.student, job.notebook, nb, time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - reported per submission; the others go on
        return Outcome(job.student, job.notebook, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")


def _forked_kernels() -> type | None:
    """The forked-kernel manager when this worker can use it, else None (plain sandbox).

    The zygote needs bubblewrap and root; a worker that cannot start one grades
    with the plain sandbox, which is slower, not less safe.
    """
    global _FORK_STATE
    if _FORK_STATE is None:
        try:
            from .forkserver import ForkedKernelManager, ForkServer

            ForkServer.shared()
            _FORK_STATE = ForkedKernelManager
        except Exception as exc:  # noqa: BLE001 - any reason means: use the plain sandbox
            import logging

            logging.getLogger("autograder.parallel").warning("forked kernels unavailable (%s): plain sandbox", exc)
            _FORK_STATE = False
    return _FORK_STATE or None


_FORK_STATE: type | bool | None = None


# -- step 3: record ----------------------------------------------------------------------------------


class ReplaySanitize(NbGraderPreprocessor):
    """Stands for the sanitizing steps in the recording pass, with the notebook :func:`sanitize` made.

    Those steps ran moments before, in this process, with the same configuration
    and gradebook; running them again would only cost time.  If the submitted
    notebook changed in between, they run again here.
    """

    sanitized: dict[tuple[str, str, str], tuple[list[str], NotebookNode]] = {}
    steps: list[type] = []  # the course's sanitizing steps, for that case

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        submitted, done = self.sanitized.pop((info["student"], info["assignment"], info["notebook"]), (None, None))
        if done is not None and submitted == [cell.source for cell in nb.cells]:
            return done, resources
        for step in self.steps:
            nb, resources = step(parent=self).preprocess(nb, resources)
        return nb, resources


class ReplayExecute(NbGraderPreprocessor):
    """Stands where SecureExecute stands in the autograde pipeline, with the cells a worker executed.

    If the notebook to grade differs from the one the worker ran (it should not:
    both come from the same sanitizing steps), it is executed here instead.
    """

    executed: dict[tuple[str, str, str], NotebookNode] = {}

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        done = self.executed.pop((info["student"], info["assignment"], info["notebook"]), None)
        if done is None or [c.source for c in done.cells] != [c.source for c in nb.cells]:
            from .preprocessors import SecureExecute

            return SecureExecute(parent=self).preprocess(nb, resources)
        for cell, ran in zip(nb.cells, done.cells):
            if cell.cell_type == "code":
                cell.outputs = ran.outputs
                cell.execution_count = ran.execution_count
        for key in ("language_info", "widgets"):
            if key in done.metadata:
                nb.metadata[key] = done.metadata[key]
        return nb, resources


def _recording_api(config: Config) -> Any:
    from nbgrader.apps.api import NbGraderAPI

    from .preprocessors import SecureExecute

    config = copy.deepcopy(config)  # the caller's config keeps sanitizing for real
    ReplaySanitize.steps = sanitize_steps(config)
    config.Autograde.sanitize_preprocessors = [ReplaySanitize]
    steps = list(config.Autograde.autograde_preprocessors)
    config.Autograde.autograde_preprocessors = [ReplayExecute if s is SecureExecute else s for s in steps]
    return NbGraderAPI(config=config)


# -- the whole run ------------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a grading run did, per student: the lines printed at its end."""

    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def text(self, elapsed: float) -> str:
        """The summary: counts, the three slowest submissions, and why each failure failed."""
        slowest = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:3]
        lines = [
            f"graded {len(self.graded)}, failed {len(self.failed)}, skipped {len(self.skipped)} (unchanged) "
            f"in {elapsed:.1f} s",
        ]
        if slowest:
            lines.append("slowest: " + ", ".join(f"{s} {t:.1f} s" for s, t in slowest))
        lines += [f"FAILED {student}: {why}" for student, why in self.failed.items()]
        return "\n".join(lines)


def _progress(done: int, total: int, started: float, summary: Summary) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.perf_counter() - started, 1e-9)
    left = (total - done) / rate if rate > 0 and done else float("nan")
    eta = "--:--" if left != left else f"{int(left) // 60}:{int(left) % 60:02d}"
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r[{bar}] {done}/{total} graded, {len(summary.failed)} failed, ETA {eta} ")
    sys.stderr.flush()


def _executor(workers: int, scheduler: str | None) -> tuple[Any, Any]:
    """A concurrent.futures-style executor: worker processes here, or a Dask cluster."""
    if scheduler:
        from dask.distributed import Client

        client = Client(scheduler)
        return client.get_executor(pure=False), client
    import multiprocessing

    # forkserver: workers start from a clean process, not a copy of this one with its threads;
    # that process imports what every worker needs once, and each worker is a fork of it.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["autograder.preprocessors", "autograder.judge_depth", "autograder.judge_landscape"])
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=context), None


def grade(
    assignment: str,
    root: Path = ROOT,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    students: Iterable[str] | None = None,
    progress: bool = True,
) -> Summary:
    """Grade every submission of `assignment` under ``root/submitted``.

    Parameters
    ----------
    assignment : str
        The assignment id.
    root : Path
        The course folder (with nbgrader_config.py).
    workers : int, optional
        Worker processes on this machine (default: one per core).
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask scheduler to send the execution to instead.
    force : bool
        Grade again what was already graded and is unchanged.
    students : iterable of str, optional
        Only these students.
    progress : bool
        Draw a progress bar on stderr.
    """
    config = course_config(root)
    db_url = os.environ.get("SHALLOW_NARROW_DB_URL") or str(config.CourseDirectory.db_url)
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.root = str(root)
    submitted, source = root / "submitted", root / "source" / assignment
    state_path = root / "autograded" / STATE_FILE
    state: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}
    wanted = set(students) if students is not None else None
    summary = Summary()
    todo: list[tuple[str, Path, str]] = []
    source_digest = _folder_digest(source)  # once, not once per student
    for folder in sorted(submitted.glob(f"*/{assignment}")):
        student = folder.parent.name
        if wanted is not None and student not in wanted:
            continue
        mark = fingerprint(folder, source_digest)
        if not force and state.get(f"{assignment}/{student}") == mark:
            summary.skipped.append(student)
        else:
            todo.append((student, folder, mark))

    settings = _execute_settings(config)
    notebooks = {student: sorted(folder.glob("*.ipynb")) for student, folder, _ in todo}
    pending = {student: len(paths) for student, paths in notebooks.items()}
    marks = {student: mark for student, _, mark in todo}

    def jobs() -> Iterator[Job]:
        # Made one at a time, as workers free up: memory stays flat however large the class.
        for student, folder, _ in todo:
            for path in notebooks[student]:
                try:
                    nb = sanitize(path, student, assignment, db_url, config)
                except Exception as exc:  # noqa: BLE001 - a corrupt notebook fails alone
                    summary.failed[student] = f"could not read {path.name}: {type(exc).__name__}: {exc}"
                    pending[student] -= 1
                    continue
                yield Job(student, assignment, path.stem, pickle.dumps(nb), _job_files(folder, source), settings)

    api = _recording_api(config)
    started = time.perf_counter()
    count = workers or os.cpu_count() or 1
    executor, client = _executor(count, scheduler)
    try:
        with shared_engines():  # one database engine for every Gradebook nbgrader opens
            for outcome in _completed(executor, jobs(), window=2 * count):
                student = outcome.student
                summary.seconds[student] = summary.seconds.get(student, 0.0) + outcome.seconds
                if outcome.executed is None:
                    summary.failed[student] = outcome.error or "execution failed"
                else:
                    ReplayExecute.executed[(student, assignment, outcome.notebook)] = outcome.executed
                pending[student] -= 1
                if pending[student] == 0 and student not in summary.failed:
                    _record(api, assignment, student, summary)
                    if student in summary.graded:
                        state[f"{assignment}/{student}"] = marks[student]
                        _write_state(state_path, state)
                if pending[student] == 0:
                    _forget(student, assignment)
                if progress:
                    _progress(len(summary.graded) + len(summary.failed), len(todo), started, summary)
    finally:
        # Whatever stopped the run, nothing kept for recording outlives it.
        ReplaySanitize.sanitized.clear()
        ReplayExecute.executed.clear()
        executor.shutdown(wait=True)
        if client is not None:
            client.close()
    for student, left in pending.items():  # every notebook unreadable: nothing ran
        if left == 0 and student not in summary.graded and student not in summary.failed:
            summary.failed[student] = "no notebook to grade"
    if progress:
        sys.stderr.write("\n")
    return summary


def _forget(student: str, assignment: str) -> None:
    """Drop what was kept for recording a student who is done (recorded or failed)."""
    for kept in (ReplaySanitize.sanitized, ReplayExecute.executed):
        for key in [k for k in kept if k[0] == student and k[1] == assignment]:
            del kept[key]


def _record(api: Any, assignment: str, student: str, summary: Summary) -> None:
    """Write one student's results through stock nbgrader (the only gradebook writer)."""
    result = api.autograde(assignment, student, force=True, create=True)
    if result.get("success"):
        summary.graded.append(student)
    else:
        summary.failed[student] = (result.get("error") or result.get("log") or "autograde failed")[-500:]


def _completed(executor: Any, jobs: Iterator[Job], window: int) -> Iterator[Outcome]:
    """Outcomes as they finish, with at most `window` jobs submitted at a time."""
    in_flight: set[cf.Future[Outcome]] = set()
    for job in jobs:
        in_flight.add(executor.submit(execute_job, job))
        if len(in_flight) >= window:
            done, in_flight = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for future in done:
                yield future.result()
    for future in cf.as_completed(in_flight):
        yield future.result()


def _write_state(path: Path, state: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: an interrupted run never leaves half a state file
