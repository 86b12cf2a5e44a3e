"""Where stream data goes besides callbacks, three jobs in three rooms of polygon.websocket (issues 18, 22):
recordings, the storage sink, the tick journal; the websocket face serves the names; a crypto stream's minute
bars reach the cache through the sink."""

import ast
import json
import os

import polygon
from polygon.storage import StorageManager
from polygon.websocket.journal import TickJournal
from polygon.websocket.recording import FrameRecorder, iter_recording
from polygon.websocket.sink import BAR_CHANNELS, StorageSink

ROOMS = {"websocket/recording": set(), "websocket/journal": {"polygon.core.json_codec"},
         "websocket/sink": {"polygon.websocket.journal"}}


def _polygon_imports(module):
    path = os.path.join(os.path.dirname(polygon.__file__), *(module + ".py").split("/"))
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("polygon"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("polygon"))
    return found


def test_each_room_has_one_job_and_imports_only_what_it_needs():
    for module, allowed in ROOMS.items():
        assert _polygon_imports(module) == allowed, module


def test_the_websocket_face_serves_every_name():
    from polygon import websocket

    assert websocket.FrameRecorder is FrameRecorder and websocket.iter_recording is iter_recording
    assert websocket.StorageSink is StorageSink and websocket.TickJournal is TickJournal


def test_recording_round_trip(tmp_path):
    path = str(tmp_path / "rec" / "frames.jsonl")
    recorder = FrameRecorder(path)
    recorder.write(1.5, b'[{"ev":"T",\n"sym":"AAPL"}]')
    recorder.write(2.25, '[{"ev":"Q","sym":"MSFT"}]')
    recorder.close()
    recorder.write(3.0, b"[]")  # after close: ignored
    with open(path, "ab") as fh:
        fh.write(b"garbage\n")
    frames = list(iter_recording(path))
    assert [t for t, _raw in frames] == [1.5, 2.25]
    assert json.loads(frames[0][1]) == [{"ev": "T", "sym": "AAPL"}]


def test_tick_journal_writes_one_file_per_day_and_channel_and_never_raises(tmp_path):
    journal = TickJournal(str(tmp_path), "crypto")
    assert journal.channels == ("XT", "XQ")
    day1 = {"symbol": "X:BTCUSD", "timestamp": 1710460799000, "price": 1.5}  # 2024-03-14 23:59:59 UTC
    day2 = dict(day1, timestamp=1710460800000)
    journal.write({"XT": [day1, day2]})
    with open(journal.path("XT", "2024-03-14"), encoding="utf-8") as fh:
        assert [json.loads(line) for line in fh] == [day1]
    assert os.path.exists(os.path.join(str(tmp_path), "journal", "crypto", "2024-03-15", "XT.jsonl"))
    assert journal.journaled == 2 and journal.errors == 0
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    broken = TickJournal(str(blocked), "stocks")
    broken.write({"T": [day1]})
    assert broken.errors == 1 and broken.journaled == 0


def test_crypto_minute_bars_go_to_the_cache_and_trades_to_the_journal(tmp_path):
    storage = StorageManager(str(tmp_path))
    sink = StorageSink(storage, market="crypto", journal=True, flush_interval=30.0)
    assert BAR_CHANNELS["crypto"] == {"XAS": "1sec", "XA": "1min"}
    assert sink.wants("XA") and sink.wants("XAS") and sink.wants("XT") and not sink.wants("T")
    bar = {"symbol": "X:BTCUSD", "timestamp": 1710423000000, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
           "volume": 3.25, "vwap": 1.2}
    trade = {"symbol": "X:BTCUSD", "timestamp": 1710423000001, "price": 1.5, "size": 0.25}
    sink.add([("XA", bar), ("XT", trade)])
    sink.close()
    frame = storage.read("X:BTCUSD", "1min")
    assert len(frame) == 1 and float(frame["close"].iloc[0]) == 1.5
    assert sink.bars_written == 1 and sink.journaled == 1 and sink.errors == 0
    assert os.path.exists(sink.journal_path("XT", "2024-03-14"))
