"""Raw-frame recordings of the stream: :class:`FrameRecorder` writes every raw frame with its receive time, one
JSON line each (``{"t": 1701439845.123456, "frame": [...]}``); :func:`iter_recording` reads such a file back,
and :meth:`PolygonWebSocketClient.replay <polygon.websocket.PolygonWebSocketClient.replay>` feeds it through a
client at the original or a faster pace.
"""

import logging
import os
import threading
from typing import Iterator, Tuple, Union

__all__ = ["FrameRecorder", "iter_recording"]

logger = logging.getLogger(__name__)


class FrameRecorder:
    """Append raw frames with receive times to ``path`` (JSON lines). Written by the reader thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._file = open(path, "ab", buffering=1 << 16)
        self._lock = threading.Lock()
        self.frames = 0

    def write(self, when: float, raw: Union[bytes, str]) -> None:
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if b"\n" in raw or b"\r" in raw:  # only possible as JSON whitespace
            raw = raw.replace(b"\r", b" ").replace(b"\n", b" ")
        with self._lock:
            if self._file.closed:
                return
            self._file.write(b'{"t":%.6f,"frame":%s}\n' % (when, raw))
            self.frames += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def iter_recording(path: str) -> Iterator[Tuple[float, bytes]]:
    """Yield ``(receive_time, raw_frame_bytes)`` from a file written by :class:`FrameRecorder`.

    Lines that do not parse are skipped with a warning (a recording cut by a crash keeps its good part).
    """
    prefix = b'{"t":'
    marker = b',"frame":'
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            head, sep, rest = line.partition(marker)
            try:
                if not (sep and head.startswith(prefix) and rest.endswith(b"}")):
                    raise ValueError("not a recorded frame")
                yield float(head[len(prefix):]), rest[:-1]
            except ValueError:
                logger.warning("%s:%d: unreadable recording line skipped", path, number)
