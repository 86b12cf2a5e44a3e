"""The thin sync -> async adapter and the frame recorder (no network)."""

import asyncio
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.websocket import adapter as asyncio_adapter
from polygon.websocket.adapter import caller_loop, sync_or_async, wait_event
from polygon.websocket.recording import FrameRecorder, iter_recording


class Thing:
    def __init__(self):
        self.threads = []
        self.release = threading.Event()

    @sync_or_async
    def work(self, x, y=1):
        self.threads.append(threading.current_thread().name)
        return x + y, caller_loop()

    @sync_or_async
    def block(self):
        return wait_event(self.release, timeout=30)


def test_plain_call_returns_result():
    thing = Thing()
    assert thing.work(1, y=2) == (3, None)
    assert thing.threads == [threading.current_thread().name]


def test_call_inside_loop_is_awaitable_and_knows_the_callers_loop():
    thing = Thing()

    async def main():
        pending = thing.work(2)
        assert asyncio.isfuture(pending)
        return await pending, asyncio.get_running_loop()

    (value, loop_seen), loop = asyncio.run(main())
    assert value == 3 and loop_seen is loop
    assert thing.threads[0] != threading.current_thread().name  # ran in the executor


def test_cancelling_the_awaiting_task_frees_the_executor_thread():
    thing = Thing()
    done = threading.Event()

    async def main():
        task = asyncio.ensure_future(thing.block())
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            done.set()

    # asyncio.run waits for the default executor: it would hang for 30 s if the thread stayed blocked
    finished = threading.Event()
    runner = threading.Thread(target=lambda: (asyncio.run(main()), finished.set()))
    runner.start()
    assert finished.wait(5), "executor thread still blocked after cancellation"
    assert done.is_set()
    assert not thing.release.is_set()


def test_wait_event_outside_adapter_is_plain_wait():
    event = threading.Event()
    assert wait_event(event, 0.01) is False
    event.set()
    assert wait_event(event, 0.01) is True
    assert asyncio_adapter.cancelled() is False


def test_recorder_round_trip(tmp_path):
    path = str(tmp_path / "rec" / "frames.jsonl")
    rec = FrameRecorder(path)
    rec.write(1.5, b'[{"ev":"T","sym":"AAPL"}]')
    rec.write(2.25, '[{"ev":"Q",\n"sym":"MSFT"}]')
    rec.close()
    with open(path, "ab") as fh:
        fh.write(b'{"t":3.0,"frame":[{"ev"')  # cut by a crash
    frames = list(iter_recording(path))
    assert [t for t, _ in frames] == [1.5, 2.25]
    assert frames[0][1] == b'[{"ev":"T","sym":"AAPL"}]'
    assert frames[1][1] == b'[{"ev":"Q", "sym":"MSFT"}]'


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.dictionaries(st.text(max_size=5), _json_values, max_size=4), max_size=4), max_size=5),
       st.sampled_from([None, 1, 2]))
def test_recording_round_trips_any_json_frame(frames, indent):
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = tmp + "/r.jsonl"
        rec = FrameRecorder(path)
        for i, frame in enumerate(frames):
            rec.write(float(i), json.dumps(frame, indent=indent, ensure_ascii=bool(i % 2)))
        rec.close()
        back = list(iter_recording(path))
    assert [t for t, _ in back] == [float(i) for i in range(len(frames))]
    assert [json.loads(raw) for _, raw in back] == frames
