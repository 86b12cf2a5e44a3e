"""The local polygon server (``python -m polygon.polygon_server.server``): ``POST /api/v1/bars`` through the
file cache, a ``/ws/{client_id}`` endpoint fanning one provider stream out to many local clients, and a live
dashboard at ``/``. For local use (binds 127.0.0.1 by default).
"""

from polygon.polygon_server.relay import StreamRelay
from polygon.polygon_server.server import DEFAULT_PORT, PolygonServer, create_app

__all__ = ["DEFAULT_PORT", "PolygonServer", "StreamRelay", "create_app"]
