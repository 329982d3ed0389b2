"""Similarity report speed: 1,000 synthetic submissions of 01_shallow_narrow, compared and written.

Builds a scratch course (not timed): each student takes one of the test corpus's independent
solutions (``tests/similarity_corpus/independent``) or an example answer, renames its local
variables, writes each product's factors in an order of their own, adds comments, and writes a
Think! answer from sentences of the corpus with some words swapped; ``--copies`` students copy
another student instead (renamed, commented, the answer's sentences reordered and reworded). Unless
``--no-autograded``, every submission is autograded in this process (the judges on the trusted
synthetic code, no kernels) so that the report weighs shared mistakes as well. Then it times
``python -m autograder similarity``'s work (:func:`autograder.integrity.similarity.write_report`:
reading, normalising, fingerprinting, scoring every pair and writing the pages) and prints it, with
how many planted copies were flagged.

    .venv/bin/python benchmarks/similarity.py              # 1,000 submissions
    .venv/bin/python benchmarks/similarity.py --n 300 --no-autograded
"""

from __future__ import annotations

import argparse
import ast
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
import numpy as np

from autograder.core import checks
from autograder.core.in_process import judge_without_the_notebook
from autograder.course.submissions import examples_folder, method_bodies, submission_from_answer, written_answers
from autograder.integrity import similarity, views
from autograder.nbgrader_plugins.cells import verdict_outputs

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_shallow_narrow"
NOTEBOOK = "shallow_narrow.ipynb"
NAMES = ["err", "e", "r", "res", "delta", "d", "diff", "gap", "pred", "out", "yh", "y_est", "tmp", "t", "g",
         "grad", "common", "factor", "m", "n_pts", "k", "s", "avg", "mean_term", "z", "h", "hid", "prod", "scale", "w"]
SYNONYMS = {"larger": "bigger", "faster": "quicker", "weights": "parameters", "zero": "0", "loss": "error",
            "learning rate": "step size", "always": "necessarily", "diverges": "blows up", "stuck": "frozen",
            "gradient": "derivative", "stays": "remains", "because": "since"}  # fmt: skip
COMMENTS = ["# compute the prediction", "# chain rule", "# mean over samples", "# gradient", "# residual", "# MSE"]


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node


class _Shuffle(ast.NodeTransformer):
    """Writes every product's factors in a random order (``x * w1 * w2`` or ``w2 * x * w1``): the same math."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if not isinstance(node.op, ast.Mult):
            return self.generic_visit(node)
        factors: list[ast.expr] = []
        pending: list[ast.expr] = [node]
        while pending:
            item = pending.pop()
            if isinstance(item, ast.BinOp) and isinstance(item.op, ast.Mult):
                pending += [item.right, item.left]
            else:
                factors.append(self.visit(item))
        self.rng.shuffle(factors)
        product = factors[0]
        for factor in factors[1:]:
            product = ast.BinOp(product, ast.Mult(), factor)
        return product


def _locals(function: ast.FunctionDef) -> set[str]:
    params = {a.arg for a in function.args.args}
    stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return stored - params - {"dloss_dw1", "dloss_dw2", "y"}


def varied(answer: str, rng: random.Random, sentences: list[str], shuffle: bool = True) -> str:
    """An answer file like `answer`, by another hand: locals renamed, comments added, its own Think! answer.

    `shuffle`: also write each product's factors in another order, as an independent student would
    (a copier renames and rewords, but keeps the formulas).
    """
    tree = ast.parse(answer)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for function in functions:
        own = sorted(_locals(function))
        _Rename(dict(zip(own, rng.sample(NAMES, len(own))))).visit(function)
        if shuffle:
            _Shuffle(rng).visit(function)
    bodies = []
    for function in functions:
        lines = ast.unparse(function).splitlines()
        if rng.random() < 0.6:
            lines.insert(rng.randrange(1, len(lines)), "    " + rng.choice(COMMENTS))
        bodies.append("\n".join(lines))
    text = " ".join(rng.sample(sentences, rng.randint(2, 4)))
    for word, other in SYNONYMS.items():
        if word in text and rng.random() < 0.5:
            text = text.replace(word, other)
    words = text.split()
    for _ in range(len(words) // 8):  # and some words of their own
        words[rng.randrange(len(words))] = rng.choice(["clearly", "really", "then", "basically", "indeed", "now"])
    text = " ".join(words)
    return "\n\n\n".join(bodies) + f"\n\n\nWRITTEN_ANSWERS = [{text!r}]\n"


def bases() -> list[str]:
    """The answers students start from: the corpus's independent solutions and the example answers."""
    corpus = sorted((ROOT / "tests" / "similarity_corpus" / "independent").glob("*.py"))
    return [p.read_text() for p in corpus + sorted(examples_folder(ASSIGNMENT).glob("*.py"))]


def graded(nb: nbformat.NotebookNode, student: str, names: dict[str, list[str]]) -> nbformat.NotebookNode:
    """The notebook with each test cell's verdicts, judged in this process (trusted synthetic code only)."""
    namespace: dict = {"__name__": "submission"}
    exec("import numpy as np", namespace)
    for cell in nb.cells:
        defines_only = cell.cell_type == "code" and all(
            isinstance(n, ast.FunctionDef) for n in ast.parse(cell.source).body
        )
        if cell.cell_type == "code" and (cell.metadata.get("nbgrader", {}).get("solution") or
                                         (defines_only and cell.source.strip())):  # fmt: skip
            exec(cell.source, namespace)
    out = nbformat.from_dict(nb)
    for cell in out.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not meta.get("solution") and meta.get("grade_id") in names:
            verdicts = [(name, judge_without_the_notebook(name, namespace, ASSIGNMENT, student))
                        for name in names[meta["grade_id"]]]  # fmt: skip
            cell.outputs = [output for name, verdict in verdicts for output in verdict_outputs(name, verdict)]
    return out


def make_course(folder: Path, n: int, copies: int, autograded: bool, seed: int) -> set[frozenset[str]]:
    """Write n submissions (and their autograded notebooks); return the planted pairs."""
    rng = random.Random(seed)
    shutil.copytree(ROOT / "release" / ASSIGNMENT, folder / "release" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    release = nbformat.read(folder / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    names = {c.metadata["nbgrader"]["grade_id"]: checks.checks_in(c.source) for c in source.cells
             if c.metadata.get("nbgrader", {}).get("grade") and checks.checks_in(c.source)}  # fmt: skip
    starts = bases()
    sentences = [s.strip() + "." for b in starts for a in written_answers(b) for s in a.replace("\n", " ").split(".")
                 if len(s.split()) > 3]  # fmt: skip
    answers: dict[str, str] = {}
    planted = set()
    for i in range(n):
        student = f"student{i:04d}"
        if i >= n - copies:
            original = f"student{rng.randrange(n - copies):04d}"
            answers[student] = varied(answers[original], rng, _sentences(answers[original]), shuffle=False)
            planted.add(frozenset({student, original}))
        else:
            answers[student] = varied(rng.choice(starts), rng, sentences)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # wrong answers' training runs diverge
        for done, (student, answer) in enumerate(answers.items(), start=1):
            assert len(method_bodies(answer)) == 2
            nb = submission_from_answer(release, answer)
            dest = folder / "submitted" / student / ASSIGNMENT
            dest.mkdir(parents=True)
            nbformat.write(nb, dest / NOTEBOOK)
            if autograded:
                dest = folder / "autograded" / student / ASSIGNMENT
                dest.mkdir(parents=True)
                nbformat.write(graded(nb, student, names), dest / NOTEBOOK)
            if done % 100 == 0:
                print(f"  {done} submissions written", file=sys.stderr)
    return planted


def _sentences(answer: str) -> list[str]:
    """A copier rewords the original's answer: its sentences, in another order, some words swapped (by varied)."""
    text = " ".join(written_answers(answer))
    found = [s.strip() + "." for s in text.split(".") if s.strip()]
    return found if len(found) >= 4 else found * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions (default 1000)")
    parser.add_argument("--copies", type=int, default=20, help="of them, planted copies of another (default 20)")
    parser.add_argument("--no-autograded", action="store_true", help="compare code and answers only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="similarity-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        planted = make_course(folder, args.n, args.copies, not args.no_autograded, args.seed)
        print(f"built {args.n} submissions in {time.perf_counter() - started:.0f} s (not timed)")
        started, cpu = time.perf_counter(), time.process_time()
        report = similarity.compare(folder, ASSIGNMENT)  # what write_report does, in its two steps
        compared = time.perf_counter() - started
        views.write_pages(report, similarity.default_output(folder, ASSIGNMENT))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        listed = {frozenset({p.a, p.b}) for p in report.flagged_pairs}
        print(f"similarity report of {len(report.students)} submissions ({report.pairs_compared:,} pairs, mistakes "
              f"known for {report.graded}): {wall:.1f} s ({cpu:.1f} s CPU): reading, normalising and scoring "
              f"{compared:.1f} s, {len(report.pairs)} pages {wall - compared:.1f} s")  # fmt: skip
        print(f"flagged {len(report.flagged_pairs)} pairs; planted copies flagged: {len(planted & listed)} of "
              f"{len(planted)}")  # fmt: skip


if __name__ == "__main__":
    main()
