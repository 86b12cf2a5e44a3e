"""The ``/stocks`` WebSocket of the sandbox (work in progress: refuses upgrades for now)."""


def serve_stream(state, environ):
    """Serve one upgraded connection."""
    raise ConnectionError("streaming not implemented yet")


def close_all(state, wait=False):
    """Close every open stream session of ``state``."""
