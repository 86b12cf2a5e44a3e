"""The provider's stream feeds: which host serves a feed, and how far a delayed one runs behind.

The provider serves each feed on its own host, ``<feed>.massive.com``, with the same market paths
(``wss://delayed.massive.com/stocks``); the names are the official client's ``Feed`` hosts: real time
(``socket``), ``delayed``, the business feeds, ``launchpad``... A feed is chosen by that name (``'delayed'``), by
the official enum's member name (``'Delayed'``, ``'RealTime'``) or by its host (``'delayed.massive.com'``).
Against a URL that is not the provider's (the sandbox, a local relay) the feed becomes a path prefix:
``ws://127.0.0.1:PORT/delayed/stocks``, how the sandbox serves every feed on one port. Pure functions.
"""

from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from polygon.exceptions import PolygonConfigError

__all__ = ["DELAYED_MINUTES", "FEEDS", "feed_delay_minutes", "feed_name", "feed_url"]

#: feed name (the first label of its host) -> the official client's ``Feed`` member name
FEEDS = {
    "socket": "RealTime", "delayed": "Delayed", "nasdaqfeed": "Nasdaq", "polyfeed": "PolyFeed",
    "polyfeedplus": "PolyFeedPlus", "starterfeed": "StarterFeed", "launchpad": "Launchpad", "business": "Business",
    "edgx-business": "EdgxBusiness", "iex-business": "IEXBusiness", "delayed-business": "DelayedBusiness",
    "delayed-edgx-business": "DelayedEdgxBusiness",
    "delayed-nasdaq-last-sale-business": "DelayedNasdaqLastSaleBusiness",
    "delayed-nasdaq-basic-business": "DelayedNasdaqBasic",
    "delayed-fullmarket-business": "DelayedFullMarketBusiness", "fullmarket-business": "FullMarketBusiness",
    "nasdaq-last-sale-business": "NasdaqLastSaleBusiness", "nasdaq-basic-business": "NasdaqBasicBusiness",
}
#: how far the delayed feeds run behind: 15 minutes (delayed stock data), 10 on the futures sockets (the
#: futures plans' "10-minute delayed")
DELAYED_MINUTES = {"default": 15, "futures": 10}
_BY_MEMBER = {member.lower(): name for name, member in FEEDS.items()}
_BY_MEMBER["realtime"] = "socket"
_PROVIDER_DOMAINS = ("massive.com", "polygon.io")


def feed_name(feed: object) -> str:
    """The feed's name (``'delayed'``) from a name, the official enum (or its member name) or its host.

    :raises PolygonConfigError: for an unknown feed, listing the known ones.
    """
    value = getattr(feed, "value", feed)  # the official Feed enum carries the host
    text = str(value).strip().lower()
    host_label = text.split(".", 1)[0] if "." in text else text
    if host_label in FEEDS:
        return host_label
    if text in _BY_MEMBER:
        return _BY_MEMBER[text]
    raise PolygonConfigError("unknown feed %r; known: %s" % (feed, ", ".join(sorted(FEEDS))))


def feed_url(ws_url: str, feed: Optional[object], market: str) -> str:
    """The socket URL of ``market`` on ``feed`` (``None``: the configured URL as it is).

    The provider's hosts get the feed's host (``wss://delayed.massive.com/stocks``); any other URL gets the
    feed as a path prefix (``ws://127.0.0.1:PORT/delayed/stocks``), as the sandbox serves feeds.
    """
    base = ws_url.rstrip("/")
    if feed is None:
        return "%s/%s" % (base, market)
    name = feed_name(feed)
    parts = urlsplit(base)
    host = parts.hostname or ""
    if any(host == d or host.endswith("." + d) for d in _PROVIDER_DOMAINS):
        domain = next(d for d in _PROVIDER_DOMAINS if host == d or host.endswith("." + d))
        netloc = "%s.%s" % (name, domain) + (":%d" % parts.port if parts.port else "")
        return urlunsplit((parts.scheme, netloc, "/" + market, "", ""))
    if name == "socket":
        return "%s/%s" % (base, market)
    return "%s/%s/%s" % (base, name, market)


def feed_delay_minutes(feed: Optional[object], market: str) -> int:
    """Minutes ``feed`` runs behind real time on ``market``'s socket (0 for the real-time feeds)."""
    if feed is None or not feed_name(feed).startswith("delayed"):
        return 0
    return DELAYED_MINUTES.get(market.split("/")[0], DELAYED_MINUTES["default"])
