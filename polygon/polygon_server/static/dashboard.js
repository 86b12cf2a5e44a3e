// The polygon server's dashboard: watched symbols as candlestick charts (1-minute bars through the server's
// cache, then live trades and minute aggregates over this page's own /ws connection), a tick tape, the
// relay's clients, upstream state, rate-limit gauges, a cache browser and the bars API's "try it" form.
// Everything comes from this server; nothing is loaded from elsewhere.
"use strict";
(function () {
  const LWC = window.LightweightCharts;
  const UP = "#26a69a", DOWN = "#ef5350";
  const STATUS_EVERY_MS = 1000, CACHE_EVERY_MS = 5000, TAPE_MAX = 80;
  // how long a new chart waits for a live event to say what "now" is (?history_wait=ms overrides it)
  const HISTORY_WAIT_MS = Math.max(0, Number(new URL(location.href).searchParams.get("history_wait") || 2500));
  const $ = (id) => document.getElementById(id);
  const clientId = "dashboard-" + Math.random().toString(36).slice(2, 10);
  // read by the browser test and handy in the console
  const state = window.dashboard = { clientId: clientId, ticks: 0, events: 0, watches: {}, ws: null };
  $("client-id").textContent = clientId;

  // -- small helpers -----------------------------------------------------------------------------------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmtNum(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    return Number(v).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 2 : digits });
  }
  function fmtBytes(n) {
    if (!n) return "0 B";
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return n.toFixed(i ? 1 : 0) + " " + units[i];
  }
  function fmtDuration(s) {
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? h + "h " + m + "m" : m ? m + "m " + (s % 60) + "s" : s + "s";
  }
  function shortTime(iso) { return iso ? String(iso).replace("T", " ").replace(/(:\d\d)(\.\d+)?([+-]\d\d:\d\d|Z)?$/, "$1") : "–"; }
  function showError(message) {
    const box = $("error");
    box.hidden = !message;
    box.textContent = message || "";
  }
  async function api(path, options) {
    const response = await fetch(path, options);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const err = (body && body.error) || {};
      throw new Error((err.code ? err.code + ": " : "") + (err.message || response.status + " " + response.statusText));
    }
    return body;
  }
  function postBars(request) {
    return api("/api/v1/bars", { method: "POST", headers: { "Content-Type": "application/json" },
                                 body: JSON.stringify(request) });
  }

  // Charts show New York wall time (the exchange's), whatever the browser's zone: lightweight-charts draws
  // UTC, so each time is shifted by New York's offset at that instant (cached per hour).
  const zoneParts = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", timeZoneName: "longOffset" });
  const offsets = new Map();
  function nyOffsetSeconds(ms) {
    const hour = Math.floor(ms / 3600000);
    let off = offsets.get(hour);
    if (off === undefined) {
      const name = zoneParts.formatToParts(new Date(ms)).find((p) => p.type === "timeZoneName").value;
      const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
      off = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
      offsets.set(hour, off);
    }
    return off;
  }
  function chartTime(ms) { return Math.floor(ms / 60000) * 60 + nyOffsetSeconds(ms); }
  function nyDate(ms) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(new Date(ms));
  }
  function addDays(isoDate, days) {
    const d = new Date(isoDate + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function makeChart(container, daily) {
    const chart = LWC.createChart(container, {
      autoSize: true,
      layout: { background: { type: "solid", color: "#121720" }, textColor: "#8a93a6", fontSize: 11 },
      grid: { vertLines: { color: "#1b212d" }, horzLines: { color: "#1b212d" } },
      rightPriceScale: { borderColor: "#262d3a", scaleMargins: { top: 0.08, bottom: 0.24 } },
      timeScale: { borderColor: "#262d3a", timeVisible: !daily, secondsVisible: false, rightOffset: 4 },
      crosshair: { mode: 0 },
    });
    const candles = chart.addSeries(LWC.CandlestickSeries, {
      upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
    });
    const volume = chart.addSeries(LWC.HistogramSeries, {
      priceScaleId: "volume", priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false,
    });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    return { chart: chart, candles: candles, volume: volume };
  }
  function volumeOf(bar) {
    return { time: bar.time, value: bar.volume || 0, color: bar.close >= bar.open ? "rgba(38,166,154,.35)" : "rgba(239,83,80,.35)" };
  }

  // -- watched symbols ---------------------------------------------------------------------------------
  class Watch {
    constructor(symbol) {
      this.symbol = symbol;
      this.bars = [];          // {time, open, high, low, close, volume}, ascending
      this.pending = [];       // live events that arrived before the history
      this.loaded = false;
      this.anchored = false;   // the history was cut at a live event's time
      this.trades = 0;
      this.lastPrice = null;
      this.card = el("div", "card");
      this.card.dataset.symbol = symbol;
      const head = el("div", "card-head");
      head.appendChild(el("span", "sym", symbol));
      this.priceNode = head.appendChild(el("span", "last", "–"));
      this.noteNode = head.appendChild(el("span", "note", "loading bars…"));
      const close = head.appendChild(el("button", "", "×"));
      close.title = "stop watching " + symbol;
      close.addEventListener("click", () => unwatch(symbol));
      this.card.appendChild(head);
      const box = this.card.appendChild(el("div", "chart"));
      $("charts").appendChild(this.card);
      this.chart = makeChart(box, false);
      this.timer = setTimeout(() => this.loadHistory(null), HISTORY_WAIT_MS);
    }

    // The first live event says what "now" is for this market (a replayed session in the sandbox): the
    // history is the days up to it, cut before its minute, so live events continue the bars.
    // When no event came in time (a quiet symbol), the history ends at the wall clock; if the first event
    // then turns out to be older than those bars (a replayed session), the history is loaded again, cut at it.
    onEvent(event) {
      if (!this.loaded) {
        this.pending.push(event);
        if (this.timer !== null) {
          clearTimeout(this.timer);
          this.timer = null;
          this.loadHistory(event.timestamp);
        }
        return;
      }
      if (!this.anchored && event.timestamp !== null && event.timestamp !== undefined) {
        const last = this.bars.length ? this.bars[this.bars.length - 1] : null;
        this.anchored = true;
        if (last && chartTime(event.timestamp) < last.time) {
          this.loaded = false;
          this.pending = [event];
          this.loadHistory(event.timestamp);
          return;
        }
      }
      this.apply(event);
    }

    async loadHistory(nowMs) {
      this.timer = null;
      this.anchored = nowMs !== null;
      const end = nyDate(nowMs === null ? Date.now() : nowMs);
      let source = "";
      try {
        const body = await postBars({ symbol: this.symbol, timeframe: "1min", start_date: addDays(end, -4), end_date: end });
        const cut = nowMs === null ? Infinity : Math.floor(nowMs / 60000) * 60000;
        this.bars = body.bars.filter((b) => b.t < cut && b.open !== null).map((b) => ({
          time: chartTime(b.t), open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume,
        }));
        source = this.bars.length + " bars from " + body.source;
      } catch (err) {
        source = "no bars: " + err.message;
      }
      this.loaded = true;
      this.redraw();
      const pending = this.pending;
      this.pending = [];
      pending.forEach((event) => this.apply(event));
      this.source = source;
      this.updateNote();
      if (this.bars.length) {
        this.chart.chart.timeScale().setVisibleLogicalRange({ from: this.bars.length - 120, to: this.bars.length + 4 });
        if (this.lastPrice === null) this.priceNode.textContent = fmtNum(this.bars[this.bars.length - 1].close);
      }
    }

    redraw() {
      this.chart.candles.setData(this.bars);
      this.chart.volume.setData(this.bars.map(volumeOf));
    }

    updateNote() {
      this.noteNode.textContent = (this.source || "") + (this.trades ? " · " + this.trades + " live trades" : "");
    }

    apply(event) {
      if (event.timestamp === null || event.timestamp === undefined) return;
      const time = chartTime(event.timestamp);
      const last = this.bars.length ? this.bars[this.bars.length - 1] : null;
      if (event.event_type === "trade") {
        if (event.price === null || event.price === undefined) return;
        this.trades += 1;
        this.lastTrade = event.timestamp;
        const up = this.lastPrice === null || event.price >= this.lastPrice;
        this.lastPrice = event.price;
        this.priceNode.textContent = fmtNum(event.price);
        this.priceNode.className = "last " + (up ? "up" : "down");
        if (last && time < last.time) return;  // late for a bar already closed
        let bar = last;
        if (!last || time > last.time) {
          bar = { time: time, open: event.price, high: event.price, low: event.price, close: event.price, volume: 0 };
          this.bars.push(bar);
        }
        bar.high = Math.max(bar.high, event.price);
        bar.low = Math.min(bar.low, event.price);
        bar.close = event.price;
        bar.volume += event.size || 0;
        this.chart.candles.update(bar);
        this.chart.volume.update(volumeOf(bar));
        this.updateNote();
      } else if (event.event_type === "aggregate" && event.open !== null) {
        // a minute aggregate is the provider's final word on that minute
        const bar = { time: time, open: event.open, high: event.high, low: event.low, close: event.close, volume: event.volume };
        const at = this.bars.findIndex((b) => b.time === time);
        if (at >= 0) {
          this.bars[at] = bar;
          if (at === this.bars.length - 1) {
            this.chart.candles.update(bar);
            this.chart.volume.update(volumeOf(bar));
          } else {
            this.redraw();
          }
        } else if (!last || time > last.time) {
          this.bars.push(bar);
          this.chart.candles.update(bar);
          this.chart.volume.update(volumeOf(bar));
        }
      }
    }

    remove() {
      if (this.timer !== null) clearTimeout(this.timer);
      this.chart.chart.remove();
      this.card.remove();
    }
  }

  function watch(symbol) {
    symbol = String(symbol || "").trim().toUpperCase();
    if (!symbol || state.watches[symbol]) return;
    state.watches[symbol] = new Watch(symbol);
    send({ action: "subscribe", symbols: [symbol], channels: ["T", "AM"] });
    syncUrl();
  }
  function unwatch(symbol) {
    const w = state.watches[symbol];
    if (!w) return;
    delete state.watches[symbol];
    w.remove();
    send({ action: "unsubscribe", symbols: [symbol] });
    syncUrl();
  }
  function syncUrl() {
    const symbols = Object.keys(state.watches);
    const url = new URL(location.href);
    if (symbols.length) url.searchParams.set("watch", symbols.join(",")); else url.searchParams.delete("watch");
    history.replaceState(null, "", url);
  }
  $("watch-form").addEventListener("submit", (e) => {
    e.preventDefault();
    watch($("watch-symbol").value);
    $("watch-symbol").value = "";
  });

  // -- tick tape ---------------------------------------------------------------------------------------
  const tapeQueue = [];
  const tapeLast = {};
  function onTrade(event) {
    state.ticks += 1;
    tapeQueue.push(event);
    if (tapeQueue.length > 40) tapeQueue.splice(0, tapeQueue.length - 40);
  }
  function drawTape() {
    if (tapeQueue.length) {
      const tape = $("tape");
      const items = tapeQueue.splice(0, tapeQueue.length);
      for (const event of items) {
        const prev = tapeLast[event.symbol];
        tapeLast[event.symbol] = event.price;
        const tick = el("span", "tick " + (prev === undefined || event.price >= prev ? "up" : "down"));
        tick.appendChild(el("b", "", event.symbol));
        tick.appendChild(document.createTextNode(fmtNum(event.price) + " × " + fmtNum(event.size, 0)));
        tape.insertBefore(tick, tape.firstChild);
      }
      while (tape.childElementCount > TAPE_MAX) tape.removeChild(tape.lastChild);
      $("tape-count").textContent = state.ticks + " trades";
    }
    requestAnimationFrame(drawTape);
  }
  requestAnimationFrame(drawTape);

  // -- the page's own stream connection ----------------------------------------------------------------
  let backoff = 1000;
  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  }
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/" + clientId);
    state.ws = ws;
    $("ws-state").textContent = "connecting";
    ws.onopen = () => {
      backoff = 1000;
      $("ws-state").textContent = "connected";
      const symbols = Object.keys(state.watches);
      if (symbols.length) send({ action: "subscribe", symbols: symbols, channels: ["T", "AM"] });
    };
    ws.onmessage = (msg) => {
      let m;
      try { m = JSON.parse(msg.data); } catch (e) { return; }
      if (m.type === "data") {
        state.events += 1;
        const event = m.data || {};
        if (event.event_type === "trade") onTrade(event);
        const w = state.watches[m.symbol];
        if (w) w.onEvent(event);
      } else if (m.type === "error") {
        showError("stream: " + m.code + ": " + m.message);
      } else if (m.type === "subscribed") {
        showError("");
      } else if (m.type === "status" && (m.status === "redis_disconnected" || m.status === "upstream_disconnected")) {
        $("ws-state").textContent = "connected, stream interrupted";  // no events until it resumes
        showError("stream: " + (m.message || m.status));
      } else if (m.type === "status" && (m.status === "redis_reconnected" || m.status === "upstream_connected")) {
        $("ws-state").textContent = "connected";
        showError("");
      }
    };
    ws.onclose = () => {
      $("ws-state").textContent = "closed, retrying";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  // -- status panels -----------------------------------------------------------------------------------
  const lastSent = {};
  function kv(id, pairs) {
    const dl = $(id);
    dl.textContent = "";
    for (const [key, value] of pairs) {
      dl.appendChild(el("dt", "", key));
      const dd = dl.appendChild(el("dd"));
      if (value instanceof Node) dd.appendChild(value); else dd.textContent = value === null || value === undefined ? "–" : String(value);
    }
  }
  function stateDot(on, text) {
    const span = el("span");
    span.appendChild(el("span", "dot " + (on ? "on" : "off")));
    span.appendChild(document.createTextNode(text));
    return span;
  }
  function renderHealth(status) {
    const health = status.health || {};
    $("version").textContent = health.version ? "v" + health.version : "";
    const mode = $("mode");
    mode.textContent = { sandbox: "sandbox market", provider: "provider", no_key: "no API key" }[health.mode] || health.mode;
    mode.className = "badge " + (health.mode === "no_key" ? "bad" : "ok");
    const h = $("health");
    h.textContent = "health: " + health.status;
    h.className = "badge " + (health.status === "ok" ? "ok" : "bad");
    const banner = $("banner");
    banner.hidden = health.status === "ok";
    banner.textContent = health.status === "ok" ? "" : "Degraded: " + (health.reason || "see /api/v1/health");
  }
  function renderClients(stream, now) {
    const body = $("clients").tBodies[0];
    body.textContent = "";
    const ids = Object.keys(stream.clients || {}).sort();
    if (!ids.length) {
      const tr = body.appendChild(el("tr"));
      const td = tr.appendChild(el("td", "muted", "no stream clients"));
      td.colSpan = 8;
    }
    for (const id of ids) {
      const c = stream.clients[id];
      const prev = lastSent[id];
      const rate = prev ? (c.sent - prev.sent) / Math.max((now - prev.at) / 1000, 0.001) : null;
      lastSent[id] = { sent: c.sent, at: now };
      const subs = Object.entries(c.subscriptions || {}).map(([s, ch]) => s + ":" + [].concat(ch).join("+")).join(" ");
      const tr = body.appendChild(el("tr", id === clientId ? "me" : ""));
      tr.dataset.client = id;
      tr.appendChild(el("td", "", id));
      tr.appendChild(el("td", "", shortTime(c.connected_at)));
      tr.appendChild(el("td", "", subs || "–"));
      tr.appendChild(el("td", "num", rate === null ? "…" : fmtNum(rate, 1)));
      tr.appendChild(el("td", "num", fmtNum(c.sent, 0)));
      tr.appendChild(el("td", "num", fmtNum(c.pending, 0)));
      tr.appendChild(el("td", "num", fmtNum(c.dropped, 0)));
      tr.appendChild(el("td", "num", c.lag_ms === undefined ? "–" : fmtNum(c.lag_ms, 0)));
    }
  }
  function renderUpstream(up) {
    kv("upstream", [
      ["state", stateDot(up.connected, up.connected ? "connected" : "not connected")],
      ["url", up.url],
      ["provider subscriptions", (up.provider_subscriptions || []).join(", ") || "–"],
      ["messages", fmtNum(up.message_count, 0)],
      ["reconnects", fmtNum(up.reconnects, 0)],
      ["dropped", fmtNum(up.dropped_messages, 0)],
      ["last error", up.last_error || "–"],
    ]);
  }
  function gauge(label, usage) {
    const box = el("div", "gauge");
    const head = box.appendChild(el("div", "label"));
    head.appendChild(el("span", "", label));
    const used = usage.used || 0;
    const text = usage.limit === null || usage.limit === undefined
      ? used + " used · no limit"
      : used + " / " + usage.limit + " · resets in " + fmtDuration(usage.reset_in || 0);
    head.appendChild(el("span", "muted", text));
    const track = box.appendChild(el("div", "track"));
    const share = usage.limit ? Math.min(used / usage.limit, 1) : 0;
    const fill = track.appendChild(el("div", "fill" + (share >= 1 ? " full" : share >= 0.8 ? " high" : "")));
    fill.style.width = (share * 100).toFixed(1) + "%";
    return box;
  }
  function renderRate(limits) {
    const box = $("rate");
    box.textContent = "";
    if (!limits) { box.appendChild(el("span", "muted", "no requests yet")); return; }
    box.appendChild(gauge("per minute", limits.minute || {}));
    box.appendChild(gauge("per day", limits.daily || {}));
    // requests per endpoint family (bars, splits, reference...): where the budget goes
    const families = Object.entries(limits.families || {});
    const table = box.appendChild(el("table", "families"));
    table.id = "rate-families";
    const head = table.appendChild(el("tr"));
    ["endpoint family", "this minute", "today"].forEach((t, i) => head.appendChild(el("th", i ? "num" : "", t)));
    if (!families.length) {
      const row = table.appendChild(el("tr"));
      const cell = row.appendChild(el("td", "muted", "no requests today"));
      cell.colSpan = 3;
    }
    for (const [name, used] of families) {
      const row = table.appendChild(el("tr"));
      row.appendChild(el("td", "", name));
      row.appendChild(el("td", "num", fmtNum(used.minute || 0, 0)));
      row.appendChild(el("td", "num", fmtNum(used.daily || 0, 0)));
    }
  }
  function renderServer(status) {
    const s = status.server || {};
    const count = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
    const errors = Object.entries(s.errors || {}).map(([k, v]) => k + " " + v).join(", ");
    kv("server", [
      ["provider", (status.provider || {}).base_url],
      ["uptime", fmtDuration(s.uptime_seconds || 0)],
      ["requests", fmtNum(count(s.requests), 0)],
      ["errors", errors || "none"],
      ["cache", ((status.cache || {}).dir || "–") + ((status.cache || {}).writable ? "" : " (read-only)")],
    ]);
    $("cache-dir").textContent = (status.cache || {}).dir || "";
  }
  async function pollStatus() {
    try {
      const status = await api("/api/v1/status");
      renderHealth(status);
      renderClients(status.stream || {}, Date.now());
      renderUpstream((status.stream || {}).upstream || {});
      renderRate(status.rate_limit);
      renderServer(status);
    } catch (err) {
      $("health").textContent = "server unreachable";
      $("health").className = "badge bad";
    }
    setTimeout(pollStatus, STATUS_EVERY_MS);
  }

  // -- cache browser -----------------------------------------------------------------------------------
  const coverageSeen = {};
  function timeline(coverage) {
    const box = el("div", "timeline");
    if (!coverage || !coverage.length) return box;
    const lo = coverage[0][0], hi = coverage[coverage.length - 1][1], span = Math.max(hi - lo, 1);
    for (const [a, b] of coverage) {
      const part = box.appendChild(el("span"));
      part.style.left = ((a - lo) / span * 100).toFixed(3) + "%";
      part.style.width = ((b - a) / span * 100).toFixed(3) + "%";
    }
    box.title = coverage.length + " covered range(s), " + new Date(lo).toISOString().slice(0, 10) + " .. " +
      new Date(hi).toISOString().slice(0, 10) + " (gaps in red)";
    return box;
  }
  async function pollCache() {
    try {
      const listing = await api("/api/v1/cache");
      const body = $("cache").tBodies[0];
      body.textContent = "";
      if (!listing.entries.length) {
        const td = body.appendChild(el("tr")).appendChild(el("td", "muted", "the cache is empty"));
        td.colSpan = 7;
      }
      for (const entry of listing.entries.slice(0, 50)) {
        const tr = body.appendChild(el("tr"));
        tr.appendChild(el("td", "", entry.symbol));
        tr.appendChild(el("td", "", entry.timeframe));
        tr.appendChild(el("td", "num", fmtNum(entry.rows, 0)));
        tr.appendChild(el("td", "", shortTime(entry.first)));
        tr.appendChild(el("td", "", shortTime(entry.last)));
        tr.appendChild(el("td", "num", fmtBytes(entry.size_bytes)));
        const cell = tr.appendChild(el("td"));
        const key = entry.symbol + "/" + entry.timeframe;
        const seen = coverageSeen[key];
        if (seen && seen.rows === entry.rows && seen.last === entry.last) {
          cell.appendChild(timeline(seen.coverage));
        } else {
          const q = "?symbol=" + encodeURIComponent(entry.symbol) + "&timeframe=" + encodeURIComponent(entry.timeframe);
          api("/api/v1/cache/coverage" + q).then((c) => {
            coverageSeen[key] = { rows: entry.rows, last: entry.last, coverage: c.coverage };
            cell.textContent = "";
            cell.appendChild(timeline(c.coverage));
          }).catch(() => { cell.textContent = "–"; });
        }
      }
    } catch (err) {
      // the next poll tries again; the status badge already says when the server is unreachable
    }
    setTimeout(pollCache, CACHE_EVERY_MS);
  }

  // -- try it ------------------------------------------------------------------------------------------
  let tryChart = null;
  $("try-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const request = {};
    for (const [k, v] of form.entries()) if (String(v).trim()) request[k] = String(v).trim();
    const info = $("try-info");
    info.textContent = "fetching…";
    try {
      const body = await postBars(request);
      const daily = !/min|hour|sec/.test(body.timeframe || "");
      if (tryChart) tryChart.chart.remove();
      const box = $("try-chart");
      box.textContent = "";
      box.hidden = false;
      tryChart = makeChart(box, daily);
      const bars = body.bars.filter((b) => b.open !== null).map((b) => ({
        time: daily ? b.timestamp.slice(0, 10) : chartTime(b.t),
        open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume,
      }));
      tryChart.candles.setData(bars);
      tryChart.volume.setData(bars.map(volumeOf));
      const scale = tryChart.chart.timeScale();
      scale.fitContent();
      scale.subscribeSizeChange(() => scale.fitContent());  // autoSize measures the box later: fit again then
      info.textContent = body.count + " " + body.timeframe + " bars of " + body.symbol + " from " + body.source +
        " (" + shortTime(body.start) + " .. " + shortTime(body.end) + ")" + (body.may_change ? ", the last may still change" : "");
    } catch (err) {
      info.textContent = err.message;
    }
  });

  connect();
  pollStatus();
  pollCache();
  const initial = new URL(location.href).searchParams.get("watch");
  if (initial) initial.split(",").forEach(watch);
})();
