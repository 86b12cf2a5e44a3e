"""The ``polygon`` console script against the sandbox (subprocesses)."""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from cli_helpers import ROOT, STREAM_OPTIONS, cli_env, stream_summary, wait_until


def test_endpoints_table(cli):
    out = cli("endpoints").stdout
    assert "get_aggs" in out and "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}" in out
    assert len(out.strip().splitlines()) >= 11


def test_fetch_then_cache_list_size_info_export_clear(cli, tmp_path):
    out = cli("fetch", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-01-31").stdout
    assert "20 bars, source=api" in out
    out = cli("fetch", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-01-31").stdout
    assert "20 bars, source=cache" in out
    listing = json.loads(cli("cache", "list", "--json").stdout)
    assert any(e.get("symbol") == "AAPL" and e.get("timeframe") == "1day" for e in listing)
    assert "MiB" in cli("cache", "size").stdout
    info = json.loads(cli("cache", "info", "--symbol", "AAPL", "--timeframe", "1day").stdout)
    assert info["bars"] == 20 and info["symbol"] == "AAPL"
    export = tmp_path / "dataset"
    assert "exported" in cli("cache", "export", "--symbol", "AAPL", "--timeframe", "1day", "--path", str(export)).stdout
    pyarrow_dataset = pytest.importorskip("pyarrow.dataset")
    table = pyarrow_dataset.dataset(str(export), partitioning="hive").to_table()
    assert table.num_rows == 20
    cli("cache", "clear", "--symbol", "AAPL")
    assert json.loads(cli("cache", "list", "--json").stdout) == []


def test_fetch_csv(cli, tmp_path):
    target = tmp_path / "bars.csv"
    cli("fetch", "MSFT", "1hour", "--start", "2023-01-03", "--end", "2023-01-03", "--csv", str(target))
    lines = target.read_text().splitlines()
    assert lines[0].startswith("timestamp,open,high,low,close,volume,vwap,transactions")
    assert len(lines) > 5


def test_validate_table_and_json(cli):
    out = cli("validate", "AAPL", "5min", "--start", "2023-01-03", "--end", "2023-01-06").stdout
    assert "AAPL" in out and "excellent" in out.lower()
    report = json.loads(cli("validate", "AAPL", "5min", "--start", "2023-01-03", "--end", "2023-01-06",
                            "--json").stdout)
    assert report["overall_quality"] == "excellent" and report["bar_count"] == 4 * 78


def test_bad_input_is_one_line_error(cli):
    err = cli("fetch", "../etc", "1day", code=2).stderr
    assert err.startswith("error: invalid symbol") and "Traceback" not in err
    err = cli("fetch", "AAPL", "1day", "--start", "2023-02-01", "--end", "2023-01-01", code=2).stderr
    assert "start" in err and "Traceback" not in err


def test_validate_symbol(cli):
    out = cli("validate-symbol", "AAPL", "--json").stdout
    assert json.loads(out)["valid"] is True
    report = json.loads(cli("validate-symbol", "APPL", "--json", code=1).stdout)
    assert report["valid"] is False and report["suggestions"][0]["ticker"] == "AAPL"


def test_sandbox_subcommand_serves_until_interrupted(tmp_path):
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "polygon", "sandbox", "--port", "0"], cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line and "ws://127.0.0.1:" in line
        base = line.split("http://", 1)[1].split()[0].rstrip(",;")
        import requests

        from polygon.config import SANDBOX_API_KEY

        resp = requests.get("http://%s/v1/marketstatus/now" % base,
                            headers={"Authorization": "Bearer " + SANDBOX_API_KEY}, timeout=10)
        assert resp.status_code == 200 and "market" in resp.json()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130, -signal.SIGINT)


def test_demo_uses_polygon_cache_dir_and_every_run_shows_a_cold_then_a_cached_pass(tmp_path):
    from polygon.storage import StorageManager

    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CONFIG_FILE=os.devnull, POLYGON_CACHE_DIR=str(cache))
    env.pop("POLYGON_API_KEY", None)
    cmd = [sys.executable, "-m", "polygon", "demo", "--stream-seconds", "1.5"]
    for run in (cmd, cmd[:-2] + ["--no-stream"]):  # the second run finds the first run's cache
        out = subprocess.run(run, cwd=str(work), env=env, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "cache: %s (POLYGON_CACHE_DIR)" % (cache / ".polygon-demo") in out.stdout
        # 3 bar requests, plus one market-wide splits request while the cache's corporate actions are not fresh
        assert re.search(r"pass 1 \(cold cache\): 3 symbols in [\d.]+ s, [34] HTTP requests", out.stdout), out.stdout
        assert re.search(r"pass 2 \(cache\): 3 symbols in [\d.]+ s, 0 HTTP requests", out.stdout), out.stdout
        assert "the cached pass took" in out.stdout
    assert "streamed" not in out.stdout
    assert list(work.iterdir()) == []  # nothing written where the demo was started
    assert StorageManager(str(cache / ".polygon-demo")).list_cached()  # the demo's cache is kept...
    assert StorageManager(str(cache)).list_cached() == []  # ...apart from the provider's bars


def test_demo_without_a_cache_dir_uses_a_named_temporary_one_and_removes_it(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CONFIG_FILE=os.devnull, TMPDIR=str(temp))
    for name in ("POLYGON_API_KEY", "POLYGON_CACHE_DIR"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-m", "polygon", "demo", "--stream-seconds", "1.5"], cwd=str(tmp_path),
                         env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    named = re.search(r"cache: (\S+) \(a fresh temporary directory, removed at the end\)", out.stdout)
    assert named and named.group(1).startswith(str(temp / "polygon-demo-")), out.stdout
    assert "4 HTTP requests" in out.stdout and "0 HTTP requests" in out.stdout  # 3 bars + 1 market-wide splits
    assert "streamed" in out.stdout and "  trade " in out.stdout
    assert list(temp.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


def test_serve_subcommand_runs_the_local_server(tmp_path, server_process):
    import signal

    import requests

    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CACHE_DIR=str(tmp_path / "c"))
    proc, url = server_process(["-m", "polygon", "serve", "--sandbox", "--port", "0"], env=env, cwd=str(tmp_path))
    assert requests.get(url + "/api/v1/health", timeout=10).json()["status"] == "ok"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    help_text = subprocess.run([sys.executable, "-m", "polygon", "serve", "--help"], capture_output=True,
                               text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert help_text.returncode == 0 and "8200" in help_text.stdout and "polygon serve" in help_text.stdout


# -- latest, summary, update, stream, status ------------------------------------------------------------------

def test_help_lists_the_new_subcommands(cli):
    out = cli("--help").stdout
    for name in ("latest", "summary", "update", "stream", "status", "fetch", "cache", "validate"):
        assert name in out
    doc = " ".join(cli("stream", "--help").stdout.split())
    assert "--channels" in doc and "AM (minute aggregates)" in doc and "--market" in doc


def test_latest_prints_the_last_complete_bars(cli, tmp_path):
    import pandas as pd

    out = cli("latest", "AAPL", "1day", "--bars", "25").stdout
    lines = out.strip().splitlines()
    assert lines[-1].startswith("25 bars, source=") and lines[0].split() == [
        "open", "high", "low", "close", "volume", "vwap", "transactions"]
    assert len(lines) == 2 + 25 + 1  # header, index name, 25 bars, footer: every bar asked for is shown

    target = tmp_path / "latest.csv"
    assert "wrote 30 bars to" in cli("latest", "MSFT", "1day", "--bars", "30", "--csv", str(target)).stdout
    df = pd.read_csv(target, index_col="timestamp")
    stamps = pd.to_datetime(df.index, utc=True).tz_convert("America/New_York")
    assert len(df) == 30 and stamps.is_monotonic_increasing and stamps.is_unique
    today = pd.Timestamp.now(tz="America/New_York").normalize()
    assert stamps[-1] < today  # today's daily bar is still forming: never among the complete bars
    assert list(df.columns) == ["open", "high", "low", "close", "volume", "vwap", "transactions"]


def test_summary_text_and_json_without_requests(cli, sandbox):
    cli("fetch", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-01-31")
    before = sandbox.stats()["requests_total"]
    report = json.loads(cli("summary", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-01-31",
                            "--json").stdout)
    assert report["bar_count"] == 20 and report["symbol"] == "AAPL" and report["timeframe"] == "1day"
    assert report["first_bar"].startswith("2023-01-03") and report["last_bar"].startswith("2023-01-31")
    assert report["cache_coverage"]["percentage"] == 100.0 and report["cache_coverage"]["missing_ranges"] == []
    # January is cached, February (19 trading days) is not: 20 / 39 of the trading time is covered
    text = cli("summary", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-02-28").stdout
    assert "AAPL 1day" in text and "bars: 20  first: 2023-01-03" in text
    assert "cache coverage: 51.28% of trading time" in text
    missing = text.split("missing: 1 range\n", 1)[1].strip()
    assert missing.startswith("2023-02-01T00:00:00-05:00 .. 2023-03-01T00:00:00-05:00"), text
    empty = cli("summary", "NVDA", "5min", "--start", "2023-01-03", "--end", "2023-01-03").stdout
    assert "bars: 0  first: -  last: -" in empty and "cache coverage: 0.00%" in empty
    assert sandbox.stats()["requests_total"] == before  # the summary only reads the cache


def test_update_extends_each_symbol(cli):
    out = cli("update", "AAPL", "msft", "AAPL", "--timeframe", "1day").stdout
    lines = out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["AAPL", "1day:"], ["MSFT", "1day:"]], out  # one line each
    for line in lines:
        match = re.match(r"^\w+ 1day: (\d+) bars \((\d+) new\) \S+ \.\. \S+$", line)
        assert match, line
        assert int(match.group(1)) > 0 and int(match.group(2)) == int(match.group(1))  # the cache was empty
    listing = json.loads(cli("cache", "list", "--json").stdout)
    assert {(e["symbol"], e["timeframe"]) for e in listing} == {("AAPL", "1day"), ("MSFT", "1day")}


def test_update_reports_a_failing_symbol_and_runs_the_others(make_sandbox, cli_for):
    sb = make_sandbox(error_burst=1, error_status=400)  # the first request (AAPL's) is refused
    out = cli_for(sb)("update", "AAPL", "MSFT", "--timeframe", "1day", code=1)
    errors = out.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: AAPL: ") and "400" in errors[0], out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout.startswith("MSFT 1day: ") and "AAPL" not in out.stdout
    assert sb.stats()["status_counts"] == {400: 1, 200: 2}  # MSFT's bars and its splits


def test_stream_count_then_clean_disconnect_and_summary(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    started = time.monotonic()
    out = cli_for(sb)("stream", "AAPL", "MSFT", "--count", "5", "--seconds", "20")
    assert time.monotonic() - started < 20  # --count ended it, not --seconds
    lines = out.stdout.splitlines()
    assert len(lines) == 5, out.stdout
    for line in lines:
        match = re.match(r"^T +(AAPL|MSFT) +2024-03-14T\d\d:\d\d:\d\d\.\d{3}-04:00  \d+ @ [\d.]+$", line)
        assert match, line
    printed, received, dropped, reconnects = stream_summary(out.stderr)
    assert printed == 5 and received >= 5 and dropped == 0 and reconnects == 0
    assert wait_until(lambda: sb.stats()["ws_active"] == 0)  # the socket was closed
    assert sb.stats()["ws_connections"] == 1


def test_stream_json_lines_on_chosen_channels(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    out = cli_for(sb)("-vv", "stream", "SPY", "--channels", "q, a", "--json", "--count", "12", "--seconds", "20")
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(events) == 12
    assert {e["channel"] for e in events} == {"Q", "A"}  # quotes arrive many times a second, A every second
    for event in events:
        assert event["symbol"] == "SPY" and isinstance(event["timestamp"], int)
        assert event["event_type"] == ("quote" if event["channel"] == "Q" else "aggregate")
    assert stream_summary(out.stderr)[0] == 12
    assert sb.api_key not in out.stdout + out.stderr  # not even in debug logs


def test_stream_seconds_bound(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    started = time.monotonic()
    out = cli_for(sb)("stream", "*", "--seconds", "1.5")
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 15
    printed, received, dropped, _ = stream_summary(out.stderr)
    lines = out.stdout.splitlines()
    assert printed == len(lines) == received > 0 and dropped == 0  # no --count: every event is printed
    assert len({line.split()[1] for line in lines}) > 1  # the wildcard brings several symbols


def test_stream_ctrl_c_disconnects_and_summarises(make_sandbox, tmp_path):
    import queue
    import signal
    import threading

    sb = make_sandbox(**STREAM_OPTIONS)
    proc = subprocess.Popen([sys.executable, "-m", "polygon", "stream", "AAPL", "--seconds", "60"],
                            env=cli_env(sb, tmp_path), cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=30)
        assert first.startswith("T     AAPL ")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stream_summary(stderr)[0] >= 1
    assert wait_until(lambda: sb.stats()["ws_active"] == 0)


def test_status_text_and_json(make_sandbox, cli_for):
    sb = make_sandbox(clock="2024-03-14")  # a replay from the open of a Thursday: the market is open
    run = cli_for(sb, POLYGON_RATE_LIMIT_PER_MINUTE="50")
    report = json.loads(run("-vv", "status", "--json").stdout)
    market = report["market_status"]
    assert market["market"] == "open" and market["server_time"].startswith("2024-03-14T09:")
    assert market["exchanges"] == {"nasdaq": "open", "nyse": "open", "otc": "open"}
    assert report["rate_limit"]["minute"]["used"] == 1  # this process made one request: the market status
    assert report["rate_limit"]["minute"]["limit"] == 50 and report["rate_limit"]["minute"]["remaining"] == 49
    assert report["rate_limit"]["daily"]["limit"] is None
    out = run("-vv", "status")
    assert sb.api_key not in out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("market: open (early hours: False, after hours: False)  server time: 2024-03-14T")
    assert "exchanges: nasdaq=open  nyse=open  otc=open" in lines
    assert any(line.startswith("rate limit (minute, this process): 1 of 50 used, 49 remaining") for line in lines)
    assert any(line.startswith("rate limit (daily, this process): 1 used, no limit") for line in lines)
    assert sb.stats()["requests"] == {"/v1/marketstatus/now": 2}


@pytest.mark.parametrize("args, allowed", [
    (["latest", "../etc", "1day"], "letters A-Z, digits"),
    (["latest", "AAPL", "7fortnights"], "unit in sec, min, hour, day"),
    (["latest", "AAPL", "1day", "--bars", "0"], "--bars must be an integer >= 1"),
    (["latest", "AAPL", "1day", "--bars", "many"], "--bars must be an integer >= 1"),
    (["summary", "AAPL", "1day", "--start", "yesterday"], "'YYYY-MM-DD' / ISO-8601 string"),
    (["summary", "AAPL", "1day", "--start", "2023-02-01", "--end", "2023-01-01"], "pass start <= end"),
    (["summary", "AAPL", "1day", "--start", "1900-01-01"], "dates from 1970-01-01 to 2261-12-31"),
    (["update", "AAPL", "BAD/SYM", "--timeframe", "1day"], "letters A-Z, digits"),
    (["update", "AAPL", "--timeframe", "1dy"], "unit in sec, min, hour, day"),
    (["stream", "AAPL", "--channels", "T,X"], "allowed: T (trades), Q (quotes), A (second aggregates), AM"),
    (["stream", "AAPL", "--channels", ""], "allowed: T (trades)"),
    (["stream", "AAPL", "$$$"], "letters A-Z, digits"),
    (["stream", "X:BTCUSD", "--market", "stocks"], "this stream is stocks"),
    (["stream", "AAPL", "--count", "0"], "--count must be an integer >= 1"),
    (["stream", "AAPL", "--seconds", "-1"], "--seconds must be a number of seconds > 0"),
    (["stream", "AAPL", "--seconds", "nan"], "--seconds must be a number of seconds > 0"),
])
def test_bad_input_exits_2_before_any_network_io(make_sandbox, cli_for, args, allowed):
    sb = make_sandbox(max_connections=5)
    err = cli_for(sb)(*args, code=2).stderr
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and allowed in lines[0], err
    stats = sb.stats()
    assert stats["requests_total"] == 0 and stats["ws_connections"] == 0, stats


def test_serve_chooses_the_provider_feed_by_name(tmp_path, server_process):
    """``polygon serve --feed delayed`` relays the delayed feed; an unknown feed is refused with the known ones."""
    import signal

    import requests

    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CACHE_DIR=str(tmp_path / "c"))
    bad = subprocess.run([sys.executable, "-m", "polygon", "serve", "--sandbox", "--port", "0", "--feed", "nope"],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=60)
    assert bad.returncode == 2 and "unknown feed 'nope'" in bad.stderr and "delayed" in bad.stderr
    proc, url = server_process(["-m", "polygon", "serve", "--sandbox", "--port", "0", "--feed", "delayed"],
                               env=env, cwd=str(tmp_path))
    assert requests.get(url + "/api/v1/health", timeout=10).json()["status"] == "ok"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
