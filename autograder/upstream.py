"""Every use of a private part of nbgrader, nbclient/nbconvert, jupyter_client and the standard library.

The rest of the package plugs into these libraries through their public API and
through this module only.  Where the libraries offer no public way (a hook that
only exists as a private method, an attribute with a leading underscore, a
module-level name nbgrader looks up at run time), the use sits here, behind a
public name of ours, and ``tests/test_upstream.py`` holds a contract test for
each: it names the version it was checked against (:data:`CHECKED_AGAINST`) and
fails with a message that says what changed when an upgrade changes it.

Kinds of use:

- mixins whose private method overrides call a public hook of ours
  (:class:`KernelManagerHooks`, :class:`KernelClientHooks`, :class:`ExecuteHooks`);
- functions that call a private method or read a private attribute
  (:func:`remove_hidden_tests`, :func:`default_steps`, :func:`pool_processes`, :func:`at_process_exit`);
- a list nbgrader hands a hook and then reads back (:func:`replace_converted_notebooks`);
- one patch of a module-level name (:func:`patch_gradebook_engines`).
"""

from __future__ import annotations

import multiprocessing.util
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

from nbformat import NotebookNode

CHECKED_AGAINST = {
    "nbgrader": "0.9.6",
    "nbclient": "0.11.0",
    "nbconvert": "7.17.2",
    "jupyter_client": "8.10.0",
    "python": "3.11 - 3.13",
}
"""The upstream versions whose internals this module was checked against (by tests/test_upstream.py)."""


# -- jupyter_client -------------------------------------------------------------------------------


class KernelManagerHooks:
    """Mixin for a subclass of jupyter_client's ``AsyncKernelManager``: public hooks around a kernel's start.

    jupyter_client prepares a start in the private coroutine
    ``_async_pre_start_kernel`` (it writes the connection file and builds the
    command) and removes it in ``_async_cleanup_resources``; ``AsyncKernelManager``
    binds the public names ``pre_start_kernel`` / ``cleanup_resources`` to the base
    class's coroutines, so both names are pointed at the overrides here.
    Put this class first: ``class M(KernelManagerHooks, AsyncKernelManager)``.
    """

    def before_start(self, kw: dict[str, Any]) -> dict[str, Any]:
        """Before the connection file is written: set transport and paths; returns the start's keywords."""
        return kw

    def before_launch(self, cmd: list[str], kw: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """After the connection file is written and the command built, before the kernel is launched."""
        return cmd, kw

    def after_cleanup(self, restart: bool) -> None:
        """After jupyter_client cleaned up after a kernel (also between the two halves of a restart)."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        kw = self.before_start(kw)
        cmd, kw = await super()._async_pre_start_kernel(**kw)  # type: ignore[misc]
        return self.before_launch(cmd, kw)

    pre_start_kernel = _async_pre_start_kernel

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)  # type: ignore[misc]
        self.after_cleanup(restart)

    cleanup_resources = _async_cleanup_resources


class KernelClientHooks:
    """Mixin for a subclass of jupyter_client's ``AsyncKernelClient``: its own wait for a new kernel.

    The subclass implements :meth:`wait_until_ready`, and tells jupyter_client what
    the kernel said with :meth:`accept_kernel_info`.
    Put this class first: ``class C(KernelClientHooks, AsyncKernelClient)``.
    """

    async def wait_until_ready(self, timeout: float | None) -> None:
        """Return once the kernel answers on every channel; raise RuntimeError if it dies or times out."""
        raise NotImplementedError

    def accept_kernel_info(self, reply: dict[str, Any]) -> None:
        """Let jupyter_client read the kernel's ``kernel_info_reply`` (protocol version, ...)."""
        self._handle_kernel_info_reply(reply)  # type: ignore[attr-defined]

    async def kernel_alive(self) -> bool:
        """True while the kernel process lives."""
        return bool(await self._async_is_alive())  # type: ignore[attr-defined]

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        await self.wait_until_ready(timeout)

    wait_for_ready = _async_wait_for_ready  # the base class binds the name to its own coroutine


# -- nbclient / nbconvert -------------------------------------------------------------------------


class ExecuteHooks:
    """Mixin for a subclass of nbconvert's ``ExecutePreprocessor`` (nbgrader's ``Execute``).

    Put this class first: ``class E(ExecuteHooks, Execute)``.
    """

    def on_cell_timeout(self, timeout: int, cell: NotebookNode | None) -> None:
        """Called when a cell (or a reply outside a cell, `cell` None) ran past `timeout` seconds."""

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> Any:
        self.on_cell_timeout(timeout, cell)
        return await super()._async_handle_timeout(timeout, cell)  # type: ignore[misc]

    def check_assign_resources(self, resources: dict[str, Any]) -> None:
        """What ``ExecutePreprocessor.preprocess`` does with the resources before it runs the cells."""
        self._check_assign_resources(resources)  # type: ignore[attr-defined]

    def cleanup_kernel(self) -> None:
        """nbclient's own end of a kernel: shut it down (as ``shutdown_kernel`` says), forget manager and client."""
        self._cleanup_kernel()  # type: ignore[attr-defined]


# -- nbgrader -------------------------------------------------------------------------------------


def default_steps(converter: type, trait: str) -> list[type]:
    """nbgrader's own default list of preprocessors of `converter` (e.g. ``GenerateAssignment``, "preprocessors").

    nbgrader gives the lists as traitlets ``List`` defaults; traitlets builds a
    fresh copy with the undocumented ``make_dynamic_default``.
    """
    return list(converter.class_traits()[trait].make_dynamic_default())


def replace_converted_notebooks(notebooks: list[str], files: list[str]) -> None:
    """From nbgrader's ``pre_convert_hook``: convert `files` for this submission instead of the `notebooks` found.

    The hook receives ``notebooks=`` as a keyword; nbgrader 0.9.6's
    ``BaseConverter.convert_notebooks`` passes its own list (``self.notebooks``) and
    then converts what that list holds, so changing it in place is what changes the
    files converted (undocumented: the docs describe the argument as information).
    """
    notebooks[:] = files


def remove_hidden_tests(cell: NotebookNode, parent: Any = None) -> bool:
    """Remove the hidden-tests region from `cell` in place, as nbgrader's ``ClearHiddenTests`` does.

    Returns True when there was one.
    """
    from nbgrader.preprocessors import ClearHiddenTests

    return bool(ClearHiddenTests(parent=parent)._remove_hidden_test_region(cell))


def patch_gradebook_engines(
    create_engine: Callable[..., Any], create_all: Callable[[Callable[..., None], Any], None]
) -> Callable[[], None]:
    """Make every nbgrader ``Gradebook`` get its engine from `create_engine` and check its schema through `create_all`.

    ``Gradebook.__init__`` calls the module-level ``nbgrader.api.create_engine``
    and ``Base.metadata.create_all(bind=engine)``.

    Parameters
    ----------
    create_engine : callable
        Takes the arguments of ``sqlalchemy.create_engine``.
    create_all : callable
        ``(original, bind)``: decides whether to call nbgrader's original ``create_all(bind)``.

    Returns
    -------
    callable
        Puts nbgrader's behaviour back.
    """
    import nbgrader.api

    metadata = nbgrader.api.Base.metadata
    original_create_engine = nbgrader.api.create_engine
    shadowed = metadata.__dict__.get("create_all")  # normally absent: the class's method
    original_create_all = metadata.create_all

    def patched_create_all(bind: Any = None, *args: Any, **kwargs: Any) -> None:
        create_all(lambda b: original_create_all(b, *args, **kwargs), bind)

    def restore() -> None:
        nbgrader.api.create_engine = original_create_engine
        if shadowed is None:
            del metadata.create_all  # the class's method again
        else:
            metadata.create_all = shadowed

    nbgrader.api.create_engine = create_engine
    metadata.create_all = patched_create_all  # type: ignore[method-assign]
    return restore


# -- the standard library -------------------------------------------------------------------------


def pool_processes(executor: ProcessPoolExecutor) -> list[Any]:
    """The worker processes (``multiprocessing.Process``) of a process pool, to stop them outright.

    Python before 3.14 has no public way (3.14 adds ``terminate_workers``).
    """
    return list((getattr(executor, "_processes", None) or {}).values())


def at_process_exit(obj: Any, callback: Callable[[], Any]) -> None:
    """Call `callback` when this process exits, also when it is a ``multiprocessing`` worker.

    A worker leaves through ``os._exit``, which skips :mod:`atexit`;
    multiprocessing's own finalizers run there (and at a normal exit).  They
    hold `obj` weakly: the callback is dropped if `obj` is collected first.
    """
    multiprocessing.util.Finalize(obj, callback, exitpriority=10)
