"""A sandbox in a child process for the benchmarks: the server runs off the client's GIL, like a remote provider."""

import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _serve(conn, options):
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, **options) as sb:
        conn.send((sb.base_url, sb.api_key))
        for _ in range(1_000_000):  # bounded: one pass per message from the parent
            message = conn.recv()
            if message == "stats":
                conn.send(sb.stats())
            elif message == "reset":
                sb.reset_stats()
                conn.send(None)
            else:  # "stop"
                break


class RemoteSandbox:
    """``with RemoteSandbox(latency=0.05) as sb:`` gives ``sb.base_url``, ``sb.api_key`` and ``sb.config()``.

    :param options: :class:`polygon.sandbox.Sandbox` options (latency, max_connections, ...).
    """

    def __init__(self, **options):
        ctx = multiprocessing.get_context("spawn")
        self._parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, options), daemon=True)
        self.base_url = self.api_key = None

    def __enter__(self):
        self._proc.start()
        if not self._parent.poll(60):
            raise SystemExit("sandbox child did not start")
        self.base_url, self.api_key = self._parent.recv()
        return self

    def config(self, **overrides):
        from polygon.config import PolygonConfig

        return PolygonConfig(api_key=self.api_key, base_url=self.base_url, **overrides)

    def stats(self):
        """The child sandbox's :meth:`~polygon.sandbox.Sandbox.stats`."""
        self._parent.send("stats")
        return self._parent.recv()

    def reset_stats(self):
        self._parent.send("reset")
        self._parent.recv()

    def __exit__(self, *exc):
        self._parent.send("stop")
        self._proc.join(10)
