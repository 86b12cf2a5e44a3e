"""Stream -> cache (bars the storage layer reads back), trade/quote journal, record and replay."""

import json
import os

from ws_helpers import Collector

from polygon.storage import StorageManager


def test_aggregates_are_appended_to_the_cache(stream_sandbox, cache_dir, make_client):
    storage = StorageManager(str(cache_dir))
    seconds, minutes = Collector(n=5), Collector(n=1)
    client = make_client(stream_sandbox.config(), storage=storage, journal=True)
    client.subscribe(["AAPL"], ["A"], seconds)
    client.subscribe(["AAPL"], ["AM"], minutes)
    client.subscribe(["MSFT"], ["T"], Collector())
    client.connect()
    assert seconds.wait(20) and minutes.wait(60)
    client.disconnect()  # flushes the sink and the storage buffer
    frame = storage.read("AAPL", "1sec")
    starts = sorted({e["timestamp"] for e in seconds.events})
    assert len(frame) >= len(starts)
    cached = set((frame.index.tz_convert("UTC").asi8 // 1_000_000).tolist())
    assert set(starts) <= cached
    first = min(seconds.events, key=lambda e: e["timestamp"])
    row = frame.loc[frame.index.tz_convert("UTC").asi8 // 1_000_000 == first["timestamp"]].iloc[-1]
    assert row["open"] == first["open"] and row["close"] == first["close"]
    assert len(storage.read("AAPL", "1min")) >= 1
    assert storage.coverage("AAPL", "1sec") == []  # a stream never claims coverage
    journal_dir = os.path.join(str(cache_dir), "journal", "stocks")
    files = [os.path.join(root, f) for root, _d, names in os.walk(journal_dir) for f in names]
    assert files and all(f.endswith("T.jsonl") for f in files)
    with open(files[0], encoding="utf-8") as fh:
        assert json.loads(fh.readline())["event_type"] == "trade"


def test_record_then_replay_into_a_client(stream_sandbox, tmp_path, make_client):
    path = str(tmp_path / "session.jsonl")
    live = Collector(n=100)
    client = make_client(stream_sandbox.config(), record=path)
    client.subscribe(["AAPL", "MSFT"], ["T", "Q"], live)
    client.connect()
    assert live.wait(20)
    client.disconnect()
    with open(path, "rb") as fh:
        first = json.loads(fh.readline())
    assert set(first) == {"t", "frame"} and first["frame"][0]["ev"] == "status"

    replayed = Collector()
    offline = make_client(stream_sandbox.config())
    offline.subscribe(["AAPL", "MSFT"], ["T", "Q"], replayed)
    frames = offline.replay(path, speed=None)
    assert frames >= 3
    assert replayed.events == live.events  # same events, same order, same dicts
    only_msft = Collector()
    again = make_client(stream_sandbox.config())
    again.subscribe(["MSFT"], ["T"], only_msft)
    again.replay(path, speed=50.0)
    expected = [e for e in live.events if e["symbol"] == "MSFT" and e["event_type"] == "trade"]
    assert only_msft.events == expected and expected
    assert stream_sandbox.stats()["ws_connections"] == 1  # replay used no socket
