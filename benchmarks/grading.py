"""Grading throughput: stock `nbgrader autograde` against `python -m autograder grade`, in one run.

Builds N submissions (a mix of correct and typical wrong answers from examples/), grades
the same batch with stock nbgrader (hidden tests in the student's kernel, one notebook
after another) and with this grader (sandboxed kernels, verdicts outside, worker
processes), checks that every score is identical, and prints submissions per second,
the ratio and peak memory.

    .venv/bin/python benchmarks/grading.py --n 20
    .venv/bin/python benchmarks/grading.py --memory 100 1000   # peak memory of ours at two class sizes
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from autograder.batch import parallel
from autograder.course import build
from autograder.kernels.forkserver import ZYGOTE_MARK
from autograder.course.submissions import examples_folder, submission_from_answer

ROOT = Path(__file__).resolve().parent.parent

ASSIGNMENT = "01_shallow_narrow"
STOCK_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "shallow-narrow"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
c.Execute.timeout = 30
"""


def make_course(folder: Path, stock: bool, n: int) -> Path:
    """A scratch course with n submissions; `stock` gets nbgrader's default pipeline."""
    import nbformat

    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "source", folder / "source")
    if stock:
        (folder / "nbgrader_config.py").write_text(STOCK_CONFIG.format(root=str(folder)))
    else:
        shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    env = {**os.environ, "SHALLOW_NARROW_DB_URL": f"sqlite:///{folder}/gradebook.db"}
    build.nbgrader("generate_assignment", ASSIGNMENT, "--force", root=folder, env=env)
    release = nbformat.read(folder / "release" / ASSIGNMENT / "shallow_narrow.ipynb", as_version=4)
    answers = sorted(examples_folder(ASSIGNMENT).glob("*.py"))
    for i in range(n):
        answer = answers[i % len(answers)]
        dest = folder / "submitted" / f"s{i:04d}_{answer.stem}" / ASSIGNMENT
        shutil.copytree(folder / "release" / ASSIGNMENT, dest)
        nb = submission_from_answer(release, answer.read_text())
        nbformat.write(nb, dest / "shallow_narrow.ipynb")
    return folder


class PeakMemory:
    """Peak resident memory of this process and all its descendants, and CPU time by role, sampled.

    CPU roles (for "where the time goes"): this process (for ours: sanitize, judge nothing,
    record through nbgrader), the worker processes (run each notebook, judge the probes), and
    the kernels (the student's code, the probes, kernel start-up), read from each zygote,
    which reaps the kernels it forked. ``cpu_waited`` is exact for this process and the
    descendants it waited for (all of stock nbgrader's; not our workers, which are the
    children of multiprocessing's fork server); the split is sampled every 50 ms.
    """

    def __init__(self) -> None:
        self.peak = 0
        self.roles: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.05):
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                    if p.pid != me.pid:
                        self._note_cpu(p)
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def _note_cpu(self, p: psutil.Process) -> None:
        cmdline = " ".join(p.cmdline())
        if ZYGOTE_MARK in cmdline:
            parent = p.parent()
            if parent is None or "bwrap" not in " ".join(parent.cmdline()):
                return  # a kernel forked from the zygote: counted when the zygote reaps it
            times = p.cpu_times()
            self.roles[p.pid] = ("kernels", times.user + times.system + times.children_user + times.children_system)
        elif "multiprocessing" in cmdline and "bwrap" not in cmdline:
            times = p.cpu_times()
            self.roles[p.pid] = ("workers", times.user + times.system)

    def __enter__(self) -> "PeakMemory":
        self._times = os.times()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        end = os.times()
        self.cpu_self = (end.user - self._times.user) + (end.system - self._times.system)
        children = (end.children_user - self._times.children_user) + (end.children_system - self._times.children_system)
        self.cpu_waited = self.cpu_self + children

    def split(self) -> dict[str, float]:
        """CPU seconds by role: this process, workers, kernels (sampled; see the class)."""
        out = {"this process": self.cpu_self, "workers": 0.0, "kernels": 0.0}
        for role, seconds in self.roles.values():
            out[role] += seconds
        return out


def scores(folder: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder}/gradebook.db") as gb:
        return {
            (sub.student_id, g.name): g.score
            for sub in gb.assignment_submissions(ASSIGNMENT)
            for nb in sub.notebooks
            for g in nb.grades
            if g.cell.cell_type == "code"
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="submissions per batch")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--memory", type=int, nargs="+", help="only ours, at these class sizes: peak memory")
    parser.add_argument(
        "--stock-without-figures",
        action="store_true",
        help="also time stock nbgrader with the course's figures skipped (AUTOGRADER_FIGURES=skip), "
        "to separate what skipping them gives from the rest of the design",
    )
    args = parser.parse_args()
    if args.memory:
        memory_scaling(args.memory, args.workers)
        return
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        stock_dir = make_course(Path(tmp) / "stock", stock=True, n=args.n)
        ours_dir = make_course(Path(tmp) / "ours", stock=False, n=args.n)

        with PeakMemory() as stock_mem:
            t0 = time.perf_counter()
            build.nbgrader("autograde", ASSIGNMENT, "--create", "--force", root=stock_dir)
            stock_s = time.perf_counter() - t0

        bare_s = None
        if args.stock_without_figures:
            bare_dir = make_course(Path(tmp) / "stock-bare", stock=True, n=args.n)
            t0 = time.perf_counter()
            env = {**os.environ, "AUTOGRADER_FIGURES": "skip"}
            build.nbgrader("autograde", ASSIGNMENT, "--create", "--force", root=bare_dir, env=env)
            bare_s = time.perf_counter() - t0

        os.environ["SHALLOW_NARROW_DB_URL"] = f"sqlite:///{ours_dir}/gradebook.db"
        with PeakMemory() as ours_mem:
            t0 = time.perf_counter()
            summary = parallel.grade(ASSIGNMENT, root=ours_dir, workers=args.workers, force=True, progress=False)
            ours_s = time.perf_counter() - t0

        stock_scores, our_scores = scores(stock_dir), scores(ours_dir)
        same = stock_scores == our_scores and not summary.failed
        print(f"submissions: {args.n}   workers: {args.workers}   cores: {os.cpu_count()}")
        print(
            f"stock nbgrader autograde : {args.n / stock_s:6.2f} submissions/s  ({stock_s:6.1f} s)  peak {stock_mem.peak / 2**20:6.0f} MiB"
        )
        print(
            f"autograder grade         : {args.n / ours_s:6.2f} submissions/s  ({ours_s:6.1f} s)  peak {ours_mem.peak / 2**20:6.0f} MiB"
        )
        print(f"ratio (ours / stock)     : {stock_s / ours_s:6.2f}x")
        if bare_s is not None:
            print(
                f"stock, figures skipped   : {args.n / bare_s:6.2f} submissions/s  ({bare_s:6.1f} s), "
                f"ratio {bare_s / ours_s:.2f}x"
            )
        print(f"scores identical         : {same}")
        n = args.n
        roles = ours_mem.split()
        split = ", ".join(f"{role} {seconds / n:.3f}" for role, seconds in roles.items())
        print(
            f"CPU per submission       : stock {stock_mem.cpu_waited / n:.3f} s, "
            f"ours {sum(roles.values()) / n:.3f} s ({split})"
        )
        if not same:
            diff = {
                k: (stock_scores.get(k), our_scores.get(k))
                for k in set(stock_scores) | set(our_scores)
                if stock_scores.get(k) != our_scores.get(k)
            }
            print(f"differences: {dict(list(diff.items())[:10])}  failed: {summary.failed}")
            sys.exit(1)


def memory_scaling(sizes: list[int], workers: int) -> None:
    """Peak memory (this process and all its children) of our grader at each class size."""
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            folder = make_course(Path(tmp) / "ours", stock=False, n=n)
            os.environ["SHALLOW_NARROW_DB_URL"] = f"sqlite:///{folder}/gradebook.db"
            with PeakMemory() as mem:
                t0 = time.perf_counter()
                summary = parallel.grade(ASSIGNMENT, root=folder, workers=workers, force=True, progress=False)
                seconds = time.perf_counter() - t0
            print(
                f"{n:5d} submissions: peak {mem.peak / 2**20:6.0f} MiB, {n / seconds:5.2f} submissions/s, "
                f"failed {len(summary.failed)}"
            )


if __name__ == "__main__":
    main()
