"""One database engine for the process that records grades.

nbgrader opens a fresh :class:`nbgrader.api.Gradebook` for every step that reads
or writes grades: about a dozen per graded notebook.  Each one makes its own
SQLAlchemy engine, so every query is compiled again (SQLAlchemy caches compiled
statements per engine) and the schema is checked again, table by table.  For
one ``nbgrader autograde`` run that is noise; for a class graded in one process
it was a third of the recording time.

:func:`shared_engines` keeps nbgrader's code as it is and hands every
Gradebook of the same database the same engine, whose schema is checked once.
What is written, and when it is committed, does not change.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from sqlalchemy import Engine
from sqlalchemy import create_engine as _create_engine

from ..upstream import patch_gradebook_engines

_lock = threading.Lock()
_active: dict[str, Any] = {"depth": 0}  # one set of patches however many runs use it at once


@contextlib.contextmanager
def shared_engines() -> Iterator[dict[str, Engine]]:
    """While active, every nbgrader Gradebook of one database URL shares one engine.

    Re-entrant: nested or concurrent uses share the patches and the engines; the last
    one to leave disposes of the engines and puts nbgrader's behaviour back.

    Yields
    ------
    dict
        The engines made so far, by URL and options.
    """
    with _lock:
        if _active["depth"] == 0:
            _active.update(_patch())
        _active["depth"] += 1
        engines = _active["engines"]
    try:
        yield engines
    finally:
        with _lock:
            _active["depth"] -= 1
            if _active["depth"] == 0:
                _active.pop("restore")()


def _patch() -> dict[str, Any]:
    """Patch nbgrader for shared engines; return them and how to undo it."""
    engines: dict[str, Engine] = {}
    checked: set[int] = set()

    def create_engine(url: Any, **kwargs: Any) -> Engine:
        key = f"{url}|{sorted(kwargs.items())}"
        with _lock:
            if key not in engines:
                engines[key] = _create_engine(url, **kwargs)
            return engines[key]

    def create_all(original: Any, bind: Any) -> None:
        # nbgrader's tables exist after the first check on an engine; the later checks
        # are no-ops that each cost a dozen PRAGMA queries.
        if id(bind) in checked:
            return
        original(bind)
        if any(bind is engine for engine in engines.values()):
            checked.add(id(bind))

    put_back = patch_gradebook_engines(create_engine, create_all)

    def restore() -> None:
        for engine in engines.values():
            engine.dispose()
        engines.clear()
        put_back()

    return {"engines": engines, "restore": restore}
