"""What runs inside the student's kernel: collect data, decide nothing.

A graded test cell does not run its own source under the secure grader.  The
grader sends the kernel a *probe* instead: a self-contained piece of Python that
calls the student's code on inputs the grader chose and sends back what came
out, as JSON in one ``display_data`` output with :data:`MIME_TYPE`.

The kernel is untrusted -- student code ran first and may have replaced numpy,
builtins or IPython itself -- so nothing here compares or scores.  Whatever
the probe sends is only data; :mod:`autograder.judge` parses it in the grading
process, where a lying ``float`` subclass is just a number like any other.

The collector functions below are ordinary, testable Python; :func:`kernel_code`
ships their source to the kernel, so there is one implementation of the probe
whether it runs in a sandboxed kernel or in the instructor's own notebook.
"""

from __future__ import annotations

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


def _collect_pair(value: Any) -> dict[str, Any]:
    """Describe a value that should be a pair ``(dloss_dw1, dloss_dw2)``."""
    record: dict[str, Any] = {"type": type(value).__name__}
    try:
        items = list(value)
    except BaseException as exc:  # noqa: BLE001
        record["error"] = f"not a pair: {type(exc).__name__}: {str(exc)[:200]}"
        return record
    record["length"] = len(items)
    record["items"] = [_collect_value(item) for item in items[:4]]
    return record


def _weights_of(model: Any) -> list[Any]:
    """Read ``model.w1`` and ``model.w2`` back as numbers, or None where that fails."""
    out: list[Any] = []
    for name in ("w1", "w2"):
        try:
            out.append(float(getattr(model, name)))
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
        The notebook's global namespace (where ``ShallowNarrowExercise`` lives).
    request : dict
        ``{"kind": "forward" | "dloss_dw" | "train", "class": name, "cases": [...]}``;
        each case holds the inputs of one call.

    Returns
    -------
    dict
        ``{"results": [...]}``, one record per case, in order.
    """
    import numpy as _np

    results: list[dict[str, Any]] = []
    cls = namespace.get(request["class"])
    if cls is None:
        return {"results": [], "missing": request["class"]}
    for case in request["cases"]:
        record: dict[str, Any] = {}
        try:
            model = cls(list(case["w"]))
            x = _np.array(case["x"], dtype=float)
            if request["kind"] == "forward":
                record["out"] = _collect_value(model.forward(x))
            elif request["kind"] == "dloss_dw":
                y = _np.array(case["y"], dtype=float)
                record["out"] = _collect_pair(model.dloss_dw(x, y))
            elif request["kind"] == "train":
                y = _np.array(case["y"], dtype=float)
                returned = model.train(x, y, case["lr"], case["n_ep"])
                pair = list(returned)
                record["loss"] = _collect_value(pair[0])
                record["weights"] = _collect_value(pair[1])
            record["w_after"] = _weights_of(model)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are data too
            if isinstance(exc, KeyboardInterrupt):
                raise  # a timeout interrupt must stop the probe
            record["error"] = _error_text(exc)
        results.append(record)
    return {"results": results}


def _emit_in_kernel(nonce: str, payload: dict[str, Any]) -> None:
    """Send the payload to the grader as one display_data output."""
    import json as _json

    from IPython.display import display as _display

    text = _json.dumps({"nonce": nonce, **payload})
    _display({MIME_TYPE: text}, raw=True)


_SHIPPED: tuple[Callable[..., Any], ...] = (
    _collect_value,
    _collect_pair,
    _weights_of,
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
    functions = "\n".join(inspect.getsource(f) for f in _SHIPPED)
    body = "\n".join("    " + line for line in functions.splitlines())
    source = (
        "def __autograder_probe__():\n"
        f"    MIME_TYPE = {MIME_TYPE!r}\n"
        f"    MAX_VALUES = {MAX_VALUES!r}\n"
        "    from typing import Any\n"
        f"{body}\n"
        f"    request = __import__('json').loads({json.dumps(request)!r})\n"
        f"    _emit_in_kernel({nonce!r}, collect(globals(), request))\n"
        "__autograder_probe__()\n"
        "del __autograder_probe__\n"
    )
    return source, nonce


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
