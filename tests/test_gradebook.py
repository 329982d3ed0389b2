"""One database engine for all the Gradebooks nbgrader opens while a class is recorded."""

from __future__ import annotations

from pathlib import Path

import nbgrader.api
from nbgrader.api import Gradebook
from sqlalchemy import MetaData

from autograder.batch.gradebook import shared_engines


def test_gradebooks_share_one_engine_and_check_the_schema_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "test")  # no alembic subprocess
    real_create_all = MetaData.create_all
    schema_checks = []

    def counted(self, bind, *args, **kwargs):
        schema_checks.append(bind)
        return real_create_all(self, bind, *args, **kwargs)

    monkeypatch.setattr(MetaData, "create_all", counted)
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with shared_engines() as engines:
        with Gradebook(url, "course") as first:
            first.add_student("ann")
        with Gradebook(url, "course") as second:
            assert second.engine is first.engine
            assert [s.id for s in second.students] == ["ann"]
        assert len(engines) == 1 and len(schema_checks) == 1
    # nbgrader's own behaviour is back: a new engine, a schema check of its own.
    assert "create_all" not in vars(nbgrader.api.Base.metadata)
    with Gradebook(url, "course") as third:
        assert third.engine is not first.engine
        assert [s.id for s in third.students] == ["ann"]
    assert len(schema_checks) == 2


def test_nested_uses_share_the_patches_and_the_last_one_out_undoes_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "test")
    original = nbgrader.api.create_engine
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with shared_engines() as outer:
        with shared_engines() as inner:
            assert inner is outer
            with Gradebook(url, "course") as gb:
                engine = gb.engine
        assert nbgrader.api.create_engine is not original  # the outer run still shares
        with Gradebook(url, "course") as gb:
            assert gb.engine is engine
    assert nbgrader.api.create_engine is original
    assert "create_all" not in vars(nbgrader.api.Base.metadata)
