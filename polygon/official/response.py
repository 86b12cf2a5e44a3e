"""What ``raw=True`` returns, and the request options of the official client (edge headers)."""

import json
from typing import Any, Dict, Optional

from polygon.exceptions import InvalidParameterError

__all__ = ["RawResponse", "RequestOptionBuilder"]

X_EDGE_ID = "X-Massive-Edge-ID"
X_EDGE_IP_ADDRESS = "X-Massive-Edge-IP-Address"
X_EDGE_USER_AGENT = "X-Massive-Edge-User-Agent"


class RawResponse:
    """The undecoded answer of one request, shaped like the urllib3 response the official client returns.

    :ivar data: the body bytes (decompressed).
    :ivar status: the HTTP status (always < 400: error statuses raise typed errors instead).
    :ivar url: the request URL, API key redacted.
    """

    def __init__(self, data: bytes, status: int, url: Optional[str]) -> None:
        self.data = data
        self.status = status
        self.url = url

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.data.decode("utf-8"))

    def geturl(self) -> Optional[str]:
        """The request URL (the urllib3 spelling)."""
        return self.url

    def __repr__(self) -> str:
        return "RawResponse(status=%d, %d bytes)" % (self.status, len(self.data))


class RequestOptionBuilder:
    """Per-call request headers, as the official client's builder of the same name (``options=``).

    Any object with a ``headers`` dict works as ``options=`` too, the official builder included.

    :param edge_id: the edge user's id (``X-Massive-Edge-ID``); needs ``edge_ip_address`` with it.
    :param edge_ip_address: the edge user's IP address (``X-Massive-Edge-IP-Address``).
    :param edge_user: the edge user's user agent (``X-Massive-Edge-User-Agent``), optional.
    """

    def __init__(self, edge_id: Optional[str] = None, edge_ip_address: Optional[str] = None,
                 edge_user: Optional[str] = None) -> None:
        self.headers: Optional[Dict[str, str]] = None
        if edge_id is not None and edge_ip_address is not None:
            self.edge_headers(edge_id, edge_ip_address, edge_user)

    def edge_headers(self, edge_id: str, edge_ip_address: str, edge_user: Optional[str] = None
                     ) -> "RequestOptionBuilder":
        """Set the edge headers; returns the builder."""
        return self.update_edge_header(edge_id, edge_ip_address, edge_user, _first=True)

    def update_edge_header(self, edge_id: Optional[str] = None, edge_ip_address: Optional[str] = None,
                           edge_user: Optional[str] = None, _first: bool = False) -> "RequestOptionBuilder":
        """Change some of the edge headers; returns the builder.

        :raises InvalidParameterError: no edge headers were set before.
        """
        if self.headers is None and not _first:
            raise InvalidParameterError("set the edge headers (edge_id and edge_ip_address) before updating them")
        headers = dict(self.headers or {})
        for name, value in ((X_EDGE_ID, edge_id), (X_EDGE_IP_ADDRESS, edge_ip_address),
                            (X_EDGE_USER_AGENT, edge_user)):
            if value is not None:
                headers[name] = value
        self.headers = headers
        return self
