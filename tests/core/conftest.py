"""Test helpers: a fake monotonic clock whose sleep advances time (no real waiting)."""

import threading


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds):
        with self._lock:
            self.now += seconds


import pytest  # noqa: E402


@pytest.fixture
def fake_clock():
    """A :class:`FakeClock`; pass ``clock=fake_clock, sleep=fake_clock.sleep``."""
    return FakeClock()
