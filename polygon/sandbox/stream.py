"""The sandbox's WebSockets (``/stocks``, ``/options``, ``/forex``, ``/crypto``, ``/indices`` and the futures
sockets ``/futures``, ``/futures/cme``, ``/futures/cbot``, ``/futures/nymex``, ``/futures/comex``), speaking the
provider's stream protocol. Each serves every channel of its market (the Business FMV and Launchpad AM/LV
channels too, on the same socket); the events come from :mod:`polygon.sandbox.stream_events`. A futures venue's
socket serves the contracts of that venue (``*``: the front contract of each of its products).

Feeds: the provider serves each feed on its own host (``delayed.massive.com``...); this one server serves a feed
under a path prefix (``/delayed/stocks``, ``/business/futures/cme``; no prefix: real time). A delayed feed runs
:func:`~polygon.sandbox.stream_events.feed_delay_ms` behind the clock (15 minutes; 10 for futures).

On open the server sends ``connected``; the client must send ``{"action":"auth","params":KEY}``
within ``auth_timeout`` seconds (else ``auth_timeout`` and close). A wrong key gets
``auth_failed`` and close; a key already holding ``max_connections`` sockets gets
``max_connections`` and close (the limit counts the sockets of one market of one feed, as the
provider's does: a stocks socket and a crypto socket of one key are two separate allowances).
``subscribe``/``unsubscribe`` take comma lists such as ``T.AAPL,AM.*`` (``XT.X:BTC-USD`` on ``/crypto``) and
are acknowledged one status per item; a channel of another socket is refused with an ``error`` status.
Events are JSON arrays batching many events per frame.

Two pacing modes: market-paced (trades, quotes, per-second and per-minute aggregates as the sandbox
clock passes them; see :mod:`polygon.sandbox.tape`) or, with ``stream_rate``, a firehose of that
many events per second built from the same tapes (for benchmarks), symbols and channels interleaved
round-robin in every frame: every subscribed symbol gets the same share of the rate (its channels share it
round-robin), whatever the rate.
"""

import itertools
import json
import logging
import socket
import time
from typing import Dict, List, Optional, Set, Tuple

import numpy as np
from simple_websocket import ConnectionClosed, Server
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

from polygon.polygon_server.serving import LockedSocket as _LockedSocket
from polygon.sandbox import calendars
from polygon.sandbox.market import MINUTE_MS, et_date
from polygon.sandbox.state import SandboxState
from polygon.sandbox.stream_events import (
    BUILDERS,
    FUTURES_SOCKETS,
    canonical,
    feed_delay_ms,
    index_minute,
    market_channels,
    split_stream_path,
)
from polygon.sandbox.tape import MinuteTape, TapeSource, tape_source
from polygon.sandbox.universe import FUTURES_PRODUCTS, front_contract, futures_contract

__all__ = ["CHANNELS", "StreamSession", "close_all", "serve_stream"]

logger = logging.getLogger(__name__)

CHANNELS = market_channels("stocks")
CONNECTED = {"ev": "status", "status": "connected", "message": "Connected Successfully"}
AUTH_SUCCESS = {"ev": "status", "status": "auth_success", "message": "authenticated"}
AUTH_FAILED = {"ev": "status", "status": "auth_failed", "message": "authentication failed"}
AUTH_TIMEOUT = {"ev": "status", "status": "auth_timeout", "message": "No authentication request received."}
MAX_CONNECTIONS = {"ev": "status", "status": "max_connections", "message": "Maximum number of connections exceeded."}
_TICK = 0.05  # seconds between market-paced emissions
_FRAME_EVENTS = 500  # events per frame in market-paced mode


def _status(status: str, message: str) -> Dict[str, str]:
    return {"ev": "status", "status": status, "message": message}


class _MutedSocket:
    """Socket wrapper that swallows writes: a stalled server sends no frames and no pongs."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: bytes) -> int:
        return len(data)

    def sendall(self, data: bytes) -> None:
        return None

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class _Dropped(Exception):
    """The session must end now (fault injection, shutdown, or the peer left)."""


class StreamSession:
    """One accepted WebSocket connection on ``/<market>`` (``/<feed>/<market>``).

    :param market: the socket's market path (``'stocks'``, ``'futures/cme'``...).
    :param feed: the feed (``'socket'``: real time; ``'delayed'``...).
    """

    def __init__(self, state: SandboxState, ws: Server, market: str = "stocks", feed: str = "socket") -> None:
        self.state = state
        self.ws = ws
        self.socket = market
        self.market = market.split("/")[0]  # 'futures' for every futures venue
        self.venue = FUTURES_SOCKETS.get(market)
        self.feed = feed
        self.delay_ms = feed_delay_ms(feed, market)
        self.channels = market_channels(market)
        self._locked = _LockedSocket(ws.sock)
        ws.sock = self._locked
        self.subs: Set[Tuple[str, str]] = set()
        self.key: Optional[str] = None
        self._claimed: Optional[str] = None  # key holding a max_connections slot, until released
        self.frames_sent = 0
        self.opened = time.monotonic()
        self.stalled = False
        self._last_ms: Optional[int] = None
        self._tapes = _tape_source(state)

    # -- transport ------------------------------------------------------------------------------------
    def send(self, events: List[Dict[str, object]], counted_events: int = 0) -> None:
        self.send_text(json.dumps(events, separators=(",", ":")), counted_events)

    def send_text(self, text: str, counted_events: int = 0) -> None:
        self._check_faults()
        if self.stalled:
            return
        with self._locked.write_lock:  # build and write under one lock: frames never interleave
            try:
                data = self.ws.ws.send(TextMessage(data=text))
                self.ws.sock.sendall(data)
            except (OSError, LocalProtocolError):  # peer gone, or the close handshake already ran
                raise _Dropped() from None
        self.frames_sent += 1
        self.state.count_ws(messages=1, events=counted_events)
        self._check_faults()

    def _check_faults(self) -> None:
        if self.state.stopping.is_set() or not self.ws.connected:
            raise _Dropped()
        opts = self.state.options
        limit = opts.get("ws_drop_after_messages")
        if limit and self.frames_sent >= int(limit):
            self.abort()
            raise _Dropped()
        seconds = opts.get("ws_drop_after_seconds")
        if seconds and time.monotonic() - self.opened >= float(seconds):
            self.abort()
            raise _Dropped()
        stall = opts.get("ws_stall")
        if stall and not self.stalled:
            after = 0 if stall is True else int(stall)
            if (stall is True and self.key is not None) or (stall is not True and self.frames_sent >= after):
                self.stalled = True
                self._locked.muted = True
                self.ws.sock = _MutedSocket(self.ws.sock)  # also silences simple-websocket's pongs

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure looks like)."""
        sock = self.ws.sock
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.ws.close()
        except (ConnectionClosed, OSError):
            pass

    # -- protocol -----------------------------------------------------------------------------------
    def run(self) -> None:
        self.send([CONNECTED])
        try:
            if self._authenticate():
                self._serve()
        finally:
            # the slot is claimed inside _authenticate: release it however the session ends,
            # even when the socket dies while auth_success is being sent
            if self._claimed is not None:
                self.state.release_connection(self._claimed, (self.feed, self.socket))
                self._claimed = None

    def _receive(self, timeout: float) -> Optional[str]:
        try:
            msg = self.ws.receive(timeout=timeout)
        except ConnectionClosed:
            raise _Dropped() from None
        if msg is None and not self.ws.connected:
            raise _Dropped()
        return msg if isinstance(msg, str) or msg is None else msg.decode("utf-8", "replace")

    def _authenticate(self) -> bool:
        deadline = time.monotonic() + float(self.state.options.get("auth_timeout") or 10.0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.send([AUTH_TIMEOUT])
                self.close()
                return False
            msg = self._receive(min(left, 0.25))
            if self.state.stopping.is_set():
                raise _Dropped()
            if msg is None:
                continue
            action, params = _parse(msg)
            if action != "auth":
                self.send([_status("error", "not authorized" if action else "invalid message")])
                continue
            if params != self.state.api_key:
                self.send([AUTH_FAILED])
                self.close()
                return False
            if not self.state.claim_connection(params, (self.feed, self.socket)):
                self.send([MAX_CONNECTIONS])
                self.close()
                return False
            self._claimed = params  # recorded before any send can fail, so run() releases the slot
            with self._locked.write_lock:  # no pong slips out between auth_success and a stall
                self.send([AUTH_SUCCESS])
                self.key = params  # authenticated (``ws_stall=True`` mutes the session from here on)
                self._check_faults()
            return True

    def _handle(self, msg: str) -> None:
        action, params = _parse(msg)
        if action in ("subscribe", "unsubscribe"):
            acks = []
            for item in [p.strip() for p in (params or "").split(",") if p.strip()]:
                channel, _, symbol = item.partition(".")
                if channel not in self.channels or not symbol:
                    acks.append(_status("error", "invalid subscription: %s" % item))
                    continue
                symbol = symbol if symbol == "*" else canonical(symbol, self.market)
                if action == "subscribe":
                    self.subs.add((channel, symbol))
                    acks.append(_status("success", "subscribed to: %s" % item))
                else:
                    self.subs.discard((channel, symbol))
                    acks.append(_status("success", "unsubscribed to: %s" % item))
            if acks:
                self.send(acks)
        elif action == "auth":
            self.send([_status("auth_success", "authenticated")])
        else:
            self.send([_status("error", "invalid action")])

    def _drain(self, timeout: float) -> None:
        msg = self._receive(timeout)
        while msg is not None:
            self._handle(msg)
            msg = self._receive(0)

    def _serve(self) -> None:
        rate_frames: Optional[List[str]] = None
        rate_key = None
        sent, per_frame = 0, 1
        t0 = time.monotonic()
        while True:
            self._check_faults()
            if self.stalled:
                self._receive(0.2)  # keep reading (and discarding) until the peer gives up
                self._check_faults()
                continue
            rate = self.state.options.get("stream_rate")
            if not rate:
                rate_frames = None
                self._drain(_TICK)
                self._emit_market()
                continue
            key = (frozenset(self.subs), float(rate))
            if rate_frames is None or key != rate_key:
                rate_frames, rate_key = self._firehose_frames(float(rate)), key
                sent, t0 = 0, time.monotonic()
                per_frame = rate_frames[0].count('"ev"') if rate_frames else 1
            if not rate_frames:
                self._drain(0.1)
                continue
            due = float(rate) * (time.monotonic() - t0) - sent
            if due > float(rate) + per_frame:  # a slow reader: drop the backlog instead of bursting later
                t0, sent, due = time.monotonic() - per_frame / float(rate), 0, per_frame
            if due < per_frame:
                self._drain(min(0.1, (per_frame - due) / float(rate)))
                continue
            self._drain(0)
            now = str(self.state.clock.now_ms() - self.delay_ms)
            frame = rate_frames[(sent // per_frame) % len(rate_frames)]
            self.send_text(frame.replace("\x01", now), per_frame)
            sent += per_frame

    # -- event production ---------------------------------------------------------------------------
    def _symbols(self) -> Dict[str, Set[str]]:
        """channel -> symbols (a ``*`` wildcard: every ticker of the market; on options, the contracts of
        the nearest expiry of SPY)."""
        out: Dict[str, Set[str]] = {c: set() for c in self.channels}
        everything: Optional[List[str]] = None
        for channel, symbol in self.subs:
            if symbol == "*":
                if everything is None:
                    everything = self._every_ticker()
                out[channel].update(everything)
            elif self.venue is None or self._on_venue(symbol):
                out[channel].add(symbol)
        return out

    def _on_venue(self, symbol: str) -> bool:
        contract = futures_contract(symbol)
        return contract is not None and contract.product.venue == self.venue

    def _every_ticker(self) -> List[str]:
        universe = self.state.model.universe
        if self.market == "options":
            from polygon.sandbox.options import contracts, expirations

            day = et_date(self.state.clock.now_ms())
            expiries = expirations("SPY", day)
            return [c[0] for c in contracts(universe, "SPY", expiries[0])] if expiries else []
        if self.market == "futures":
            day = calendars.day_of("futures", self.state.clock.now_ms() - self.delay_ms)
            return [front_contract(p, day).ticker for p in FUTURES_PRODUCTS if self.venue in (None, p.venue)]
        return [s.ticker for s in universe.of_market({"forex": "fx"}.get(self.market, self.market))]

    def _tape(self, sym: str, minute: int) -> Optional[MinuteTape]:
        """The tape of ``sym`` for ``minute`` (``None``: no trades then, or a ticker without a series)."""
        return self._tapes.minute(sym, minute)

    def _events(self, sym: str, channel: str, tape: MinuteTape, lo: int, hi: int) -> List[Dict[str, object]]:
        if self.market == "indices" and channel == "AM":
            bars, _v, _pv, day_open = self._tapes.day_context(sym, self.state.model.day_of(sym, tape.start))
            i = int(np.searchsorted(bars.t, tape.start))
            bar = (float(bars.o[i]), float(bars.h[i]), float(bars.l[i]), float(bars.c[i]))
            return index_minute(sym, bar, day_open, tape, lo, hi)
        return BUILDERS[(self.market, channel)](sym, tape, lo, hi)

    def _emit_market(self) -> None:
        now = self.state.clock.now_ms() - self.delay_ms
        last, self._last_ms = self._last_ms, now
        if last is None or now <= last or not self.subs:
            return
        last = max(last, now - 5 * MINUTE_MS)  # never backfill more than a few minutes
        by_channel = self._symbols()
        events: List[Dict[str, object]] = []
        symbols = set().union(*by_channel.values())
        for minute in range(last - last % MINUTE_MS, now + 1, MINUTE_MS):
            for sym in sorted(symbols):
                tape = self._tape(sym, minute)
                if tape is None:
                    continue
                for channel in self.channels:
                    if sym in by_channel[channel]:
                        events.extend(self._events(sym, channel, tape, last, now))
        if not events:
            return
        events.sort(key=lambda e: e.get("t", e.get("e", 0)))
        for i in range(0, len(events), _FRAME_EVENTS):
            chunk = events[i:i + _FRAME_EVENTS]
            self.send(chunk, len(chunk))

    def _firehose_frames(self, rate: float) -> List[str]:
        """Pre-encoded frames (``\\x01`` marks the timestamp) cycling through real tape events.

        Fair at any rate: the cycle holds the same number of events of every subscribed symbol, interleaved
        one symbol after the other (a symbol's channels take turns within its share), so a slow firehose
        (one event per frame) still reaches every symbol.
        """
        by_channel = self._symbols()
        symbols = sorted(set().union(*by_channel.values()))[:100]
        if not symbols:
            return []
        per_frame = int(max(1, min(1000, rate / 200.0)))
        want = max(1, -(-16 * per_frame // len(symbols)))  # events of each symbol in one cycle
        streams: Dict[Tuple[str, str], List[str]] = {}
        counts = dict.fromkeys(symbols, 0)
        total = 0
        day_start = _session_anchor(self.state, self.market)
        for offset in range(0, 390 * MINUTE_MS, MINUTE_MS):
            for sym in symbols:
                tape = self._tape(sym, day_start + offset)
                if tape is None:
                    continue
                lo, hi = tape.start - 1, tape.start + MINUTE_MS
                for channel in self.channels:
                    if sym not in by_channel[channel]:
                        continue
                    evs = self._events(sym, channel, tape, lo, hi)
                    bucket = streams.setdefault((sym, channel), [])
                    for ev in evs:
                        for key in ("t", "bt", "at"):
                            if key in ev:
                                ev[key] = 0
                        text = json.dumps(ev, separators=(",", ":"))
                        bucket.append(text.replace('"t":0', '"t":\x01').replace('"bt":0', '"bt":\x01')
                                      .replace('"at":0', '"at":\x01'))
                    counts[sym] += len(evs)
                    total += len(evs)
            # enough for a cycle once every symbol has events (a thin one's are repeated below); bounded work
            if total >= 16 * per_frame and (min(counts.values()) > 0 or total >= 64 * per_frame):
                break
        per_symbol = []
        for sym in symbols:  # the symbol's channels round-robin, cycled to ``want`` events
            merged = [ev for group in itertools.zip_longest(*(streams.get((sym, c), []) for c in self.channels))
                      for ev in group if ev is not None]
            if merged:
                per_symbol.append((merged * (-(-want // len(merged))))[:want])
        if not per_symbol:
            return []
        pool = [events[i] for i in range(want) for events in per_symbol]
        while len(pool) < per_frame:
            pool.extend(pool)
        return ["[" + ",".join(pool[i:i + per_frame]) + "]" for i in range(0, len(pool) - per_frame + 1, per_frame)]


def _session_anchor(state: SandboxState, market: str = "stocks") -> int:
    """Regular open (epoch ms) of the clock's replay day, or of the latest session (a futures session's open
    for the futures sockets)."""
    import datetime as _dt

    from polygon.markets import sessions

    clock = state.clock
    if market == "futures":
        today = calendars.day_of("futures", clock.now_ms())
        day = calendars.market_days("futures", today - _dt.timedelta(days=10), today)[-1]
        return int(calendars.day_start_ms("futures", day))
    if clock.bounds is not None:
        day = clock.replay_day
    else:
        today = et_date(clock.now_ms())
        day = sessions.trading_days(today - _dt.timedelta(days=10), today)[-1]
    return int(sessions.session_bounds(day, day)[0][0])


def _parse(msg: str) -> Tuple[Optional[str], Optional[str]]:
    try:
        data = json.loads(msg)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    params = data.get("params")
    return data.get("action"), params if isinstance(params, str) else None


def _tape_source(state: SandboxState) -> TapeSource:
    return tape_source(state.model)


def serve_stream(state: SandboxState, environ, market: str = "stocks") -> None:
    """Accept the WebSocket upgrade in ``environ`` and serve ``market``'s socket until it closes (the feed is
    read from the path's prefix: ``/delayed/stocks``)."""
    feed, _ = split_stream_path(environ.get("PATH_INFO") or "/" + market)
    ws = Server.accept(environ)
    session = StreamSession(state, ws, market, feed or "socket")
    with state.lock:
        state.ws_sessions.add(session)
    state.count_ws(connections=1)
    try:
        session.run()
    except _Dropped:
        pass
    except Exception:
        logger.exception("sandbox stream session failed")
    finally:
        with state.lock:
            state.ws_sessions.discard(session)
        if ws.connected:
            session.close()
        # let simple-websocket's reader finish the close handshake (it sends the reply to a
        # client's close frame) before the socket is cut
        ws.thread.join(timeout=1.0)
        session.abort()
        ws.thread.join(timeout=2.0)


def close_all(state: SandboxState, wait: bool = False) -> None:
    """Drop every open stream session of ``state`` (at shutdown)."""
    with state.lock:
        open_sessions = list(state.ws_sessions)
    for session in open_sessions:
        session.abort()
    if wait:
        for session in open_sessions:
            session.ws.thread.join(timeout=2.0)
