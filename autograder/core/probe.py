"""What runs inside the student's kernel: collect data, decide nothing.

A graded test cell does not run its own source under the secure grader.  The
grader sends the kernel a *probe* instead: a self-contained piece of Python that
calls the student's code on inputs the grader chose and sends back what came
out, as JSON in one ``display_data`` output with :data:`MIME_TYPE`.

The kernel is untrusted -- student code ran first and may have replaced numpy,
builtins or IPython itself -- so nothing here compares or scores.  Whatever
the probe sends is only data; :mod:`autograder.core.verdict` parses it in the grading
process, where a lying ``float`` subclass is just a number like any other.

The collector functions below are ordinary, testable Python; :func:`kernel_code`
ships their source to the kernel, so there is one implementation of the probe
whether it runs in a sandboxed kernel or in the instructor's own notebook.
"""

from __future__ import annotations

import functools
import inspect
import json
import secrets
from typing import Any, Callable

MIME_TYPE = "application/x-autograder-probe+json"
"""The output type the probe's result travels in."""

MAX_VALUES = 100_000
"""The most numbers one returned value may carry back (a flood is cut, and says so)."""


def _collect_value(value: Any) -> dict[str, Any]:
    """Describe one returned value as plain JSON data: its shape and its numbers."""
    import numpy as _np

    record: dict[str, Any] = {"type": type(value).__name__}
    try:
        array = _np.asarray(value, dtype=float)
    except BaseException as exc:  # noqa: BLE001 - any failure is data for the judge
        record["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return record
    record["shape"] = [int(s) for s in array.shape]
    flat = array.ravel()
    record["truncated"] = bool(flat.size > MAX_VALUES)
    # float() of each element of a float64 array: plain Python floats, whatever the input type was.
    record["values"] = [float(v) for v in flat[:MAX_VALUES].tolist()]
    return record


def describe_value(value: Any) -> dict[str, Any]:
    """A value as the probe sends it back (for trusted code that stands in for a kernel)."""
    return _collect_value(value)


def _collect_tuple(value: Any) -> dict[str, Any]:
    """Describe a value that should be a tuple of arrays, e.g. ``(dloss_dw1, dloss_dw2)``."""
    record: dict[str, Any] = {"type": type(value).__name__}
    try:
        items = list(value)
    except BaseException as exc:  # noqa: BLE001
        record["error"] = f"not a tuple: {type(exc).__name__}: {str(exc)[:200]}"
        return record
    record["length"] = len(items)
    record["items"] = [_collect_value(item) for item in items[:8]]
    return record


def _state_of(obj: Any, names: list[str]) -> list[Any]:
    """Read attributes back as numbers (None where that fails), to see side effects."""
    out: list[Any] = []
    for name in names:
        try:
            out.append([float(v) for v in __import__("numpy").asarray(getattr(obj, name), dtype=float).ravel()])
        except BaseException:  # noqa: BLE001
            out.append(None)
    return out


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def collect(namespace: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Run the student's code on the request's inputs and record what happens.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace (where the student's code lives).
    request : dict
        What to call.  Either a method, ``{"class": name, "method": name,
        "state": [attribute, ...], ...}``, where each case gives the
        constructor's argument as ``"init"``; or a function, ``{"function": name, ...}``.
        Each case gives ``"args"``: lists become float arrays, other values pass as they are.
        ``"returns": "tuple"`` describes a tuple's items one by one.

    Returns
    -------
    dict
        ``{"results": [...]}``, one record per case, in order: ``out`` (what came
        back), ``state`` (the object's attributes afterwards) or ``error``, and
        ``args_after``: each array argument as it is after the call (None for the
        others), so that the grader can see a function that changed its inputs.
        ``{"missing": name}`` when the class or function is not defined.  With ``"globals":
        [name, ...]`` in the request, also ``"globals"``: each of those notebook variables described
        as a returned value is (``{"missing": true}`` when the notebook has none), e.g. the
        result of the notebook's own training run.
    """
    import numpy as _np

    results: list[dict[str, Any]] = []
    owner = request.get("class") or request.get("function")
    target = namespace.get(owner)
    if target is None:
        return {"results": [], "missing": owner}
    describe = _collect_tuple if request.get("returns") == "tuple" else _collect_value
    for case in request["cases"]:
        record: dict[str, Any] = {}
        obj = None
        try:
            args = [_np.array(a, dtype=float) if isinstance(a, list) else a for a in case["args"]]
            if "class" in request:
                obj = target(list(case["init"]) if isinstance(case["init"], list) else case["init"])
                record["out"] = describe(getattr(obj, request["method"])(*args))
            else:
                record["out"] = describe(target(*args))
            given = case["args"]
            record["args_after"] = [_collect_value(a) if isinstance(g, list) else None for a, g in zip(args, given)]
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are data too
            if isinstance(exc, KeyboardInterrupt):
                raise  # a timeout interrupt must stop the probe
            record["error"] = _error_text(exc)
        if obj is not None:
            record["state"] = _state_of(obj, list(request.get("state", [])))
        results.append(record)
    found: dict[str, Any] = {"results": results}
    if request.get("globals"):
        found["globals"] = {
            name: _collect_value(namespace[name]) if name in namespace else {"missing": True}
            for name in request["globals"]
        }
    return found


def _emit_in_kernel(nonce: str, payload: dict[str, Any]) -> None:
    """Send the payload to the grader as one display_data output."""
    import json as _json

    from IPython.display import display as _display

    text = _json.dumps({"nonce": nonce, **payload})
    _display({MIME_TYPE: text}, raw=True)


_SHIPPED: tuple[Callable[..., Any], ...] = (
    _collect_value,
    _collect_tuple,
    _state_of,
    _error_text,
    collect,
    _emit_in_kernel,
)


def kernel_code(request: dict[str, Any], nonce: str | None = None) -> tuple[str, str]:
    """Python source that runs the probe in a kernel, and the nonce it answers with.

    The source defines the collector inside a function scope, so it leaves no
    names behind in the student's namespace.

    Parameters
    ----------
    request : dict
        What to collect (see :func:`collect`).
    nonce : str, optional
        A fresh random token by default; the judge accepts only a payload that
        carries it, so output printed earlier cannot pose as the probe's.

    Returns
    -------
    source : str
        Code to execute in the kernel.
    nonce : str
        The token the payload must carry.
    """
    nonce = nonce or secrets.token_hex(16)
    program = (
        "def __autograder_probe__():\n"
        f"    MIME_TYPE = {MIME_TYPE!r}\n"
        f"    MAX_VALUES = {MAX_VALUES!r}\n"
        "    from typing import Any\n"
        f"{_shipped_source()}\n"
        f"    request = __import__('json').loads({json.dumps(request)!r})\n"
        f"    _emit_in_kernel({nonce!r}, collect(globals(), request))\n"
        "__autograder_probe__()\n"
        "del __autograder_probe__\n"
    )
    # One string literal, not two hundred lines: IPython tokenizes, hashes and compiles
    # every cell it is sent several times over, which cost more than the probe's own work.
    return f"exec({program!r})\n", nonce


def bound_streams(stream: Any, chunk: int = 256 * 1024) -> None:
    """Make `stream` (the kernel's stdout or stderr) send what it is given at most `chunk` at a time.

    ipykernel gathers a cell's printed text for a fifth of a second and sends it as
    one message; a cell that prints 40 MB in that time makes one message too large
    for the grader's sockets, which then drop the connection, and the cell looks hung.
    Flushed in chunks, a flood arrives as many small messages, of which the grader
    keeps the first megabyte.  This runs in the student's kernel, which could undo
    it: that would only hurt the student's own grade, never the grader.
    """
    write, flush = stream.write, stream.flush
    if getattr(write, "bounded", False):
        return
    pending = [0]

    def bounded_write(text: Any) -> Any:
        if not isinstance(text, str) or len(text) + pending[0] < chunk:
            pending[0] += len(text) if isinstance(text, str) else 0
            return write(text)
        for start in range(0, len(text), chunk):
            write(text[start : start + chunk])
            flush()
        pending[0] = 0
        return len(text)

    bounded_write.bounded = True  # type: ignore[attr-defined]
    stream.write = bounded_write


def bounded_streams_code() -> str:
    """Source that bounds the kernel's stdout and stderr in every cell it runs (see :func:`bound_streams`).

    IPython replaces ``sys.stdout.write`` around each cell it runs (to keep the
    output in its history) and puts the original back afterwards, so the bound is
    applied anew as each cell starts (IPython's ``pre_execute`` event).
    """
    source = inspect.getsource(bound_streams)
    program = "def __autograder_streams__():\n    import sys\n    from typing import Any\n"
    program += "    from IPython import get_ipython\n"
    program += "\n".join("    " + line for line in source.splitlines())
    program += "\n    def bound_both():\n        bound_streams(sys.stdout)\n        bound_streams(sys.stderr)\n"
    program += "    get_ipython().events.register('pre_execute', bound_both)\n"
    program += "__autograder_streams__()\ndel __autograder_streams__\n"
    return f"exec({program!r})\n"


@functools.lru_cache(maxsize=1)
def _shipped_source() -> str:
    """The collector functions' source, indented into the probe's function body (read once)."""
    functions = "\n".join(inspect.getsource(f) for f in _SHIPPED)
    return "\n".join("    " + line for line in functions.splitlines())


def payload_from_outputs(outputs: list[dict[str, Any]], nonce: str) -> dict[str, Any] | None:
    """Find the probe's payload among a cell's outputs (in the grading process).

    Parameters
    ----------
    outputs : list of dict
        The cell's outputs as nbclient recorded them.
    nonce : str
        The token :func:`kernel_code` issued.

    Returns
    -------
    dict or None
        The payload, or None when there is not exactly one well-formed payload
        carrying the nonce (missing, duplicated or malformed all count as none).
    """
    found: list[dict[str, Any]] = []
    for output in outputs:
        if output.get("output_type") != "display_data":
            continue
        text = output.get("data", {}).get(MIME_TYPE)
        if not isinstance(text, str):
            continue
        try:
            payload = json.loads(text)
        except ValueError:
            continue
        if isinstance(payload, dict) and payload.get("nonce") == nonce:
            found.append(payload)
    return found[0] if len(found) == 1 else None
