"""The output cap of :class:`~autograder.nbgrader_plugins.SecureExecute`: a flood cannot exhaust the grader.

A cell keeps at most ``max_output_bytes`` of output (and widget state); the
start of a printed flood is kept (often what the student needs to see) with a
note that the rest was cut.  Sizes are counted without serialising the message
again, so measuring a flood does not copy it.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output

from ..core import probe

_STORED_MESSAGES = frozenset({"stream", "display_data", "execute_result", "error", "update_display_data"})
"""iopub messages whose content nbclient keeps (in outputs, or in other outputs through display ids)."""


def _message_size(msg: dict[str, Any], limit: int) -> int:
    """Bytes of text and buffers a kernel message carries, counted up to just past `limit`.

    No serialisation: a flood is measured without being copied again.
    """
    size = sum(len(b) for b in msg.get("buffers") or [] if isinstance(b, (bytes, bytearray, memoryview)))
    stack: list[Any] = [msg.get("content")]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            size += len(item)
        elif isinstance(item, dict):
            size += 8 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            size += 8 * len(item)
            stack.extend(item)
        else:
            size += 8
    return size


class OutputCap:
    """Mixin for nbclient's ``NotebookClient`` (before it in the bases): caps what each cell keeps.

    The class using it has an integer ``max_output_bytes`` and calls
    :meth:`_reset_output_budget` before each cell (``probing`` while a probe runs).
    """

    max_output_bytes: int

    def _reset_output_budget(self, probing: bool = False) -> None:
        self._output_bytes: dict[int, int] = {}
        self._probing = probing
        self._payloads = 0

    def process_message(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> Any:
        """Keep at most :attr:`max_output_bytes` of output (and widget state) per cell; note the cut once.

        During a probe, up to two outputs of the probe's type pass beside that budget, so
        a print flood cannot hide the probe's payload (two already make the payload invalid).
        """
        msg_type = msg.get("msg_type") or msg.get("header", {}).get("msg_type", "")
        if msg_type in _STORED_MESSAGES or msg_type.startswith("comm"):
            size = _message_size(msg, self.max_output_bytes)
            data = (msg.get("content") or {}).get("data")
            if (
                self._probing
                and msg_type == "display_data"
                and isinstance(data, dict)
                and probe.MIME_TYPE in data
                and self._payloads < 2
                and size <= self.max_output_bytes
            ):
                self._payloads += 1
                return super().process_message(msg, cell, cell_index)
            used = self._output_bytes.get(cell_index, 0)
            if used + size > self.max_output_bytes:
                if used <= self.max_output_bytes:
                    content = msg.get("content") or {}
                    room = self.max_output_bytes - used
                    if msg_type == "stream" and room > 0 and isinstance(content.get("text"), str):
                        # the start of the flood is kept: often what the student needs to see
                        start = {**msg, "content": {**content, "text": content["text"][:room]}}
                        super().process_message(start, cell, cell_index)
                    note = f"[output truncated by the grader after {self.max_output_bytes} bytes]\n"
                    cell.outputs.append(new_output("stream", name="stdout", text=note))
                    self._output_bytes[cell_index] = self.max_output_bytes + 1
                return None
            self._output_bytes[cell_index] = used + size
        return super().process_message(msg, cell, cell_index)
