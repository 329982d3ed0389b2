"""Contract tests of autograder/upstream.py: the private parts of nbgrader, nbclient, jupyter_client we rely on.

Each test exercises one use for real (a real kernel, a real gradebook, a real
process pool) and, when it fails, says which library changed from the version
the adapter was checked against, so an upgrade shows where to look.
"""

from __future__ import annotations

import ast
import asyncio
import multiprocessing
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder import upstream


def changed(library: str, what: str) -> str:
    """The failure message: what no longer holds, and against which version it was checked."""
    installed = sys.version.split()[0] if library == "python" else version(library)
    return (
        f"{library} {installed} (autograder/upstream.py was checked against {upstream.CHECKED_AGAINST[library]}): "
        f"{what}. Adapt autograder/upstream.py, not its callers."
    )


# -- jupyter_client ---------------------------------------------------------------------------------


class _RecordingManager(upstream.KernelManagerHooks, AsyncKernelManager):
    calls: list[tuple[str, Any]]

    def before_start(self, kw: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("before_start", Path(self.connection_file).exists() if self.connection_file else False))
        return kw

    def before_launch(self, cmd: list[str], kw: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        self.calls.append(("before_launch", Path(self.connection_file).exists()))
        return cmd, kw

    def after_cleanup(self, restart: bool) -> None:
        self.calls.append(("after_cleanup", restart))


class _RecordingClient(upstream.KernelClientHooks, AsyncKernelClient):
    waited: list[float | None]

    async def wait_until_ready(self, timeout: float | None) -> None:
        self.waited.append(timeout)
        reply = await self._async_get_shell_msg_after(self.kernel_info(), timeout)
        self.accept_kernel_info(reply)
        assert await self.kernel_alive()

    async def _async_get_shell_msg_after(self, msg_id: str, timeout: float | None) -> dict[str, Any]:
        while True:
            reply = await self.shell_channel.get_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply


def test_kernel_manager_and_client_hooks_run_where_jupyter_client_starts_and_cleans_up(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[tuple[str, Any]], list[float | None], bool]:
        km = _RecordingManager(connection_file=str(tmp_path / "kernel.json"))
        km.calls = []
        km.client_factory = _RecordingClient
        await km.start_kernel(cwd=str(tmp_path))
        kc = km.client()
        kc.waited = []
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            alive = await kc.kernel_alive()
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return km.calls, kc.waited, alive

    calls, waited, alive = asyncio.run(scenario())
    assert calls == [("before_start", False), ("before_launch", True), ("after_cleanup", False)], changed(
        "jupyter_client", "_async_pre_start_kernel / _async_cleanup_resources no longer frame a kernel's start and end"
    )
    assert waited == [60] and alive, changed("jupyter_client", "wait_for_ready no longer goes through _async_wait_for_ready")


# -- nbclient / nbconvert -----------------------------------------------------------------------------


def test_execute_hooks_see_a_timeout_and_clean_the_kernel_up(tmp_path: Path) -> None:
    from nbconvert.preprocessors import ExecutePreprocessor

    class Recording(upstream.ExecuteHooks, ExecutePreprocessor):
        timeouts: list[int] = []

        def on_cell_timeout(self, timeout: int, cell: Any) -> None:
            self.timeouts.append(timeout)

    nb = new_notebook(cells=[new_code_cell("import time\ntime.sleep(30)")])
    ep = Recording(timeout=2, interrupt_on_timeout=True, allow_errors=True)
    ep.nb = nb
    ep.check_assign_resources({"metadata": {"path": str(tmp_path)}})
    assert ep.resources == {"metadata": {"path": str(tmp_path)}}, changed(
        "nbconvert", "_check_assign_resources no longer keeps the resources"
    )
    # The steps of SecureExecute._start_kernel (nbclient's setup_kernel, whose exit would clean up again).
    ep.km = km = ep.create_kernel_manager()
    ep.start_new_kernel(cwd=str(tmp_path))
    ep.start_new_kernel_client()
    try:
        ep.execute_cell(nb.cells[0], 0)
    finally:
        ep.shutdown_kernel = "immediate"
        ep.cleanup_kernel()
    assert ep.km is None and ep.kc is None, changed("nbclient", "_cleanup_kernel no longer forgets the kernel")
    assert Recording.timeouts == [2], changed("nbclient", "a cell's timeout no longer goes through _async_handle_timeout")
    assert not asyncio.run(km.is_alive())


def test_nbgrader_execute_forces_its_kernel_manager_and_secure_execute_keeps_the_configured_one() -> None:
    # nbgrader's Execute passes kernel_manager_class=AsyncKernelManager as a keyword argument,
    # which beats the configuration: SecureExecute must put the configured one back.
    from nbgrader.preprocessors import Execute

    from autograder.kernels.forkserver import ForkedKernelManager
    from autograder.kernels.sandbox import SandboxedKernelManager
    from autograder.nbgrader_plugins import SecureExecute

    config = Config()
    config.Execute.kernel_manager_class = ForkedKernelManager
    assert Execute(config=config).kernel_manager_class is AsyncKernelManager, changed(
        "nbgrader", "Execute no longer forces AsyncKernelManager (SecureExecute.__init__ can be simpler)"
    )
    assert SecureExecute(config=config).kernel_manager_class is ForkedKernelManager
    section = Config()
    section.SecureExecute.kernel_manager_class = "autograder.kernels.forkserver.ForkedKernelManager"
    assert SecureExecute(config=section).kernel_manager_class is ForkedKernelManager
    assert SecureExecute().kernel_manager_class is SandboxedKernelManager
    assert SecureExecute(kernel_manager_class=AsyncKernelManager).kernel_manager_class is AsyncKernelManager


# -- nbgrader -------------------------------------------------------------------------------------------


def test_hidden_tests_are_removed_as_nbgrader_removes_them() -> None:
    cell = new_code_cell("assert True\n### BEGIN HIDDEN TESTS\nrun_check('x.y', globals())\n### END HIDDEN TESTS\n")
    assert upstream.remove_hidden_tests(cell), changed("nbgrader", "_remove_hidden_test_region no longer says it removed")
    assert "run_check" not in cell.source and "assert True" in cell.source
    assert not upstream.remove_hidden_tests(new_code_cell("print(1)"))


def test_nbgrader_s_default_steps_are_a_fresh_list_of_preprocessor_classes() -> None:
    from nbgrader.converters import Autograde, GenerateAssignment
    from nbgrader.preprocessors import ClearSolutions, SaveCells

    steps = upstream.default_steps(GenerateAssignment, "preprocessors")
    assert ClearSolutions in steps and SaveCells in steps, changed("nbgrader", "GenerateAssignment's default steps")
    steps.append(int)
    assert int not in upstream.default_steps(GenerateAssignment, "preprocessors")
    assert upstream.default_steps(Autograde, "sanitize_preprocessors")


def test_gradebooks_get_their_engine_and_schema_check_through_the_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import nbgrader.api
    import sqlalchemy

    # nbgrader runs `alembic` from PATH to create a gradebook: this environment's.
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))

    made: list[str] = []
    checks: list[Any] = []

    def create_engine(url: Any, **kwargs: Any) -> Any:
        made.append(str(url))
        return sqlalchemy.create_engine(url, **kwargs)

    def create_all(original: Any, bind: Any) -> None:
        checks.append(bind)
        original(bind)

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    restore = upstream.patch_gradebook_engines(create_engine, create_all)
    try:
        with nbgrader.api.Gradebook(url) as gb:
            gb.add_student("ann")
        with nbgrader.api.Gradebook(url) as gb:
            assert [s.id for s in gb.students] == ["ann"]
    finally:
        restore()
    assert made == [url, url] and len(checks) == 2, changed(
        "nbgrader", "Gradebook no longer builds its engine with nbgrader.api.create_engine and Base.metadata.create_all"
    )
    assert nbgrader.api.create_engine is sqlalchemy.create_engine
    assert "create_all" not in nbgrader.api.Base.metadata.__dict__


# -- the standard library --------------------------------------------------------------------------------


def _square(n: int) -> int:
    return n * n


def test_a_process_pool_s_workers_can_be_stopped() -> None:
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver"))
    try:
        assert pool.submit(_square, 3).result(timeout=60) == 9
        processes = upstream.pool_processes(pool)
        assert len(processes) == 1 and processes[0].is_alive(), changed(
            "python", "ProcessPoolExecutor._processes no longer maps pids to the worker processes"
        )
    finally:
        pool.shutdown(wait=True)


class _Holder:
    pass


def _register_then_leave(path: str) -> None:
    holder = _Holder()
    upstream.at_process_exit(holder, lambda: Path(path).write_text("ran"))
    globals()["_kept"] = holder  # alive until the process exits


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_multiprocessing_worker_runs_its_exit_callbacks(tmp_path: Path, method: str) -> None:
    marker = tmp_path / "ran"
    process = multiprocessing.get_context(method).Process(target=_register_then_leave, args=(str(marker),))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert marker.read_text() == "ran", changed("python", "multiprocessing.util.Finalize no longer runs at a worker's exit")


# -- nothing private outside the adapter ------------------------------------------------------------------

UPSTREAM_PACKAGES = ("nbgrader", "nbclient", "nbconvert", "jupyter_client", "concurrent.futures", "multiprocessing",
                     "traitlets")  # fmt: skip
PUBLIC_DESPITE_THE_UNDERSCORE = {"_exit"}  # os._exit


def _private_names(tree: ast.AST, stored_only: bool) -> set[str]:
    """Private (one underscore) names `tree` defines, or with `stored_only` False also reads as attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and (not stored_only or isinstance(node.ctx, ast.Store)):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _parsed(path: Path) -> ast.AST | None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # upstream's own invalid escapes
            warnings.simplefilter("ignore", DeprecationWarning)
            return ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return None


def _upstream_private_names() -> set[str]:
    import importlib

    names: set[str] = set()
    for name in UPSTREAM_PACKAGES:
        for path in Path(importlib.import_module(name).__file__).parent.rglob("*.py"):  # type: ignore[arg-type]
            tree = _parsed(path)
            names |= _private_names(tree, stored_only=True) if tree else set()
    return names


def _upstream_privates_in(sources: dict[str, str], upstream_names: set[str]) -> list[str]:
    trees = {name: ast.parse(source) for name, source in sources.items()}
    ours = set().union(*(_private_names(tree, stored_only=True) for tree in trees.values()))
    found = []
    for name, tree in trees.items():
        for private in sorted(_private_names(tree, stored_only=False) & upstream_names - ours):
            if private not in PUBLIC_DESPITE_THE_UNDERSCORE:
                found.append(f"{name}: {private}")
    return found


def test_no_private_name_of_the_libraries_is_used_outside_the_adapter() -> None:
    import autograder

    package = Path(autograder.__file__).parent
    sources = {str(p.relative_to(package)): p.read_text() for p in package.rglob("*.py") if p.name != "upstream.py"}
    upstream_names = _upstream_private_names()
    assert _upstream_privates_in(sources, upstream_names) == []
    # ... and the scan sees one: a use of nbclient's private cleanup in some module.
    sources["somewhere.py"] = "def stop(client):\n    client._cleanup_kernel()\n"
    assert _upstream_privates_in(sources, upstream_names) == ["somewhere.py: _cleanup_kernel"]


def test_a_pre_convert_hook_can_change_the_notebooks_nbgrader_converts(tmp_path: Path) -> None:
    from nbgrader.converters.base import BaseConverter
    from nbgrader.coursedir import CourseDirectory

    folder = tmp_path / "submitted" / "ann" / "a1"
    folder.mkdir(parents=True)
    (folder / "nb-Copy1.ipynb").write_text("{}")
    converted: list[str] = []

    class Recording(BaseConverter):
        _input_directory = "submitted"
        _output_directory = "autograded"

        def init_assignment(self, assignment_id: str, student_id: str) -> None:
            pass

        def convert_single_notebook(self, notebook_filename: str) -> None:
            converted.append(notebook_filename)

    def hook(notebooks: list[str], **_: object) -> None:
        upstream.replace_converted_notebooks(notebooks, [str(folder / "nb.ipynb")])

    Recording(coursedir=CourseDirectory(root=str(tmp_path), assignment_id="a1"), pre_convert_hook=hook).start()
    assert converted == [str(folder / "nb.ipynb")], changed(
        "nbgrader", "a pre-convert hook no longer gets the list of notebooks nbgrader then converts"
    )
