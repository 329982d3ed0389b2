"""Normalise what students wrote, so that a disguised copy looks like its original and independent work does not.

Solution code (:func:`normalise_code`)
    The student's solution cell is parsed with :mod:`ast` and compared with the
    same cell of the release: every statement the release already has (the
    class, the method headers, docstrings, ``assert x.shape == y_true.shape``,
    ``return y``, a ``raise NotImplementedError()`` left in) is dropped, so only
    the student's own statements remain.  Those are normalised:

    - comments, docstrings, blank lines and layout disappear (:func:`ast.unparse`
      writes every statement the same way);
    - the names a function binds (its parameters and local variables) become
      ``v1``, ``v2``, ... in the order they first appear; names from outside the
      function (``np``, ``self``'s attributes, methods) are kept, as they carry the
      meaning a copier cannot rename;
    - statements that do not depend on each other (``dloss_dw1 = ...`` and
      ``dloss_dw2 = ...``) are put in one canonical order (sorted by their text with
      the local names masked); a statement never moves across one it reads from or
      writes to, nor across a ``return``, a call statement or a write to an
      attribute.

    Code that does not parse is normalised line by line instead (comments and
    layout dropped, the release's lines removed, names kept), and says so.

Written answers (:func:`normalise_text`)
    Lower-cased words without punctuation or Markdown, without the most common
    English function words (a changed "the" or "so" must not hide a copied
    sentence), with a plural "s" removed; the release's placeholder ("YOUR ANSWER
    HERE") is removed where the student left it.

Both keep where each token came from (a statement's lines, a word's characters),
for the side-by-side view.
"""

from __future__ import annotations

import ast
import functools
import gc
import heapq
import re
from collections import Counter
from dataclasses import dataclass

# -- code ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement of a student's own code, in canonical form.

    Attributes
    ----------
    text : str
        The statement as :func:`ast.unparse` writes it after renaming (for a
        compound statement such as ``for`` or ``def``: its header line only).
    first_line, last_line : int
        Where it stands in the cell as handed in (1-based, inclusive).
    scope : str
        The functions and classes it is in, e.g. ``"ShallowNarrowExercise.forward"`` ("" at the top).
    """

    text: str
    first_line: int
    last_line: int
    scope: str = ""


@dataclass(frozen=True)
class NormalisedCode:
    """A solution cell reduced to the student's own statements.

    Attributes
    ----------
    statements : tuple of Statement
        In canonical order.
    parsed : bool
        False when Python could not parse the cell: the statements are then its
        lines, without comments, layout or the release's lines, and names are not
        normalised.
    """

    statements: tuple[Statement, ...]
    parsed: bool


def parse(source: str) -> ast.Module:
    """:func:`ast.parse` with the garbage collector paused.

    CPython 3.11 can fail with "SystemError: AST constructor recursion depth
    mismatch" when a collection runs finalizers in the middle of building the tree
    (python/cpython#106905); a long test session full of kernels and sockets hit it (the example answers
    of :mod:`autograder.course.submissions` are parsed here too).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source)
    finally:
        if enabled:
            gc.enable()


_BODY_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
"""Fields of a compound statement that hold blocks of statements rather than its header."""

_UNREADABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
"""What :func:`parse` or :func:`ast.unparse` may raise on a pathological cell (null bytes, deep nesting)."""


def _header_key(node: ast.stmt) -> str:
    """A statement's identity without position: the whole statement, or a compound statement's header."""
    parts = [type(node).__name__]
    for name, value in ast.iter_fields(node):
        if name in _BODY_FIELDS:
            continue
        if isinstance(value, ast.AST):
            parts.append(ast.dump(value))
        elif isinstance(value, list):
            parts.append(repr([ast.dump(v) if isinstance(v, ast.AST) else v for v in value]))
        else:
            parts.append(repr(value))
    return "|".join(parts)


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    """The blocks of statements inside a compound statement (none for a simple one)."""
    if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
        handlers = [h.body for h in node.handlers]  # type: ignore[attr-defined]
        return [node.body, *handlers, node.orelse, node.finalbody]  # type: ignore[attr-defined]
    return [getattr(node, name) for name in ("body", "orelse") if isinstance(getattr(node, name, None), list)]


def _is_compound(node: ast.stmt) -> bool:
    return any(_blocks(node))


def _is_docstring(node: ast.stmt) -> bool:
    """A bare string statement: a docstring, or a string used as a comment."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _starter_keys(starter: str) -> Counter[tuple[tuple[str, ...], str]]:
    """Every statement of the released cell, by (enclosing defs, statement key), counted (a copy to use up)."""
    return Counter(_released_statements(starter))


@functools.lru_cache(maxsize=64)
def _released_statements(starter: str) -> Counter[tuple[tuple[str, ...], str]]:
    """:func:`_starter_keys`, computed once per released cell (every submission has the same)."""
    keys: Counter[tuple[tuple[str, ...], str]] = Counter()
    try:
        tree = parse(starter)
    except _UNREADABLE:
        return keys

    def walk(body: list[ast.stmt], scope: tuple[str, ...]) -> None:
        for node in body:
            keys[(scope, _header_key(node))] += 1
            inner = scope + (node.name,) if isinstance(node, _DEFS) else scope
            for block in _blocks(node):
                walk(block, inner)

    walk(tree.body, ())
    return keys


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class _Scope:
    """The names one function binds, and the canonical name each got so far."""

    def __init__(self, bound: set[str], depth: int) -> None:
        self.bound = bound
        self.depth = depth
        self.names: dict[str, str] = {}

    def canonical(self, name: str) -> str:
        if name not in self.names:
            number = len(self.names) + 1
            self.names[name] = f"v{number}" if self.depth <= 1 else f"v{self.depth}_{number}"
        return self.names[name]


def _arguments(args: ast.arguments) -> list[ast.arg]:
    """A signature's parameters in the order they are written."""
    found = [*args.posonlyargs, *args.args]
    if args.vararg:
        found.append(args.vararg)
    found += args.kwonlyargs
    if args.kwarg:
        found.append(args.kwarg)
    return found


def _bound_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The local names of a function: its parameters and what its body binds (not nested functions' names)."""
    bound = {a.arg for a in _arguments(function.args)}
    declared: set[str] = set()
    stack: list[ast.AST] = list(function.body) if isinstance(function.body, list) else [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (*_DEFS,)):
            bound.add(node.name)
            stack.extend(node.decorator_list)
            continue  # their bodies are scopes of their own
        elif isinstance(node, ast.Lambda):
            stack.extend(node.args.defaults)
            continue
        elif type(node).__name__ in ("MatchAs", "MatchStar") and getattr(node, "name", None):
            bound.add(node.name)  # type: ignore[attr-defined]
        stack.extend(ast.iter_child_nodes(node))
    return bound - declared


class _Renamer(ast.NodeVisitor):
    """Gives every local name its canonical name, in the order the visit meets it."""

    def __init__(self, chain: list[_Scope]) -> None:
        self.chain = chain

    def name(self, name: str) -> str:
        for scope in reversed(self.chain):
            if name in scope.bound:
                return scope.canonical(name)
        return name  # a global, a builtin, an attribute's owner from outside: kept

    def visit_Name(self, node: ast.Name) -> None:
        node.id = self.name(node.id)

    def visit_arg(self, node: ast.arg) -> None:
        node.arg = self.name(node.arg)
        if node.annotation is not None:
            self.visit(node.annotation)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            self.visit(default)
        self.chain.append(_Scope(_bound_names(node), len(self.chain)))
        try:
            for arg in _arguments(node.args):
                self.visit_arg(arg)
            self.visit(node.body)
        finally:
            self.chain.pop()

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            node.name = self.name(node.name)

    def visit_alias(self, node: ast.alias) -> None:
        if node.asname:
            node.asname = self.name(node.asname)
        elif "." not in node.name and self.name(node.name) != node.name:
            node.asname = self.name(node.name)

    def generic_visit(self, node: ast.AST) -> None:
        for field in ("name",):  # MatchAs / MatchStar capture names
            value = getattr(node, field, None)
            if type(node).__name__ in ("MatchAs", "MatchStar") and isinstance(value, str):
                setattr(node, field, self.name(value))
        super().generic_visit(node)


_IDENTIFIER = re.compile(r"(?<![.\w])[^\W\d]\w*")


def _masked(node: ast.stmt, bound: set[str]) -> str:
    """A statement's text with its local names masked: its place in the canonical order, whatever its names."""
    return _IDENTIFIER.sub(lambda m: "_" if m.group() in bound else m.group(), ast.unparse(node))


def _effects(node: ast.stmt) -> tuple[set[str], set[str]] | None:
    """(names read, names written) of an assignment to plain names; None for anything that cannot move.

    Only assignments to names move: a call statement, a write to an attribute or an
    item, a ``return``, an ``assert``, a compound statement may have effects the
    names do not show, so they stay where they are and nothing moves across them.
    """
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    else:
        return None
    written: set[str] = set()
    pending: list[ast.expr] = list(targets)
    while pending:
        target = pending.pop()
        if isinstance(target, ast.Name):
            written.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            pending.extend(target.elts)
        elif isinstance(target, ast.Starred):
            pending.append(target.value)
        else:
            return None
    read = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.NamedExpr):
            return None
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
            read.add(inner.id)
    if isinstance(node, ast.AugAssign):
        read |= written
    return read, written


def canonical_order(block: list[ast.stmt], bound: set[str]) -> list[ast.stmt]:
    """The statements of a block in canonical order: sorted where they are independent, else as written.

    A topological sort of the "must come before" relation (one writes a name the
    other reads or writes; either cannot move), taking among the statements free to
    go next the one whose masked text sorts first.
    """
    n = len(block)
    if n < 2:
        return list(block)
    effects = [_effects(node) for node in block]
    before: list[set[int]] = [set() for _ in range(n)]
    after: list[list[int]] = [[] for _ in range(n)]
    for j in range(n):
        for i in range(j):
            a, b = effects[i], effects[j]
            if a is None or b is None or a[1] & (b[0] | b[1]) or b[1] & a[0]:
                before[j].add(i)
                after[i].append(j)
    keys = [_masked(node, bound) if effects[i] is not None else "" for i, node in enumerate(block)]
    ready = [(keys[i], i) for i in range(n) if not before[i]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(block[i])
        for j in after[i]:
            before[j].discard(i)
            if not before[j]:
                heapq.heappush(ready, (keys[j], j))
    return order


class _Normaliser:
    """Walks a student's cell: drops the release's statements, orders, renames and writes the rest."""

    def __init__(self, starter: Counter[tuple[tuple[str, ...], str]]) -> None:
        self.starter = starter
        self.out: list[Statement] = []
        self.released: dict[int, bool] = {}
        """Statement (by id) -> whether it is one of the release's (a compound one: its header)."""
        self.untouched: dict[int, bool] = {}
        """Statement (by id) -> whether it and everything inside it are the release's."""

    def mark(self, body: list[ast.stmt], scope: tuple[str, ...]) -> bool:
        """Find which statements of `body` (and below) are the release's; True when all of them are.

        Each release statement matches one student statement.  A block is matched from its end:
        where a student's statement equals one of the release's (their own ``return y`` above
        the release's), the release's is the later one, after the stub the student replaced.
        """
        for node in reversed(body):
            if not _is_docstring(node):
                key = (scope, _header_key(node))
                self.released[id(node)] = self.starter[key] > 0
                if self.released[id(node)]:
                    self.starter[key] -= 1
        everything = True
        for node in body:
            inner = scope + (node.name,) if isinstance(node, _DEFS) else scope
            inside = [self.mark(block, inner) for block in _blocks(node)]  # every block, no short cut
            whole = self.released.get(id(node), True) and all(inside)
            self.untouched[id(node)] = whole
            everything = everything and whole
        return everything

    def emit(self, text: str, first: int, last: int, scope: tuple[str, ...]) -> None:
        self.out.append(Statement(text, first, max(first, last), ".".join(scope)))

    def block(self, body: list[ast.stmt], scope: tuple[str, ...], chain: list[_Scope]) -> None:
        # The release's own statements go, and so do compound ones with nothing of the student's inside
        # (the release's `train`): what is left is the student's own code and what encloses it.
        items = [node for node in body if not _is_docstring(node) and not self.untouched[id(node)]]
        for node in canonical_order(items, chain[-1].bound):
            self.statement(node, self.released[id(node)], scope, chain)

    def statement(self, node: ast.stmt, released: bool, scope: tuple[str, ...], chain: list[_Scope]) -> None:
        renamer = _Renamer(chain)
        if isinstance(node, _FUNCTIONS):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            node.name = renamer.name(node.name)  # a nested function is a local name of its function
            for decorator in node.decorator_list:
                renamer.visit(decorator)
            inner = [*chain, _Scope(_bound_names(node), chain[-1].depth + 1)]
            for arg in _arguments(node.args):  # parameters are named first, in signature order
                _Renamer(inner).visit_arg(arg)
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                renamer.visit(default)
            if not released:
                decorators = "".join(f"@{ast.unparse(d)} " for d in node.decorator_list)
                header = f"{decorators}def {node.name}({ast.unparse(node.args)}):"
                self.emit(header, first, node.body[0].lineno - 1, scope + (node.name,))
            self.block(node.body, scope + (node.name,), inner)
            return
        if isinstance(node, ast.ClassDef):
            if not released:
                bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
                self.emit(f"class {node.name}({bases}):", node.lineno, node.body[0].lineno - 1, scope + (node.name,))
            # Names bound in a class body are its attributes and methods: public, never renamed.
            self.block(node.body, scope + (node.name,), [*chain, _Scope(set(), chain[-1].depth)])
            return
        if not _is_compound(node):
            renamer.visit(node)
            self.emit(ast.unparse(node), node.lineno, node.end_lineno or node.lineno, scope)
            return
        # Other compound statements: the header (renamed, in reading order), then each block.
        for name, value in ast.iter_fields(node):
            if name in _BODY_FIELDS:
                continue
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, ast.AST):
                    renamer.visit(part)
        for handler in getattr(node, "handlers", []):
            renamer.visit_ExceptHandler(handler)  # its exception type and name, not its block
        if not released:
            self.emit(self._header(node), node.lineno, _first_body_line(node) - 1, scope)
        for label, block, line in self._labelled_blocks(node):
            if label and not released:
                self.emit(label, line, line, scope)
            self.block(block, scope, chain)

    @staticmethod
    def _header(node: ast.stmt) -> str:
        """The first line of a compound statement, as :func:`ast.unparse` writes it."""
        stub = _without_bodies(node)
        return ast.unparse(stub).splitlines()[0]

    @staticmethod
    def _labelled_blocks(node: ast.stmt) -> list[tuple[str, list[ast.stmt], int]]:
        """Each block of a compound statement with the line that opens it ("" for the first)."""
        blocks: list[tuple[str, list[ast.stmt], int]] = [("", node.body, node.lineno)]  # type: ignore[attr-defined]
        for handler in getattr(node, "handlers", []):
            label = "except" + (f" {ast.unparse(handler.type)}" if handler.type else "")
            label += f" as {handler.name}:" if handler.name else ":"
            blocks.append((label, handler.body, handler.lineno))
        orelse = getattr(node, "orelse", [])
        if orelse:
            blocks.append(("else:", orelse, orelse[0].lineno))
        finalbody = getattr(node, "finalbody", [])
        if finalbody:
            blocks.append(("finally:", finalbody, finalbody[0].lineno))
        return blocks


def _without_bodies(node: ast.stmt) -> ast.stmt:
    """A shallow copy of a compound statement whose blocks are a single ``...``."""
    clone = type(node)(**{name: value for name, value in ast.iter_fields(node)})  # type: ignore[call-arg]
    for name in ("body", "orelse", "finalbody"):
        if isinstance(getattr(clone, name, None), list):
            setattr(clone, name, [ast.Expr(ast.Constant(...))] if name == "body" else [])
    if hasattr(clone, "handlers"):
        clone.handlers = []  # type: ignore[attr-defined]
        if not clone.finalbody:  # type: ignore[attr-defined]
            clone.finalbody = [ast.Expr(ast.Constant(...))]  # type: ignore[attr-defined]
    return ast.fix_missing_locations(clone)


def _first_body_line(node: ast.stmt) -> int:
    body = getattr(node, "body", None)
    return body[0].lineno if body else node.lineno + 1


def _strip_comment(line: str) -> str:
    """A line of Python without its comment (a ``#`` outside quotes)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i]
    return line


def _by_lines(source: str, starter: str) -> NormalisedCode:
    """The fallback for code that does not parse: its lines, without comments, layout or the release's lines."""
    released = Counter(" ".join(_strip_comment(line).split()) for line in starter.splitlines())
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        text = " ".join(_strip_comment(line).split())
        if not text:
            continue
        if released[text] > 0:
            released[text] -= 1
            continue
        out.append(Statement(text, number, number))
    return NormalisedCode(tuple(out), parsed=False)


def normalise_code(source: str, starter: str = "") -> NormalisedCode:
    """The student's own statements of a solution cell, normalised (see the module's docstring).

    Parameters
    ----------
    source : str
        The cell as the student handed it in.
    starter : str, optional
        The same cell in the release; its statements are removed.

    Returns
    -------
    NormalisedCode
    """
    try:
        tree = parse(source)
        normaliser = _Normaliser(_starter_keys(starter))
        normaliser.mark(tree.body, ())
        normaliser.block(tree.body, (), [_Scope(set(), 0)])
        return NormalisedCode(tuple(normaliser.out), parsed=True)
    except _UNREADABLE:
        return _by_lines(source, starter)


_TOKEN = re.compile(
    r"[^\W\d]\w*"  # names
    r"|\d[\w.]*(?:[eE][-+]?\d+)?|\.\d[\w.]*"  # numbers
    r"|\*\*=?|//=?|->|:=|<<=?|>>=?|[-+*/%@&|^<>=!]=?"  # operators
    r"|\S"  # anything else, one character at a time
)


def code_tokens(text: str) -> list[str]:
    """The tokens of one normalised statement (a statement's text is valid Python, or a line of it)."""
    return _TOKEN.findall(text)


# -- written answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One word of a written answer, normalised, with where it stands in the text."""

    text: str
    start: int
    end: int


_WORD = re.compile(r"\w+(?:['’.]\w+)*")

STOP_WORDS = frozenset(
    """a an the and or but if then so as of at by for with to from in into on onto off out up down over under
    is are was were be been being am do does did doing has have had having it its it's this that these those there
    here i we you he she they me us him her them my our your his their which who whom whose what when where why how
    not no nor too very can could will would shall should may might must just also than because while about
    s t""".split()
)
"""English function words, left out: a copier changes them freely and everyone writes them."""


def _word(token: str) -> str:
    """A word's normal form: lower case, a plural or third-person "s" removed."""
    word = token.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        word = word[:-1]
    return word


def normalise_text(text: str, starter: str = "") -> list[Word]:
    """The words of a written answer that count, normalised (see the module's docstring).

    Parameters
    ----------
    text : str
        The answer as written (Markdown).
    starter : str, optional
        The release's placeholder for it, removed where it is still there.
    """
    words = [Word(_word(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]
    placeholder = [_word(m.group()) for m in _WORD.finditer(starter)]
    if placeholder:
        for start in range(len(words) - len(placeholder) + 1):
            if [w.text for w in words[start : start + len(placeholder)]] == placeholder:
                del words[start : start + len(placeholder)]
                break
    return [w for w in words if w.text not in STOP_WORDS]
