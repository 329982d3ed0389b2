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

import nbgrader.api
from sqlalchemy import Engine
from sqlalchemy import create_engine as _create_engine

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
    """Patch nbgrader.api for shared engines; return them and how to undo it."""
    engines: dict[str, Engine] = {}
    checked: set[int] = set()
    metadata = nbgrader.api.Base.metadata
    original_create_engine = nbgrader.api.create_engine
    shadowed = metadata.__dict__.get("create_all")  # normally absent: the class's method
    original_create_all = metadata.create_all

    def create_engine(url: Any, **kwargs: Any) -> Engine:
        key = f"{url}|{sorted(kwargs.items())}"
        with _lock:
            if key not in engines:
                engines[key] = _create_engine(url, **kwargs)
            return engines[key]

    def create_all(bind: Any, *args: Any, **kwargs: Any) -> None:
        # nbgrader's tables exist after the first check on an engine; the later checks
        # are no-ops that each cost a dozen PRAGMA queries.
        if id(bind) in checked:
            return
        original_create_all(bind, *args, **kwargs)
        if any(bind is engine for engine in engines.values()):
            checked.add(id(bind))

    def restore() -> None:
        for engine in engines.values():
            engine.dispose()
        engines.clear()
        nbgrader.api.create_engine = original_create_engine
        if shadowed is None:
            del metadata.create_all  # the class's method again
        else:
            metadata.create_all = shadowed

    nbgrader.api.create_engine = create_engine
    metadata.create_all = create_all  # type: ignore[method-assign]
    return {"engines": engines, "restore": restore}
