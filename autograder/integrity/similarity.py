"""The similarity report: which pairs of students handed in work more alike than independent work is.

For one assignment it reads, from the course folder (nbgrader's layout):

- ``release/<assignment>/*.ipynb``: the starter code and the question texts;
- ``submitted/<student>/<assignment>/*.ipynb``: each student's solution cells (nbgrader
  metadata ``solution: true``; code cells and the Markdown "Think!" answers);
- ``autograded/<student>/<assignment>/*.ipynb`` where they exist: the verdicts the grader
  wrote into the test cells (:func:`autograder.nbgrader_plugins.cells.verdict_outputs`),
  with the diagnosed mistake codes and the failure messages.  Without them (nothing
  autograded yet) the report compares code and answers only, and says so.

and compares every pair of students on three things:

code
    The solution cells, with the release's code removed and normalised
    (:func:`autograder.integrity.normalise.normalise_code`: comments, layout,
    local names, the order of independent statements), cut into overlapping runs
    of :attr:`Settings.code_k` tokens, fingerprinted by winnowing as MOSS does
    (copydetect's :func:`copydetect.utils.winnow`).
answers
    The written answers (:func:`autograder.integrity.normalise.normalise_text`),
    as runs of :attr:`Settings.text_k` words; phrases of the release's own text (a
    quoted question) do not count.
mistakes
    Failed tests, from the autograded notebooks: each diagnosed mistake, the exact
    failure message (where the test's inputs are the same for everyone, as for the
    seed run, it quotes the wrong output itself, so two equal messages are the same
    wrong output on the same inputs), and for undiagnosed failures the kind of failure
    (the message with its numbers masked).

Rarity and length
    Every shared piece counts ``log(N / df)``, where ``df`` of the ``N`` students
    have it (``N`` at least :data:`SMALLEST_CLASS`): a line the whole class writes (a
    one-line ``forward``) counts almost nothing, a line only these two wrote counts most.  A component's score is how
    alike the pair is (the rarity-weighted share of their pieces they have in common)
    times how much rare material they share, ``1 - exp(-shared / (evidence * unit))``
    with ``unit = log(N / 2)``, the weight of a piece only this pair has: two
    short solutions that are the same are not enough for a high score.
    The pair's score is the weighted mean of its code and answer scores (a component
    neither student has is left out), raised by shared rare mistakes:
    ``1 - (1 - base) * (1 - mistake_boost * mistakes)``, where ``mistakes`` is the
    rarest shared sign's ``(w / unit) ** mistake_sharpness``: a shared mistake never
    lowers a score, one only these two make raises it most, and one a tenth of the class
    makes hardly at all.

Usage::

    from autograder.integrity.similarity import compare, write_report
    report = write_report(Path("."), "01_shallow_narrow")   # reports/01_shallow_narrow/similarity/
    for pair in report.flagged_pairs: print(pair.a, pair.b, pair.score)

``python -m autograder.integrity 01_shallow_narrow`` (see :func:`main`) prints the ranking
and writes the pages.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from ..core.mistakes import NOT_IMPLEMENTED
from .normalise import NormalisedCode, Word, code_tokens, normalise_code, normalise_text

# -- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How pairs are compared and which are flagged (the defaults are the report's)."""

    code_k: int = 5
    """Tokens per fingerprinted run of code."""
    code_window: int = 3
    """Winnowing window: every shared run of ``code_k + code_window - 1`` tokens or more is found."""
    text_k: int = 2
    """Words per fingerprinted phrase of an answer (all phrases are kept: answers are short)."""
    code_weight: float = 0.6
    """Weight of the code in a pair's base score."""
    text_weight: float = 0.4
    """Weight of the written answers in a pair's base score."""
    mistake_boost: float = 0.4
    """How far shared rare mistakes raise a score towards 1 (at most)."""
    mistake_sharpness: float = 3.0
    """How fast a shared mistake's weight falls with the number of students who make it (see _mistake_scores)."""
    code_evidence: float = 8.0
    """Rare code fingerprints (counted in units of one only the pair has) a pair shares to reach 63% confidence."""
    text_evidence: float = 5.0
    """Rare phrases a pair's answers share to reach 63% confidence."""
    flag: float = 0.5
    """Pairs scoring this or more are flagged."""
    also_show: int = 10
    """Pairs below the threshold listed too (the closest ones), for context."""
    rare_share: float = 0.1
    """A piece at most this share of the class (or 2 students) has is marked "rare" in the side-by-side views."""


SEPARATOR = ";"
"""Token between two statements: a fingerprint may span them (their order is canonical)."""

CELL_SEPARATOR = "\x00cell"
"""Token between two cells."""

# -- what was handed in --------------------------------------------------------------------


@dataclass
class CodeCell:
    """One solution code cell of one submission."""

    key: str
    """``<notebook>:<grade_id>``: the same cell in every submission and in the release."""
    grade_id: str
    source: str
    starter: str
    code: NormalisedCode


@dataclass
class AnswerCell:
    """One written answer (a Markdown solution cell) of one submission."""

    key: str
    grade_id: str
    source: str
    words: list[Word]


@dataclass(frozen=True)
class MistakeSign:
    """One sign of a mistake in a failed test.

    Attributes
    ----------
    check : str
        The check whose verdict shows it.
    kind : str
        ``"diagnosed"`` (``detail`` is a mistake code), ``"same output"`` (``detail``
        is the failure message: equal messages mean equal outputs on equal inputs) or
        ``"symptom"`` (an undiagnosed failure's message, numbers masked).
    detail : str
    """

    check: str
    kind: str
    detail: str


@dataclass
class Work:
    """What one student handed in, ready to compare."""

    student: str
    code: list[CodeCell] = field(default_factory=list)
    answers: list[AnswerCell] = field(default_factory=list)
    mistakes: list[MistakeSign] = field(default_factory=list)
    graded: bool = False
    """An autograded notebook was found (so its mistakes are known)."""

    @property
    def unparsed(self) -> list[str]:
        """Grade ids of the code cells Python could not parse."""
        return [cell.grade_id for cell in self.code if not cell.code.parsed]


@dataclass
class Release:
    """The release of an assignment: its solution cells' starter text and its own prose."""

    notebooks: list[str]
    code: dict[str, str]
    """Solution code cell key -> starter source."""
    answers: dict[str, str]
    """Written-answer cell key -> placeholder text."""
    prose: str
    """Every Markdown cell of the release (question texts), joined."""
    grade_ids: dict[str, str]
    """Cell key -> grade id."""


def _nbgrader(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
    return meta if isinstance(meta, dict) else {}


def read_release(root: Path, assignment: str) -> Release:
    """The solution cells and prose of ``release/<assignment>``.

    Raises
    ------
    FileNotFoundError
        When the release folder has no notebook.
    """
    import nbformat

    folder = root / "release" / assignment
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no released notebook in {folder} (run `autograder build` first?)")
    code, answers, prose, grade_ids = {}, {}, [], {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = _nbgrader(cell)
            if cell.cell_type == "markdown":
                prose.append(cell.source)
            if not (meta.get("solution") and meta.get("grade_id")):
                continue
            key = f"{path.name}:{meta['grade_id']}"
            grade_ids[key] = str(meta["grade_id"])
            (code if cell.cell_type == "code" else answers)[key] = cell.source
    return Release([p.name for p in paths], code, answers, "\n\n".join(prose), grade_ids)


def _solution_cells(nb: Any, notebook: str) -> dict[str, Any]:
    """A submitted notebook's solution cells, by cell key (the first one of each grade id)."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution") and meta.get("grade_id"):
            found.setdefault(f"{notebook}:{meta['grade_id']}", cell)
    return found


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def read_mistakes(nb: dict[str, Any]) -> list[MistakeSign]:
    """The signs of mistakes in an autograded notebook's verdicts.

    A verdict's record (``{"check", "score", "mistakes"}``, see
    :func:`~autograder.nbgrader_plugins.cells.verdict_outputs`) follows the output that
    carries its message.  A test that failed because the function is not written yet
    (``not_implemented``) is no mistake and is left out.
    """
    from ..nbgrader_plugins.cells import VERDICT_KEY, VERDICT_MIME

    signs: list[MistakeSign] = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or _nbgrader(cell).get("solution"):
            continue
        message = ""
        for output in cell.get("outputs", []):
            if not isinstance(output, dict):
                continue
            if output.get("output_type") == "error":
                message = str(output.get("evalue", ""))
            elif output.get("output_type") == "stream":
                message = ""
            record = (output.get("metadata") or {}).get(VERDICT_KEY)
            data = output.get("data") or {}
            if record is None and isinstance(data.get(VERDICT_MIME), str):
                try:
                    record = json.loads(data[VERDICT_MIME])
                except ValueError:
                    record = None
            if not isinstance(record, dict) or "check" not in record:
                continue
            try:
                passed = float(record.get("score", 0)) >= 1
            except (TypeError, ValueError):
                passed = False
            codes = [str(c) for c in record.get("mistakes") or [] if isinstance(c, str)]
            if passed or NOT_IMPLEMENTED.code in codes:
                continue
            check = str(record["check"])
            signs += [MistakeSign(check, "diagnosed", code) for code in codes]
            if message:
                signs.append(MistakeSign(check, "same output", message))
                if not codes:
                    signs.append(MistakeSign(check, "symptom", _NUMBER.sub("#", message)))
    return list(dict.fromkeys(signs))


def read_work(root: Path, assignment: str, release: Release) -> tuple[list[Work], dict[str, str]]:
    """Every submission of the assignment, read and normalised, and the students left out (with why).

    A student is left out when a released notebook is missing from their folder or
    cannot be read; extra notebooks (a "-Copy1") are ignored, as nbgrader ignores them.
    """
    import nbformat

    submitted = root / "submitted"
    students = sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir()) if submitted.is_dir() else []
    works, left_out = [], {}
    for student in students:
        work = Work(student)
        for notebook in release.notebooks:
            path = submitted / student / assignment / notebook
            try:
                nb = nbformat.read(path, as_version=4)
            except FileNotFoundError:
                left_out[student] = f"no {notebook}"
                break
            except Exception as exc:  # noqa: BLE001 - whatever is wrong with it, this student is not compared
                left_out[student] = f"could not read {notebook}: {type(exc).__name__}"
                break
            cells = _solution_cells(nb, notebook)
            for key, starter in release.code.items():
                if key.startswith(f"{notebook}:"):
                    source = cells[key].source if key in cells else ""
                    work.code.append(CodeCell(key, release.grade_ids[key], source, starter,
                                              normalise_code(source, starter)))  # fmt: skip
            for key, placeholder in release.answers.items():
                if key.startswith(f"{notebook}:"):
                    source = cells[key].source if key in cells else ""
                    work.answers.append(AnswerCell(key, release.grade_ids[key], source,
                                                   normalise_text(source, placeholder)))  # fmt: skip
            graded = root / "autograded" / student / assignment / notebook
            if graded.is_file():
                try:
                    work.mistakes += read_mistakes(json.loads(graded.read_text(encoding="utf-8")))
                    work.graded = True
                except (OSError, ValueError, AttributeError):
                    pass  # an unreadable autograded notebook: its mistakes stay unknown
        else:
            works.append(work)
    return works, left_out


# -- fingerprints --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _token_id(token: str) -> int:
    """A token's stable 64-bit number (Python's ``hash`` of a string changes from run to run)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


_PRIME = np.uint64(1_000_003)


def kgram_hashes(tokens: Sequence[str], k: int) -> np.ndarray:
    """The hash of every run of `k` consecutive tokens (int64; empty when there are fewer than `k`)."""
    if len(tokens) < k:
        return np.zeros(0, dtype=np.int64)
    ids = np.fromiter((_token_id(t) for t in tokens), dtype=np.uint64, count=len(tokens))
    count = len(tokens) - k + 1
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):  # a polynomial hash, wrapping modulo 2**64
            hashes = hashes * _PRIME + ids[offset : offset + count]
    return hashes.view(np.int64)


def fingerprints(tokens: Sequence[str], k: int, window: int) -> dict[int, list[int]]:
    """Winnowed fingerprints of a token sequence: hash -> the positions of the runs it stands for.

    copydetect's winnowing (:func:`copydetect.utils.winnow`, the robust winnowing of
    Schleimer, Wilkerson and Aiken, as in MOSS) keeps the smallest hash of every window of
    `window` consecutive runs, so any shared run of ``k + window - 1`` tokens yields a
    shared fingerprint.  The hashes are this module's own (:func:`kgram_hashes`), stable
    from run to run; copydetect's tokenizer turns every name into the same letter, where
    ours keeps the names that carry meaning (:mod:`autograder.integrity.normalise`).
    """
    from copydetect.utils import winnow

    hashes = kgram_hashes(tokens, k)
    if not len(hashes):
        return {}
    selected, positions = winnow(hashes, max(1, min(window, len(hashes))), remove_duplicates=False)
    found: dict[int, list[int]] = {}
    for value, position in zip(selected.tolist(), positions.tolist()):
        found.setdefault(value, []).append(position)
    return found


@dataclass
class Document:
    """One student's tokens of one component, their fingerprints, and where each token came from."""

    tokens: list[str]
    origin: list[tuple[int, int]]
    """Per token: (cell index, statement or word index)."""
    prints: dict[int, list[int]]


def code_document(work: Work, settings: Settings) -> Document:
    """The student's normalised code as one token sequence (cells in release order), fingerprinted."""
    tokens: list[str] = []
    origin: list[tuple[int, int]] = []
    for c, cell in enumerate(work.code):
        if tokens:
            tokens.append(CELL_SEPARATOR)
            origin.append((c, -1))
        for s, statement in enumerate(cell.code.statements):
            parts = code_tokens(statement.text) + [SEPARATOR]
            tokens += parts
            origin += [(c, s)] * len(parts)
    return Document(tokens, origin, fingerprints(tokens, settings.code_k, settings.code_window))


def text_document(work: Work, settings: Settings, boilerplate: set[int]) -> Document:
    """The student's written answers as one word sequence, fingerprinted without the release's own phrases."""
    tokens: list[str] = []
    origin: list[tuple[int, int]] = []
    for c, cell in enumerate(work.answers):
        if tokens:
            tokens.append(CELL_SEPARATOR)
            origin.append((c, -1))
        tokens += [w.text for w in cell.words]
        origin += [(c, i) for i in range(len(cell.words))]
    prints = fingerprints(tokens, settings.text_k, 1)
    return Document(tokens, origin, {h: p for h, p in prints.items() if h not in boilerplate})


# -- pair scores ---------------------------------------------------------------------------

DENSE_ABOVE = 48
"""Features held by more students than this are summed by a matrix product; the rest pair by pair."""


SMALLEST_CLASS = 10
"""Rarity is judged as in a class of at least this many: with two students, nothing would be rare."""


def rarity(df: int | np.ndarray, n: int) -> Any:
    """The weight of a piece `df` of `n` students have: ``log(max(n, SMALLEST_CLASS) / df)``.

    0 for a piece every student of a class of ten or more has: what everyone writes is no evidence.
    """
    return np.log(max(n, SMALLEST_CLASS) / np.asarray(df, dtype=float))


def pair_sums(features: Sequence[Iterable[Hashable]]) -> tuple[np.ndarray, np.ndarray, dict[Hashable, int]]:
    """Rarity-weighted overlaps of every pair of feature sets.

    Parameters
    ----------
    features : sequence of iterables
        One set of features (hashable) per student.

    Returns
    -------
    shared : numpy.ndarray
        ``shared[i, j]``: the summed weight of the features students i and j both have
        (symmetric; the diagonal is meaningless).
    totals : numpy.ndarray
        The summed weight of each student's features.
    df : dict
        How many students have each feature.
    """
    n = len(features)
    members: dict[Hashable, list[int]] = {}
    for i, found in enumerate(features):
        for feature in set(found):
            members.setdefault(feature, []).append(i)
    df = {f: len(m) for f, m in members.items()}
    totals = np.zeros(n)
    shared = np.zeros((n, n))
    if not members or n < 2:
        return shared, totals, df
    weights = {f: float(rarity(d, n)) for f, d in df.items()}
    for f, m in members.items():
        totals[m] += weights[f]
    # Rare features pair by pair (a feature of d students makes d(d-1)/2 pairs), grouped by d so that
    # numpy does the work; common ones by one matrix product (their pairs would be too many).
    by_df: dict[int, list[Hashable]] = {}
    for f, d in df.items():
        if d >= 2:
            by_df.setdefault(d, []).append(f)
    upper = np.zeros(n * n)
    dense = [f for d, fs in by_df.items() if d > DENSE_ABOVE for f in fs]
    for d, fs in by_df.items():
        if d > DENSE_ABOVE:
            continue
        who = np.array([members[f] for f in fs], dtype=np.int64)  # (features, d), ascending rows
        w = np.array([weights[f] for f in fs])
        iu, ju = np.triu_indices(d, 1)
        flat = (who[:, iu] * n + who[:, ju]).ravel()
        upper += np.bincount(flat, weights=np.repeat(w, len(iu)), minlength=n * n)
    shared += upper.reshape(n, n)
    shared += shared.T
    for start in range(0, len(dense), 2048):
        chunk = dense[start : start + 2048]
        x = np.zeros((n, len(chunk)), dtype=np.float32)
        for column, f in enumerate(chunk):
            x[members[f], column] = 1.0
        w = np.array([weights[f] for f in chunk], dtype=np.float32)
        shared += ((x * w) @ x.T).astype(float)
    return shared, totals, df


def _component(
    shared: np.ndarray, totals: np.ndarray, present: np.ndarray, evidence: float, unit: float
) -> tuple[np.ndarray, ...]:
    """(score, alike, rare pieces shared) of every pair for one component; NaN where neither has anything.

    `present` says who has anything at all: a student whose every piece the whole class has
    (weight 0) still has work of their own, which is 0 alike to anyone's.
    """
    denominator = totals[:, None] + totals[None, :]
    alike = np.divide(2 * shared, denominator, out=np.zeros_like(shared), where=denominator > 0)
    alike = np.minimum(alike, 1.0)
    pieces = shared / unit
    score = alike * (1 - np.exp(-pieces / evidence))
    score[~(present[:, None] | present[None, :])] = np.nan
    return score, alike, pieces


def _mistake_scores(works: list[Work], sharpness: float) -> tuple[np.ndarray, dict[MistakeSign, int], int]:
    """Every pair's shared-mistake score, the number of graded students showing each sign, and how many are graded.

    A pair's score is that of the rarest sign of a mistake both show: ``(w / unit) ** sharpness``
    with ``w = log(N / df)`` over the ``N`` graded students and ``unit = log(N / 2)``
    (1 for a sign only these two show).  The rarest, not a sum: one mistake fails every test
    downstream of it too (a wrong gradient fails the training tests), and must count once.
    NaN where either student was not autograded or neither shows any mistake.
    """
    n = len(works)
    graded = [i for i, w in enumerate(works) if w.graded]
    score = np.full((n, n), np.nan)
    counts: Counter[MistakeSign] = Counter(s for i in graded for s in set(works[i].mistakes))
    if len(graded) < 2:
        return score, dict(counts), len(graded)
    n_graded = len(graded)
    unit = float(rarity(2, n_graded))
    best = np.zeros((n, n))
    holders: dict[MistakeSign, list[int]] = {}
    for i in graded:
        for sign in set(works[i].mistakes):
            holders.setdefault(sign, []).append(i)
    for sign, who in holders.items():
        if len(who) >= 2:
            block = np.ix_(who, who)
            best[block] = np.maximum(best[block], float(rarity(len(who), n_graded)))
    with_mistakes = np.array([w.graded and bool(w.mistakes) for w in works])
    known = np.array([w.graded for w in works])
    counted = known[:, None] & known[None, :] & (with_mistakes[:, None] | with_mistakes[None, :])
    score[counted] = (np.minimum(1.0, best / unit) ** sharpness)[counted]
    return score, dict(counts), n_graded


# -- the report ----------------------------------------------------------------------------


@dataclass
class SharedMistake:
    """A sign of a mistake both students of a pair show."""

    check: str
    kind: str
    detail: str
    students: int
    """How many graded students show it."""


@dataclass
class Pair:
    """Two students and how alike their work is."""

    rank: int
    a: str
    b: str
    score: float
    code: float | None
    """Code score (None: neither wrote any code of their own)."""
    text: float | None
    """Written-answer score (None: neither wrote an answer)."""
    mistakes: float | None
    """Shared-mistake score (None: no autograded mistake for either, or not autograded)."""
    code_alike: float
    """Rarity-weighted share of their code fingerprints they have in common (0 to 1)."""
    code_pieces: float
    """Rare code they share, in fingerprints only the two of them have."""
    text_alike: float
    text_pieces: float
    shared_mistakes: list[SharedMistake]
    flagged: bool
    page: str
    """File name of the pair's side-by-side view (in the report's folder)."""


@dataclass
class Commonness:
    """How many students wrote the same code (after normalisation) in one function of a solution cell."""

    grade_id: str
    function: str
    """The function or method ("" for the cell's top level)."""
    most_common: int
    """Students with the most common version."""
    written: int
    """Students with code of their own there."""


@dataclass
class SimilarityReport:
    """The outcome of :func:`compare`."""

    assignment: str
    settings: Settings
    students: list[str]
    """The students compared."""
    left_out: dict[str, str]
    """Students not compared, with why."""
    graded: int
    """Students whose autograded notebook was found (mistakes known)."""
    pairs: list[Pair]
    """The pairs listed: every flagged one, then the closest others, best first."""
    pairs_compared: int
    median: float
    """Median score over every pair compared."""
    cells: list[Commonness]
    """Per function of each solution cell."""
    unparsed: dict[str, list[str]]
    """Students whose code did not parse -> the cells."""
    corpus: Any = field(default=None, repr=False)
    """What the side-by-side views need (the works and their fingerprints)."""

    @property
    def flagged_pairs(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]


@dataclass
class _Corpus:
    works: list[Work]
    code: list[Document]
    text: list[Document]
    code_df: dict[Hashable, int]
    text_df: dict[Hashable, int]
    mistake_df: dict[MistakeSign, int]
    n_graded: int
    versions: list[Counter[tuple[str, ...]]]
    """Per code cell: how many students wrote each normalised version (the empty one included)."""
    statements: list[Counter[str]]
    """Per code cell: how many students wrote each normalised statement."""


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def compare(root: Path, assignment: str, settings: Settings | None = None) -> SimilarityReport:
    """Compare every pair of submissions of `assignment` in the course folder `root`.

    Parameters
    ----------
    root : pathlib.Path
        The course folder (the one holding ``nbgrader_config.py``, ``release/`` and ``submitted/``).
    assignment : str
        The assignment's folder name, e.g. ``"01_shallow_narrow"``.
    settings : Settings, optional

    Returns
    -------
    SimilarityReport
    """
    settings = settings or Settings()
    root = Path(root)
    release = read_release(root, assignment)
    works, left_out = read_work(root, assignment, release)
    n = len(works)
    prose = normalise_text(release.prose)
    boilerplate = set(fingerprints([w.text for w in prose], settings.text_k, 1))
    code_docs = [code_document(w, settings) for w in works]
    text_docs = [text_document(w, settings, boilerplate) for w in works]
    code_shared, code_totals, code_df = pair_sums([d.prints.keys() for d in code_docs])
    text_shared, text_totals, text_df = pair_sums([d.prints.keys() for d in text_docs])
    unit = float(rarity(2, n))
    code_present = np.array([bool(d.prints) for d in code_docs], dtype=bool)
    text_present = np.array([bool(d.prints) for d in text_docs], dtype=bool)
    code, code_alike, code_pieces = _component(code_shared, code_totals, code_present, settings.code_evidence, unit)
    text, text_alike, text_pieces = _component(text_shared, text_totals, text_present, settings.text_evidence, unit)
    mistakes, mistake_df, n_graded = _mistake_scores(works, settings.mistake_sharpness)

    numerator = np.zeros((n, n))
    denominator = np.zeros((n, n))
    for part, weight in ((code, settings.code_weight), (text, settings.text_weight)):
        numerator += weight * np.nan_to_num(part)
        denominator += weight * ~np.isnan(part)
    base = np.divide(numerator, denominator, out=np.zeros((n, n)), where=denominator > 0)
    score = 1 - (1 - base) * (1 - settings.mistake_boost * np.nan_to_num(mistakes))

    iu, ju = np.triu_indices(n, 1)
    scores = score[iu, ju]
    flagged = int(np.count_nonzero(scores >= settings.flag))
    listed = min(len(scores), flagged + settings.also_show)
    top = np.argpartition(-scores, listed - 1)[:listed] if listed else np.zeros(0, dtype=int)
    top = top[np.lexsort((ju[top], iu[top], -scores[top]))]  # best first; ties by student order

    pairs = []
    for rank, index in enumerate(top.tolist(), start=1):
        i, j = int(iu[index]), int(ju[index])
        shared = []
        for sign in sorted(set(works[i].mistakes) & set(works[j].mistakes), key=lambda s: mistake_df.get(s, 0)):
            shared.append(SharedMistake(sign.check, sign.kind, sign.detail, mistake_df.get(sign, 0)))
        pairs.append(Pair(
            rank=rank, a=works[i].student, b=works[j].student, score=float(score[i, j]),
            code=_finite(code[i, j]), text=_finite(text[i, j]), mistakes=_finite(mistakes[i, j]),
            code_alike=float(code_alike[i, j]), code_pieces=float(code_pieces[i, j]),
            text_alike=float(text_alike[i, j]), text_pieces=float(text_pieces[i, j]),
            shared_mistakes=shared, flagged=bool(score[i, j] >= settings.flag), page=f"pair-{rank:04d}.html",
        ))  # fmt: skip

    cell_range = range(len(release.code))
    versions = [Counter(tuple(s.text for s in w.code[c].code.statements) for w in works) for c in cell_range]
    statements = [Counter(t for w in works for t in {s.text for s in w.code[c].code.statements}) for c in cell_range]
    return SimilarityReport(
        assignment=assignment,
        settings=settings,
        students=[w.student for w in works],
        left_out=left_out,
        graded=n_graded,
        pairs=pairs,
        pairs_compared=len(scores),
        median=float(np.median(scores)) if len(scores) else 0.0,
        cells=_commonness(works, release),
        unparsed={w.student: w.unparsed for w in works if w.unparsed},
        corpus=_Corpus(works, code_docs, text_docs, code_df, text_df, mistake_df, n_graded, versions, statements),
    )


def _commonness(works: list[Work], release: Release) -> list[Commonness]:
    """For each function of each solution cell, how many students wrote its most common version."""
    found = []
    for c, key in enumerate(release.code):
        by_function: dict[str, Counter[tuple[str, ...]]] = {}
        for work in works:
            mine: dict[str, list[str]] = {}
            for statement in work.code[c].code.statements:
                mine.setdefault(statement.scope, []).append(statement.text)
            for function, texts in mine.items():
                by_function.setdefault(function, Counter())[tuple(texts)] += 1
        for function, counts in sorted(by_function.items(), key=lambda item: -sum(item[1].values())):
            found.append(Commonness(release.grade_ids[key], function, max(counts.values()), sum(counts.values())))
    return found


def default_output(root: Path, assignment: str) -> Path:
    """Where the report's pages go: ``reports/<assignment>/similarity/``."""
    return Path(root) / "reports" / assignment / "similarity"


def write_report(
    root: Path, assignment: str, out_dir: Path | None = None, settings: Settings | None = None
) -> SimilarityReport:
    """Compare the submissions and write the ranking and a side-by-side page per listed pair.

    Parameters
    ----------
    root : pathlib.Path
        The course folder.
    assignment : str
    out_dir : pathlib.Path, optional
        Default :func:`default_output`; ``index.html`` and ``pair-NNNN.html`` are written there
        (pair pages of an earlier run are removed first).
    settings : Settings, optional

    Returns
    -------
    SimilarityReport
    """
    from .views import write_pages

    report = compare(root, assignment, settings)
    write_pages(report, Path(out_dir) if out_dir is not None else default_output(root, assignment))
    return report


# -- the command line ----------------------------------------------------------------------


def course_root(start: Path) -> Path | None:
    """The nearest folder from `start` upwards that holds ``nbgrader_config.py`` (None: there is none)."""
    for folder in [start, *start.parents]:
        if (folder / "nbgrader_config.py").is_file():
            return folder
    return None


def table(report: SimilarityReport) -> Any:
    """The listed pairs as a rich table (what :func:`main` prints)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def num(value: float | None) -> Text:
        return Text("–" if value is None else f"{value:.2f}")

    # Text(...), never str: rich reads "[...]" in a student id as markup.
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for title in ("rank", "student", "student", "score", "code", "answers", "mistakes", "", "view"):
        grid.add_column(Text(title), justify="right" if title in ("rank", "score", "code", "answers", "mistakes")
                        else "left")  # fmt: skip
    for pair in report.pairs:
        grid.add_row(Text(str(pair.rank)), Text(pair.a), Text(pair.b), num(pair.score), num(pair.code),
                     num(pair.text), num(pair.mistakes), Text("FLAGGED" if pair.flagged else ""),
                     Text(pair.page))  # fmt: skip
    return grid


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder similarity ASSIGNMENT [--root DIR] [--out DIR] [--flag X] [--also-show N]``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the command's name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 (whatever was found: flagged pairs are a reason to look, not an error),
        2 for an assignment without a release.
    """
    parser = argparse.ArgumentParser(
        prog="autograder similarity",
        description="Rank pairs of students by how alike their work is (code, written answers, shared rare "
        "mistakes) and write a side-by-side view of each listed pair.",
    )
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=None, help="the course folder (default: the one holding "
                        "nbgrader_config.py, from the current folder up)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="default: reports/ASSIGNMENT/similarity/")
    parser.add_argument("--flag", type=float, default=Settings.flag, help="flag pairs scoring this or more")
    parser.add_argument("--also-show", type=int, default=Settings.also_show,
                        help="pairs below the threshold listed too")  # fmt: skip
    args = parser.parse_args(argv)
    root = args.root if args.root is not None else course_root(Path.cwd())
    if root is None:
        print("autograder similarity: no nbgrader_config.py here or in a folder above: run it in the course "
              "folder, or name it with --root", file=sys.stderr)  # fmt: skip
        return 2
    settings = Settings(flag=args.flag, also_show=max(0, args.also_show))
    out_dir = args.out if args.out is not None else default_output(root, args.assignment)
    try:
        report = write_report(root, args.assignment, out_dir, settings)
    except FileNotFoundError as exc:
        print(f"autograder similarity: {exc}", file=sys.stderr)
        return 2
    from ..cli import show  # rich on a terminal, plain text at its natural width elsewhere

    if report.pairs:
        show(table(report))
    flagged = len(report.flagged_pairs)
    print(f"{len(report.students)} submissions, {report.pairs_compared} pairs compared, {flagged} flagged "
          f"(score >= {settings.flag:g}); mistakes known for {report.graded}.")  # fmt: skip
    for student, why in report.left_out.items():
        print(f"not compared: {student}: {why}")
    print(f"Similarity report: {out_dir / 'index.html'}")
    return 0
