"""One database engine for all the Gradebooks nbgrader opens while a class is recorded."""

from __future__ import annotations

from pathlib import Path

import nbgrader.api
from nbgrader.api import Gradebook

from autograder.gradebook import shared_engines


def test_gradebooks_share_one_engine_and_check_the_schema_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "test")  # no alembic subprocess
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    metadata = nbgrader.api.Base.metadata
    checks = []
    with shared_engines() as engines:
        real_create_all = type(metadata).create_all
        inner = metadata.create_all
        metadata.create_all = lambda bind, *a, **k: (checks.append(bind), inner(bind, *a, **k))[1]
        with Gradebook(url, "course") as first:
            first.add_student("ann")
        with Gradebook(url, "course") as second:
            assert second.engine is first.engine
            assert [s.id for s in second.students] == ["ann"]
        metadata.create_all = inner
        assert len(engines) == 1 and len(checks) == 2  # both asked; only the first ran the DDL checks
    assert metadata.create_all.__func__ is real_create_all  # nbgrader's own behaviour is back
    with Gradebook(url, "course") as third:
        assert third.engine is not first.engine
        assert [s.id for s in third.students] == ["ann"]
