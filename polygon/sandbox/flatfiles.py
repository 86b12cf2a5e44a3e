"""The sandbox's flat files: a real S3 emulator (moto's server) on a loopback port, filled from the market.

``Sandbox(flatfiles=True)`` starts it; :meth:`FlatFilesServer.publish` writes one gzipped CSV per day in
the provider's layout and columns, generated from the same synthetic market as the REST bars (unadjusted
prices, as the provider's files), so a synced day equals the REST bars of that day (``adjusted=false``),
bar for bar, except VWAP, which the provider's files do not carry.

Keys are checked like the provider's: the sandbox creates a reader whose S3 keys it hands out
(:attr:`FlatFilesServer.access_key_id`, :attr:`FlatFilesServer.secret_access_key`); wrong keys get 403
``InvalidAccessKeyId``/``SignatureDoesNotMatch``, markets outside ``plan`` get 403 ``AccessDenied`` and a day
not published gets 404. moto keeps its state per process: every sandbox of a process shares one IAM
store (each has its own bucket and reader).

Futures files (``publish(..., market='futures')`` or one venue, ``futures_cme``...) come from the futures tape the
REST endpoints serve: per venue (the products whose exchange MIC it is) and trading date, the minute bars, the
session bars with their settlement price, the trades and the quotes of every contract trading that day, with the
provider's documented columns under the assumed keys of :mod:`polygon.flatfiles.layout`.
"""

import datetime as _dt
import gzip
import itertools
import json
import logging
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from polygon.exceptions import PolygonConfigError, PolygonError
from polygon.flatfiles.layout import (
    AGG_COLUMNS,
    FUTURES_VENUES,
    MARKET_PREFIXES,
    MARKETS,
    QUOTE_COLUMNS,
    TRADE_COLUMNS,
    check_dataset,
    columns_of,
    is_futures,
    markets_of,
    object_key,
)
from polygon.markets import sessions

__all__ = ["FlatFilesServer"]

logger = logging.getLogger(__name__)

_SETUP_LOCK = threading.Lock()
_ADMIN: Dict[str, str] = {}  # the process-wide moto admin keys
_COUNTER = itertools.count(1)

def _require():
    try:
        import boto3
        from moto.server import DomainDispatcherApplication, create_backend_app
    except ImportError:
        raise PolygonConfigError("the sandbox's flat files need boto3 and moto[server] "
                                 "(pip install 'polygon-kit[flatfiles]' 'moto[server]')") from None
    return boto3, DomainDispatcherApplication, create_backend_app


class FlatFilesServer:
    """An S3 endpoint on ``127.0.0.1`` holding the sandbox market's flat files.

    :param model: the sandbox's :class:`~polygon.sandbox.market.MarketModel`.
    :param bucket: bucket name (default ``flatfiles``, as the provider's); distinct sandboxes in one process
        should use distinct buckets.
    :param plan: markets the reader's keys may read (default all; ``futures`` is the four venues).
    :param port: TCP port (default 0: any free one).
    """

    def __init__(self, model: Any, bucket: str = "flatfiles", plan: Optional[Sequence[str]] = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = model
        self.bucket = bucket
        unknown = [m for m in plan or () if m not in MARKETS]
        if unknown:
            raise PolygonConfigError("unknown flat-file markets %s; allowed: %s" % (unknown, ", ".join(MARKETS)))
        self.plan = tuple(one for market in (plan or MARKET_PREFIXES) for one in markets_of(market))
        self.host = host
        self.port = int(port)
        self._server = None
        self._admin = None
        self.access_key_id: Optional[str] = None
        self.secret_access_key: Optional[str] = None
        self.published: Dict[str, str] = {}  # key -> etag
        #: every request served, ``(method, path, query)`` in arrival order (for tests that count requests)
        self.requests: List[Tuple[str, str, str]] = []
        self._requests_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> "FlatFilesServer":
        boto3, dispatcher, backend = _require()
        from moto import settings

        from polygon.polygon_server.serving import LocalServer

        moto_log = logging.getLogger("moto")  # its DEBUG records dump request headers, keys included
        if moto_log.level < logging.INFO:  # NOTSET too: whatever the root logger says later
            moto_log.setLevel(logging.INFO)
        server = LocalServer(self.host, self.port, self._counting(dispatcher(backend)), name="polygon-sandbox-s3")
        server.start()
        self._server = server
        with _SETUP_LOCK:
            if not _ADMIN:  # once per process: an admin created before moto starts checking keys
                settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
                iam = self._client("iam", "setup", "setup")
                iam.create_user(UserName="sandbox-admin")
                iam.put_user_policy(UserName="sandbox-admin", PolicyName="all", PolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
                key = iam.create_access_key(UserName="sandbox-admin")["AccessKey"]
                _ADMIN.update(id=key["AccessKeyId"], secret=key["SecretAccessKey"])
            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        self._admin = self._client("s3", _ADMIN["id"], _ADMIN["secret"])
        self._admin.create_bucket(Bucket=self.bucket)
        iam = self._client("iam", _ADMIN["id"], _ADMIN["secret"])
        user = "sandbox-reader-%d" % next(_COUNTER)
        iam.create_user(UserName=user)
        resources = ["arn:aws:s3:::%s/%s/*" % (self.bucket, MARKET_PREFIXES[m]) for m in self.plan]
        iam.put_user_policy(UserName=user, PolicyName="plan", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": resources},
                # a listing is s3:ListBucket on AWS and older moto, s3:ListObjectsV2 on moto >= 5.2
                {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListObjectsV2"],
                 "Resource": ["arn:aws:s3:::%s" % self.bucket]},
            ]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]
        logger.info("sandbox flat files on %s (bucket %s)", self.endpoint, self.bucket)
        return self

    def _counting(self, app: Any) -> Any:
        def counted(environ, start_response):
            with self._requests_lock:
                self.requests.append((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                                      environ.get("QUERY_STRING", "")))
            return app(environ, start_response)

        return counted

    def reset_requests(self) -> None:
        """Forget the requests served so far (:attr:`requests`)."""
        with self._requests_lock:
            self.requests.clear()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise PolygonError("the sandbox's flat files are not running")
        return "http://%s:%d" % (self.host, self._server.server_port)

    def _client(self, service: str, key_id: str, secret: str):
        boto3, _d, _b = _require()
        return boto3.session.Session().client(service, endpoint_url=self.endpoint, aws_access_key_id=key_id,
                                              aws_secret_access_key=secret, region_name="us-east-1")

    def config_values(self) -> Dict[str, str]:
        """The :class:`~polygon.config.PolygonConfig` fields that point a client at these files."""
        return {"s3_endpoint": self.endpoint, "s3_bucket": self.bucket, "s3_access_key_id": self.access_key_id,
                "s3_secret_access_key": self.secret_access_key}

    # -- content ----------------------------------------------------------------------------------------
    def publish(self, start: Any, end: Any = None, kinds: Iterable[str] = ("minute_aggs", "day_aggs"),
                symbols: Optional[Sequence[str]] = None, market: str = "stocks") -> Dict[str, str]:
        """Write the files of every trading day from ``start`` to ``end`` (inclusive).

        :param kinds: ``minute_aggs``, ``day_aggs``, ``trades``, ``quotes`` (futures: ``session_aggs`` for the daily
            files).
        :param symbols: the tickers in the files (default the whole universe; futures: every contract trading).
        :param market: ``stocks``, a futures venue (``futures_cme``...) or ``futures`` (the four venues).
        :returns: ``{key: etag}`` of the files written.
        :raises InvalidParameterError: for a kind the market does not publish.
        """
        kinds = tuple(kinds)
        for kind in kinds:
            check_dataset(market, kind)
        if is_futures(market):
            return self._publish_futures(market, kinds, _as_date(start),
                                         _as_date(end) if end is not None else _as_date(start), symbols)
        if market != "stocks":
            raise PolygonConfigError("the sandbox publishes stocks flat files; %r is not served yet" % (market,))
        kinds = tuple(kinds)
        for kind in kinds:
            if kind not in ("minute_aggs", "day_aggs", "trades", "quotes"):
                raise PolygonConfigError("the sandbox publishes minute_aggs, day_aggs, trades and quotes, not %r"
                                         % (kind,))
        first = _as_date(start)
        last = _as_date(end) if end is not None else first
        days = sessions.trading_days(first, last)
        tickers = [t for t in (sorted(symbols) if symbols else self.model.universe.tickers)
                   if t in self.model.universe]
        written = {}
        for kind in [k for k in kinds if k in ("trades", "quotes")]:
            for day in days:
                key = object_key(market, kind, day)
                written[key] = self.put(key, self.tick_file(day, kind, tickers))
        kinds = tuple(k for k in kinds if k not in ("trades", "quotes"))
        # ticker-major inside a block of days: one vectorised model batch each
        for i in range(0, len(days) if kinds else 0, 20):
            block = days[i:i + 20]
            parts = {(day, kind): ([], []) for day in block for kind in kinds}
            for ticker in tickers:
                listed = set(self.model.session_days(ticker, block[0], block[-1]))
                self.model.prefetch(ticker, [d for d in block if d in listed])
                for day in block:
                    if day not in listed:  # before listing or after delisting: not in the day's file
                        continue
                    for kind in kinds:
                        bars = (self.model.day_minutes(ticker, day, adjusted=False) if kind == "minute_aggs"
                                else self.model.day_bar(ticker, day, adjusted=False))
                        if len(bars):
                            parts[(day, kind)][0].append(ticker)
                            parts[(day, kind)][1].append(bars)
            for (day, kind), (names, bars) in parts.items():
                key = object_key(market, kind, day)
                written[key] = self.put(key, encode_day_file(names, bars))
        return written

    def day_file(self, day: _dt.date, kind: str, tickers: Sequence[str], edit: Any = None) -> bytes:
        """The gzipped CSV of one day (``edit(frame) -> frame`` may change the rows first: a republication)."""
        names, parts = [], []
        for ticker in tickers:
            if ticker not in self.model.universe or not self.model.session_days(ticker, day, day):
                continue
            bars = (self.model.day_minutes(ticker, day, adjusted=False) if kind == "minute_aggs"
                    else self.model.day_bar(ticker, day, adjusted=False))
            if len(bars):
                names.append(ticker)
                parts.append(bars)
        return encode_day_file(names, parts, edit)

    def tick_file(self, day: _dt.date, kind: str, tickers: Sequence[str]) -> bytes:
        """The gzipped CSV of one day's ``trades`` or ``quotes``: the tape the REST ticks and bars come from."""
        import numpy as np
        import pandas as pd

        from polygon.sandbox.tape import day_quotes, day_trades

        frames = []
        for ticker in tickers:
            if ticker not in self.model.universe or not self.model.session_days(ticker, day, day):
                continue
            cols = (day_trades if kind == "trades" else day_quotes)(self.model, ticker, day)
            if not len(cols):
                continue
            frame = pd.DataFrame(cols._asdict())
            frame.insert(0, "ticker", ticker)
            if kind == "trades":  # as the REST handler: condition 12 on every seventh sequence number
                frame["conditions"] = np.where(frame["sequence_number"].to_numpy() % 7 == 0, "12", "")
            frames.append(frame)
        columns = TRADE_COLUMNS if kind == "trades" else QUOTE_COLUMNS
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["ticker"])
        for name in columns:  # the provider's columns this tape has no value for stay empty
            if name not in frame:
                frame[name] = np.nan
        if kind == "trades" and len(frame):
            frame["trf_id"] = np.nan
            frame["trf_timestamp"] = np.nan
        text = frame[list(columns)].to_csv(index=False, lineterminator="\n")
        return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)

    def _publish_futures(self, market: str, kinds: Sequence[str], first: _dt.date, last: _dt.date,
                         symbols: Optional[Sequence[str]]) -> Dict[str, str]:
        from polygon.sandbox import calendars

        written = {}
        for venue in markets_of(market):
            for day in calendars.market_days("futures", first, last):
                tickers = self.futures_tickers(venue, day, symbols)
                for kind in kinds:
                    key = object_key(venue, kind, day)
                    written[key] = self.put(key, self.futures_file(venue, kind, day, tickers))
        return written

    def futures_tickers(self, venue: str, day: _dt.date, symbols: Optional[Sequence[str]] = None) -> list:
        """The contracts in ``venue``'s file of ``day``: those of the venue's products trading that day."""
        from polygon.sandbox.universe import FUTURES_PRODUCTS, futures_contracts

        mic = FUTURES_VENUES[venue[len("futures_"):]]
        tickers = [c.ticker for p in FUTURES_PRODUCTS if p.venue == mic for c in futures_contracts(p, day, day)]
        return [t for t in tickers if (not symbols or t in symbols) and self.model.session_days(t, day, day)]

    def futures_file(self, venue: str, kind: str, day: _dt.date, tickers: Sequence[str]) -> bytes:
        """One futures file: ``kind`` of ``tickers`` on the trading date ``day``, in the documented columns."""
        import pandas as pd

        frames = [frame for frame in (_futures_rows(self.model, venue, kind, day, t) for t in tickers) if len(frame)]
        columns = list(columns_of(venue, kind))
        frame = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
        text = frame.to_csv(index=False, lineterminator="\n")
        return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)

    def put(self, key: str, body: bytes) -> str:
        """Store one object; returns its ETag."""
        etag = self._admin.put_object(Bucket=self.bucket, Key=key, Body=body)["ETag"].strip('"')
        self.published[key] = etag
        return etag

    def delete(self, key: str) -> None:
        """Remove one object (a file withdrawn by the provider)."""
        self._admin.delete_object(Bucket=self.bucket, Key=key)
        self.published.pop(key, None)


def _as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value))


def _futures_rows(model: Any, venue: str, kind: str, day: _dt.date, ticker: str) -> Any:
    """One contract's rows of a futures file: what ``/futures/v1/aggs``, ``/trades`` and ``/quotes`` serve."""
    import numpy as np
    import pandas as pd

    from polygon.sandbox.endpoints.futures_market import settlement_price
    from polygon.sandbox.endpoints.futures_reference import EXCHANGES
    from polygon.sandbox.tape import day_quotes, day_trades
    from polygon.sandbox.universe import futures_contract

    if kind in ("trades", "quotes"):
        cols = (day_trades if kind == "trades" else day_quotes)(model, ticker, day)
        frame = pd.DataFrame({"ticker": ticker, "timestamp": cols.sip_timestamp, "session_end_date": day.isoformat(),
                              "channel": 1, "sequence_number": cols.sequence_number})
        if kind == "trades":
            frame["price"], frame["size"], frame["report_sequence"] = cols.price, cols.size, cols.id
        else:
            for name in ("bid_price", "bid_size", "ask_price", "ask_size"):
                frame[name] = getattr(cols, name)
            frame["bid_timestamp"] = frame["ask_timestamp"] = cols.sip_timestamp
            frame["report_sequence"] = cols.sequence_number
        return frame
    bars = model.day_minutes(ticker, day) if kind == "minute_aggs" else model.day_bar(ticker, day)
    frame = pd.DataFrame({"ticker": ticker, "session_end_date": day.isoformat(),
                          "window_start": bars.t.astype(np.int64) * 1_000_000, "open": bars.o, "high": bars.h,
                          "low": bars.l, "close": bars.c, "volume": bars.v.astype(np.float64),
                          "dollar_volume": [round(float(x), 2) for x in bars.pv], "transactions": bars.n})
    if kind == "minute_aggs":
        mic = FUTURES_VENUES[venue[len("futures_"):]]
        frame["exchange"] = next(int(e["id"]) for e in EXCHANGES if e["mic"] == mic)
    elif len(frame):
        frame["settlement_price"] = settlement_price(model, futures_contract(ticker), day)
    return frame


def encode_day_file(tickers: Sequence[str], parts: Sequence[Any], edit: Any = None) -> bytes:
    """One aggregate day file: the provider's columns, gzipped CSV, rows by ticker then time."""
    import numpy as np
    import pandas as pd

    if parts:
        frame = pd.DataFrame({
            "ticker": np.concatenate([np.full(len(b), t, dtype=object) for t, b in zip(tickers, parts)]),
            "volume": np.concatenate([b.v for b in parts]),
            "open": np.concatenate([b.o for b in parts]),
            "close": np.concatenate([b.c for b in parts]),
            "high": np.concatenate([b.h for b in parts]),
            "low": np.concatenate([b.l for b in parts]),
            "window_start": np.concatenate([b.t for b in parts]).astype(np.int64) * 1_000_000,
            "transactions": np.concatenate([b.n for b in parts]),
        })
    else:
        frame = pd.DataFrame({name: [] for name in AGG_COLUMNS})
    if edit is not None:
        frame = edit(frame)
    text = frame.to_csv(index=False, lineterminator="\n")
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
