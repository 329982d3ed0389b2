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
   Gradebooks share one database engine (:mod:`autograder.batch.gradebook`).

A submission already graded and unchanged is skipped unless ``force``; the
state file is written after each recorded submission, so an interrupted run
resumes where it stopped.

Every submission gets feedback, as with ``nbgrader autograde``
(:mod:`autograder.nbgrader_plugins.intake`): one whose notebook has a single
meaning (a byte-order mark, handed in under another name, lost cell metadata) is
repaired in memory and graded, and its feedback says what was repaired; one that
cannot be graded gets a feedback page saying why and what to do, no score, and a
line in the summary.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import json
import logging
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator

from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..course.build import ROOT
from ..course.options import CourseOptions
from ..nbgrader_plugins.cells import UNPROTECTED_KEY, mark_unprotected
from ..nbgrader_plugins.intake import INTAKE_KEY, Plan, Ungradable, choose_notebooks, plan_folder, prepare_notebook
from ..upstream import default_steps, pool_processes
from .gradebook import shared_engines

STATE_FILE = ".autograder-state.json"

_QUIET = logging.getLogger(__name__)
_QUIET.addHandler(logging.NullHandler())  # what a submission's intake logs: the run's summary says it


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
    # True when the grader, not the submission, failed (a worker died, a disk filled up): such a
    # submission is not recorded, so a later run tries it again instead of scoring it 0.
    infrastructure: bool = False
    # True when what was handed in cannot be graded (cut off, several candidates, no notebook...): the
    # student's feedback says why (`error` too), and the submission gets no score.
    ungradable: bool = False


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
    return list(steps or default_steps(Autograde, "sanitize_preprocessors"))


def sanitize(
    nb: NotebookNode, student: str, assignment: str, notebook: str, db_url: str, config: Config,
    intake: dict[str, Any] | None = None,
) -> tuple[NotebookNode, dict[str, Any]]:
    """Apply nbgrader's sanitizing preprocessors to a submitted notebook, in memory.

    `nb` is the notebook as :func:`~autograder.nbgrader_plugins.intake.prepare_notebook`
    read it (as the recording pass's exporter reads it too), `intake` what was
    repaired on the way.  The result is also kept for :class:`ReplaySanitize`, so
    recording does not sanitize again.  Raises
    :class:`~autograder.nbgrader_plugins.intake.Ungradable` (already reported) for a
    notebook that is not this one.

    Returns
    -------
    NotebookNode, dict
        The sanitized notebook, and nbgrader's resources after the steps.
    """
    submitted = [cell.source for cell in nb.cells]
    resources: dict[str, Any] = {
        "unique_key": notebook,
        "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook, "db_url": db_url},
        INTAKE_KEY: intake or {"repairs": [], "extra": []},
    }
    for preprocessor in sanitize_steps(config):
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    ReplaySanitize.sanitized[(student, assignment, notebook)] = (submitted, nb)
    return nb, resources


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
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and not p.name.endswith(".pyc")):  # fmt: skip
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


JUDGING_PACKAGES = ("nbgrader", "nbclient", "jupyter_client", "ipykernel", "numpy", "nbformat")
"""Libraries whose version can change a verdict or a recorded score: part of the grader's fingerprint."""


def grader_digest(root: Path = ROOT) -> str:
    """A hash of the grader itself: the autograder package, the course configuration, the judging libraries.

    Part of every submission's fingerprint, so that after a fix to a judge (or an
    upgrade of what judging depends on) the next run grades everyone again.
    """
    from importlib.metadata import PackageNotFoundError, version

    package = Path(__file__).resolve().parents[1]  # all of autograder/, not only this folder
    digest = hashlib.sha256(_folder_digest(package).encode())
    config = root / "nbgrader_config.py"
    digest.update(config.read_bytes() if config.exists() else b"")
    digest.update(sys.version.encode())
    for name in JUDGING_PACKAGES:
        try:
            digest.update(f"{name}=={version(name)}".encode())
        except PackageNotFoundError:
            digest.update(f"{name} missing".encode())
    return digest.hexdigest()


def fingerprint(submission: Path, source_digest: str) -> str:
    """Changes when the submission, the assignment's source or the grader changes: then it is graded again.

    `source_digest` is :func:`_folder_digest` of the source folder and
    :func:`grader_digest`, computed once per run.
    """
    return hashlib.sha256(f"{_folder_digest(submission)}\0{source_digest}".encode()).hexdigest()


# -- step 2: execute (in a worker) ---------------------------------------------------------------


def execute_job(job: Job) -> Outcome:
    """Run one notebook through :class:`SecureExecute` in a scratch folder (runs in a worker)."""
    from ..nbgrader_plugins.secure_execute import SecureExecute

    global _SCRATCH
    start = time.perf_counter()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # what `nbgrader autograde` tells the kernel
    try:
        nb = pickle.loads(job.sanitized)
        with tempfile.TemporaryDirectory(prefix="autograder-job-") as tmp:
            _SCRATCH = tmp
            for rel, data in job.files.items():
                target = Path(tmp) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            config = Config({"SecureExecute": dict(job.settings)})
            fast = _forked_kernels(str(job.settings.get("bwrap", "bwrap")))
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
        # SecureExecute never raises for a submission's sake: this is the grader's own failure.
        why = f"the grader failed: {type(exc).__name__}: {exc}"
        return Outcome(job.student, job.notebook, None, time.perf_counter() - start, why, infrastructure=True)
    finally:
        _SCRATCH = None


_SCRATCH: str | None = None
"""The scratch folder of the job this worker is running, for :func:`_worker_stop` to remove."""


def _worker_start(grader: int) -> None:
    """Set up a local worker process: Ctrl-C is the grading process's to handle, SIGTERM cleans up.

    `grader` is the PID of the grading process.  When it dies, however it dies (SIGKILL,
    a closed terminal, the out-of-memory killer), the worker gets SIGTERM, cleans up and
    goes, and its zygote and kernels with it, instead of waiting for work forever.  (Its
    parent, multiprocessing's fork server, would not tell it: every worker holds the pipe
    end whose closing tells the fork server to go.)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal: the grading process decides
    signal.signal(signal.SIGTERM, _worker_stop)
    try:
        watch = os.pidfd_open(grader)
    except ProcessLookupError:  # gone already
        _worker_stop()
    threading.Thread(target=_stop_when_readable, args=(watch,), name="grader-watch", daemon=True).start()


def _stop_when_readable(fd: int) -> None:
    """Wait for `fd` (a pidfd: readable once its process has exited), then stop this worker.

    The stop runs here, in this thread: a signal to the process could land in this thread
    and leave an idle main thread blocked on its queue for ever.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.poll()
    _worker_stop()


def _worker_stop(*_: object) -> None:
    """Stopped by the grading process (Ctrl-C there): remove what this worker made, then go.

    The worker's kernels die with its zygote, which dies with the worker; the folders
    they worked in would outlive it.
    """
    from ..kernels.forkserver import ForkServer

    if ForkServer._instance is not None:
        ForkServer._instance.close()
    if _SCRATCH:
        shutil.rmtree(_SCRATCH, ignore_errors=True)
    os._exit(143)


def _forked_kernels(bwrap: str = "bwrap") -> type | None:
    """The forked-kernel manager when this worker can use it, else None (plain sandbox).

    The zygote needs bubblewrap; a worker that cannot start one grades with the
    plain sandbox, which is slower, not less safe (and refuses to run where the
    sandbox cannot be built, unless unprotected grading was allowed).
    """
    global _FORK_STATE
    if _FORK_STATE is None:
        try:
            from ..kernels.forkserver import ForkedKernelManager, ForkServer

            ForkServer.shared(bwrap)
            _FORK_STATE = ForkedKernelManager
        except Exception as exc:  # noqa: BLE001 - any reason means: use the plain sandbox
            import logging

            logging.getLogger(__name__).warning("forked kernels unavailable (%s): plain sandbox", exc)
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
        unprotected = done is not None and done.metadata.get(UNPROTECTED_KEY)
        if done is not None and unprotected:
            done = copy.copy(done)
            done.cells = [c for c in done.cells if c.get("id") != UNPROTECTED_KEY]
        if done is None or [c.source for c in done.cells] != [c.source for c in nb.cells]:
            from ..nbgrader_plugins.secure_execute import SecureExecute

            return SecureExecute(parent=self).preprocess(nb, resources)
        for cell, ran in zip(nb.cells, done.cells):
            if cell.cell_type == "code":
                cell.outputs = ran.outputs
                cell.execution_count = ran.execution_count
        for key in ("language_info", "widgets"):
            if key in done.metadata:
                nb.metadata[key] = done.metadata[key]
        if unprotected:
            mark_unprotected(nb)
        return nb, resources


def _recording_api(config: Config) -> Any:
    from nbgrader.apps.api import NbGraderAPI

    from ..nbgrader_plugins.secure_execute import SecureExecute

    config = copy.deepcopy(config)  # the caller's config keeps sanitizing for real
    # The sandbox was checked once, before the run (recording executes nothing); the hook still picks
    # the file graded as each notebook, as it did when the run prepared the submission.
    config.Autograde.pre_convert_hook = partial(choose_notebooks, coursedir=CourseDirectory(config=config))
    ReplaySanitize.steps = sanitize_steps(config)
    config.Autograde.sanitize_preprocessors = [ReplaySanitize]
    steps = list(config.Autograde.autograde_preprocessors)
    config.Autograde.autograde_preprocessors = [ReplayExecute if s is SecureExecute else s for s in steps]
    return NbGraderAPI(config=config)


# -- the whole run ------------------------------------------------------------------------------------

GLOB_CHARACTERS = frozenset("*?[]")
"""Characters nbgrader reads as a pattern in a student id: such a folder would grade others, or nobody."""


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; carries what was done, all of which is kept."""

    def __init__(self, summary: Summary) -> None:
        super().__init__()
        self.summary = summary


@dataclass
class Summary:
    """What a grading run did, per student: the lines printed at its end."""

    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # graded, with something the instructor should know
    repaired: dict[str, str] = field(default_factory=dict)  # graded after a repair (the feedback says so)
    ungradable: dict[str, str] = field(default_factory=dict)  # not gradable: why (the feedback says so), no score
    seconds: dict[str, float] = field(default_factory=dict)  # time in a worker, per student
    elapsed: float = 0.0  # wall-clock time of the run
    unprotected: bool = False  # graded without the sandbox (allowed by the instructor)

    def text(self) -> str:
        """The summary: counts, the three slowest submissions, what was repaired or is to know, and why each
        submission that could not be graded, or failed, did."""
        from ..kernels.sandbox import UNPROTECTED_NOTICE

        slowest = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:3]
        lines = [f"WARNING: {UNPROTECTED_NOTICE}"] if self.unprotected else []
        ungradable = f", ungradable {len(self.ungradable)} (no score)" if self.ungradable else ""
        lines += [
            f"graded {len(self.graded)}, failed {len(self.failed)}, skipped {len(self.skipped)} (unchanged)"
            f"{ungradable} in {self.elapsed:.1f} s",
        ]
        if slowest:
            lines.append("slowest: " + ", ".join(f"{s} {t:.1f} s" for s, t in slowest))
        lines += [f"REPAIRED {student}: {what}" for student, what in self.repaired.items()]
        lines += [f"NOTE {student}: {note}" for student, note in self.notes.items()]
        lines += [f"UNGRADABLE {student}: {why}" for student, why in self.ungradable.items()]
        lines += [f"FAILED {student}: {why}" for student, why in self.failed.items()]
        return "\n".join(lines)


@dataclass
class _Student:
    """One submission being graded: its notebooks still out, and what went wrong so far."""

    name: str
    folder: Path
    mark: str
    notebooks: list[str]  # the assignment's notebook ids: each is graded, or said to be ungradable
    pending: int = 0
    problems: list[str] = field(default_factory=list)
    retry: bool = False  # the grader failed it: leave it unrecorded, for the next run
    plan: Plan | None = None  # which file is graded as which notebook (intake.plan_folder)
    ungradable: list[str] = field(default_factory=list)  # why a notebook cannot be graded (no score)
    repairs: list[str] = field(default_factory=list)  # what was repaired before grading


def _progress(done: int, total: int, started: float, summary: Summary, end: bool = False) -> None:
    """Show how far a run is, on stderr: called after each finished submission, and once with `end`.

    On a terminal, a rich progress bar (bar, count, failures, time left), redrawn in
    place and left on screen at the end; ``NO_COLOR`` takes its colours away.  Anywhere
    else (a log, CI, a test capturing stderr) nothing while grading, so a log gets no
    redrawn-bar noise, and one plain line at the end.

    Parameters
    ----------
    done, total : int
        Submissions finished so far, and to grade in this run.
    started : float
        ``time.perf_counter()`` when the run started.
    summary : Summary
        The run so far (its failures are counted).
    end : bool
        The run is over (finished, interrupted or failed): close the bar.
    """
    global _BAR
    failed = len(summary.failed)
    if end:
        bar, _BAR = _BAR, None
        if bar is not None:
            bar.update(bar.task_ids[0], completed=done, failed=failed)
            bar.stop()  # also gives stdout and stderr back
        elif total:
            sys.stderr.write(f"{done}/{total} submissions done, {failed} failed, "
                             f"{time.perf_counter() - started:.1f} s\n")
        return
    if _BAR is not None:
        _BAR.update(_BAR.task_ids[0], completed=done, failed=failed)
        return
    # Imported here: worker processes import this module and never draw.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_interactive:  # not a terminal, or TERM=dumb, or TTY_INTERACTIVE=0
        return
    _BAR = Progress(
        BarColumn(complete_style="blue", finished_style="green"),  # not rich's default red: nothing failed
        MofNCompleteColumn(),
        TextColumn("done, {task.fields[failed]} failed, ETA"),
        TimeRemainingColumn(),
        console=console,
        # The time left from the mean pace since the first finished submission, not from the
        # last 30 s only: one notebook may take longer than that.
        speed_estimate_period=24 * 3600,
    )
    task = _BAR.add_task("grading", total=total, failed=failed)
    _BAR.update(task, completed=done)  # before the first drawing, which would show 0 done
    _BAR.start()


_BAR: Any = None
"""The progress bar of the run in progress on a terminal (a ``rich.progress.Progress``), else None."""


class _Workers:
    """Where notebooks run: worker processes on this machine, or a Dask cluster.

    A local pool whose process died (killed, out of memory) is broken for good in
    ``concurrent.futures``; :meth:`restart` replaces it, and :attr:`generation` tells
    the futures of the old pool from those of the new.
    """

    def __init__(self, count: int, scheduler: str | None) -> None:
        self.count, self.scheduler, self.generation = count, scheduler, 0
        self.client: Any = None
        if scheduler:
            from dask.distributed import Client

            self.client = Client(scheduler)
            self.executor: Any = self.client.get_executor(pure=False)
        else:
            self.executor = self._local_pool()

    def _local_pool(self) -> cf.ProcessPoolExecutor:
        import multiprocessing

        # forkserver: workers start from a clean process, not a copy of this one with its threads;
        # that process imports what every worker needs once, and each worker is a fork of it.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            ["autograder.nbgrader_plugins", "autograder.core.checks"]
        )
        return cf.ProcessPoolExecutor(
            max_workers=self.count, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
        )

    def submit(self, job: Job) -> cf.Future[Outcome]:
        """Send `job` to a worker (to a fresh pool if the current one broke meanwhile)."""
        try:
            return self.executor.submit(execute_job, job)
        except cf.process.BrokenProcessPool:
            self.restart()
            return self.executor.submit(execute_job, job)

    def restart(self) -> None:
        """Replace a broken local pool."""
        self.stop(now=True)
        self.executor = self._local_pool()
        self.generation += 1

    def stop(self, now: bool = False) -> None:
        """Shut down; `now` cancels waiting jobs and stops the running ones (their work is lost)."""
        if self.client is not None:
            self.executor.shutdown(wait=not now)
            self.client.close()
            return
        # No public way to stop a job that is running (before Python 3.14), and a hanging notebook
        # would hold Ctrl-C for minutes: the processes, taken before shutdown empties the pool.
        processes = pool_processes(self.executor)
        self.executor.shutdown(wait=not now, cancel_futures=now)
        if now:
            for process in processes:
                process.terminate()  # the worker removes its scratch folders and its zygote
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()


STOP = threading.Event()
"""Set to stop a run as Ctrl-C does (:func:`request_stop`)."""


def request_stop() -> None:
    """Ask the run in this process to stop, then raise KeyboardInterrupt, as Ctrl-C does.

    For signal handlers (a closed terminal, SIGTERM).  The exception alone is not enough: a
    signal handler's exception that lands in a weakref callback or a ``__del__`` is printed
    and dropped by Python, and the run would go on to the end.  The event is not lost: the
    run looks at it while it waits for its workers.
    """
    STOP.set()
    raise KeyboardInterrupt


def _wait(in_flight: Iterable[cf.Future[Outcome]]) -> set[cf.Future[Outcome]]:
    """The futures done so far, once one is; KeyboardInterrupt as soon as a stop is asked for."""
    while True:
        if STOP.is_set():
            raise KeyboardInterrupt
        done, _ = cf.wait(list(in_flight), timeout=0.2, return_when=cf.FIRST_COMPLETED)
        if done:
            return done


def _completed(workers: _Workers, items: Iterator[Job | Outcome], window: int) -> Iterator[Outcome]:
    """Outcomes as they finish, with at most `window` jobs out at a time.

    An :class:`Outcome` among `items` (a submission that failed before running) passes
    straight through.  A job whose worker died is tried once more in a fresh pool; if
    that one dies too, the job fails with a message, and the run goes on.
    """
    in_flight: dict[cf.Future[Outcome], tuple[Job, int, int]] = {}

    def launch(job: Job, tries: int) -> None:
        in_flight[workers.submit(job)] = (job, tries, workers.generation)

    def finished(done: Iterable[cf.Future[Outcome]]) -> Iterator[Outcome]:
        for future in done:
            job, tries, generation = in_flight.pop(future)
            try:
                yield future.result()
            except cf.process.BrokenProcessPool:
                if tries == 0:
                    if generation == workers.generation:  # the first of its pool's jobs to notice
                        workers.restart()
                    launch(job, tries + 1)
                else:
                    why = "the worker process running it died twice (out of memory, or killed)"
                    yield Outcome(job.student, job.notebook, None, 0.0, why, infrastructure=True)
            except Exception as exc:  # noqa: BLE001 - e.g. a Dask worker lost: this job fails, the run goes on
                why = f"the worker running it failed: {type(exc).__name__}: {exc}"
                yield Outcome(job.student, job.notebook, None, 0.0, why, infrastructure=True)

    for item in items:
        if isinstance(item, Outcome):
            yield item
            continue
        launch(item, 0)
        while len(in_flight) >= window:
            yield from finished(_wait(in_flight))
    while in_flight:
        yield from finished(_wait(in_flight))


def assignment_notebooks(root: Path, assignment: str) -> list[str]:
    """File names of the assignment's notebooks (from source/), or ValueError naming the assignments there are."""
    source = root / "source" / assignment
    names = sorted(p.name for p in source.glob("*.ipynb")) if source.is_dir() else []
    if not names:
        known = sorted(p.name for p in (root / "source").iterdir() if p.is_dir() and not p.name.startswith("."))
        raise ValueError(f"no assignment {assignment!r} in {root / 'source'} (there are: {', '.join(known)})")
    return names


def grade(
    assignment: str,
    root: Path = ROOT,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    students: Iterable[str] | None = None,
    progress: bool = True,
    unsandboxed: bool = False,
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
    unsandboxed : bool
        Grade even where the sandbox cannot be built (``SecureExecute.allow_unsandboxed``);
        the summary and every graded notebook then say so.

    Returns
    -------
    Summary
        Who was graded (and after which repairs), skipped, ungradable or failed (and
        why).  A submission that cannot be graded (cut off, several candidate notebooks,
        none, another assignment's) gets a feedback page saying why, is recorded as
        ``nbgrader autograde`` records it (a submission without a score) and is listed
        as ungradable; one nbgrader fails on is listed as failed; one the grader failed
        (a worker died) is not recorded, and the next run tries it again.

    Raises
    ------
    ValueError
        When the assignment has no notebooks in source/.
    SandboxUnavailable
        Before anything is graded or recorded, when the sandbox cannot be built
        here and unprotected grading was not allowed.
    GradingInterrupted
        On Ctrl-C, after stopping the workers; what was recorded stays.
    """
    assignment_notebooks(root, assignment)  # a mistyped assignment stops here, naming the ones there are
    config = course_config(root)
    if unsandboxed:
        config.SecureExecute.allow_unsandboxed = True
    unprotected = _refuse_without_sandbox(config)
    db_url = os.environ.get("SHALLOW_NARROW_DB_URL") or str(config.CourseDirectory.db_url)
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.root = str(root)
    coursedir = CourseDirectory(config=config)
    submitted, source = root / "submitted", root / "source" / assignment
    state_path = root / "autograded" / STATE_FILE
    state: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}
    wanted = set(students) if students is not None else None
    summary = Summary(unprotected=unprotected)
    todo: list[_Student] = []
    source_digest = _folder_digest(source) + grader_digest(root)  # once, not once per student
    folders = sorted(p / assignment for p in submitted.iterdir()) if submitted.is_dir() else []
    for folder in (f for f in folders if f.is_dir()):
        student = folder.parent.name
        if wanted is not None and student not in wanted:
            continue
        if GLOB_CHARACTERS & set(student):
            summary.failed[student] = (
                "not graded: nbgrader reads * ? [ ] in a student id as a pattern (it would grade other "
                "students, or nobody); rename the folder"
            )
            continue
        mark = fingerprint(folder, source_digest)
        if not force and state.get(f"{assignment}/{student}") == mark:
            summary.skipped.append(student)
            continue
        plan = plan_folder(coursedir, student, assignment)
        notebooks = plan.expected or sorted(plan.sources)
        todo.append(_Student(student, folder, mark, notebooks, pending=len(notebooks), plan=plan))
    by_name = {s.name: s for s in todo}

    settings = _execute_settings(config)
    # The workers see SecureExecute's settings only: give them the course's word on variants.
    settings.setdefault("student_variants", assignment in CourseOptions(config=config).variants)

    def items() -> Iterator[Job | Outcome]:
        # Made one at a time, as workers free up: memory stays flat however large the class.
        for student in todo:
            assert student.plan is not None
            for name in student.notebooks:
                try:
                    nb, intake, _ = prepare_notebook(coursedir, student.plan, name, _QUIET)
                    nb, resources = sanitize(nb, student.name, assignment, name, db_url, config, intake)
                except Ungradable as problem:  # reported: the student's feedback says why
                    why = f"{problem.reason} (no score; feedback: {problem.where(root)})"
                    yield Outcome(student.name, name, None, 0.0, why, ungradable=True)
                    continue
                except Exception as exc:  # noqa: BLE001 - a notebook nbgrader cannot sanitize fails alone
                    yield Outcome(student.name, name, None, 0.0, f"could not read {name}.ipynb: {_short(exc)}")
                    continue
                student.repairs += [repair.summary for repair in resources[INTAKE_KEY]["repairs"]]
                files = _job_files(student.folder, source)
                yield Job(student.name, assignment, name, pickle.dumps(nb), files, settings)

    api = _recording_api(config)
    started = time.perf_counter()
    count = workers or os.cpu_count() or 1
    pool = _Workers(count, scheduler)
    interrupted, finished = False, 0
    STOP.clear()
    try:
        with shared_engines(), warnings.catch_warnings():  # one database engine for every Gradebook nbgrader opens
            _quiet_known_warnings()
            for outcome in _completed(pool, items(), window=2 * count):
                if STOP.is_set():  # asked for while this outcome came in: it is graded again next run
                    raise KeyboardInterrupt
                student = by_name[outcome.student]
                summary.seconds[student.name] = summary.seconds.get(student.name, 0.0) + outcome.seconds
                if outcome.ungradable:
                    student.ungradable.append(outcome.error or "cannot be graded")
                elif outcome.executed is None:
                    student.problems.append(outcome.error or "execution failed")
                    student.retry |= outcome.infrastructure
                else:
                    ReplayExecute.executed[(student.name, assignment, outcome.notebook)] = outcome.executed
                student.pending -= 1
                if student.pending == 0:
                    _finish(api, assignment, student, summary, state, state_path)
                    finished += 1
                    if progress:
                        _progress(finished, len(todo), started, summary)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # Whatever stopped the run, nothing kept for recording outlives it.
        ReplaySanitize.sanitized.clear()
        ReplayExecute.executed.clear()
        pool.stop(now=interrupted)
        summary.elapsed = time.perf_counter() - started
        if progress:
            _progress(finished, len(todo), started, summary, end=True)
    if interrupted:
        raise GradingInterrupted(summary)
    return summary


def _refuse_without_sandbox(config: Config) -> bool:
    """Raise SandboxUnavailable unless the sandbox works here or was waived; True when grading runs unprotected."""
    from ..kernels.sandbox import require_isolation

    settings = config.SecureExecute if "SecureExecute" in config else {}
    found = require_isolation(str(settings.get("bwrap", "bwrap")), bool(settings.get("allow_unsandboxed", False)))
    return found.bwrap is None


def _finish(api: Any, assignment: str, student: _Student, summary: Summary, state: dict[str, str],
            state_path: Path) -> None:
    """Record a student whose notebooks are all back, and remember them as graded if that worked."""
    name = student.name
    try:
        if student.retry:
            summary.failed[name] = "; ".join(student.problems) + " (not recorded: the next run tries again)"
            return
        # A submission nbgrader cannot grade is still recorded, as `nbgrader autograde` records it
        # (a submission with no score), so it shows in the formgrader and the export.
        error = _record(api, assignment, name)
        if student.ungradable:  # no score; not remembered as graded, so the next run looks again
            summary.ungradable[name] = "; ".join(student.ungradable)
        elif error is None and not student.problems:
            summary.graded.append(name)
            if student.repairs:
                summary.repaired[name] = "; ".join(student.repairs)
            if student.plan and student.plan.extra:  # e.g. JupyterLab's "Duplicate": nbgrader skips it, as we do
                summary.notes[name] = f"not part of the assignment, not graded: {', '.join(student.plan.extra)}"
            state[f"{assignment}/{name}"] = student.mark
            _write_state(state_path, state)
        else:
            summary.failed[name] = "; ".join(student.problems) or error or "autograde failed"
    finally:
        _forget(name, assignment)


def _forget(student: str, assignment: str) -> None:
    """Drop what was kept for recording a student who is done (recorded or failed)."""
    for kept in (ReplaySanitize.sanitized, ReplayExecute.executed):
        for key in [k for k in kept if k[0] == student and k[1] == assignment]:
            del kept[key]


def _record(api: Any, assignment: str, student: str) -> str | None:
    """Write one student's results through stock nbgrader (the only gradebook writer); None, or why it failed."""
    result = api.autograde(assignment, student, force=True, create=True)
    if result.get("success"):
        return None
    # nbgrader's own summary lines, not the traceback before them.
    log = result.get("log") or ""
    errors = [line.removeprefix("[ERROR] ") for line in log.splitlines() if line.startswith("[ERROR]")]
    return " ".join(errors[:2]) or (result.get("error") or "autograde failed").strip().splitlines()[-1]


def _short(exc: BaseException) -> str:
    """An exception in one line, of reasonable length."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 200 else text[:197] + "..."


def _quiet_known_warnings() -> None:
    """Silence warnings stock code gives on every submission, which would bury the ones that matter."""
    # SQLAlchemy, when nbgrader creates a submission; nbformat, for notebooks saved without cell ids.
    warnings.filterwarnings("ignore", message=r".*not in session.*")
    warnings.filterwarnings("ignore", message=r".*[Cc]ell is missing an id field.*")


def _write_state(path: Path, state: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: an interrupted run never leaves half a state file
