"""Stream test helpers: callbacks that signal when enough arrived, bounded polling."""

import threading
import time


class Collector:
    """A plain callback recording events; ``reached`` is set once ``n`` arrived."""

    def __init__(self, n=1, delay=0.0):
        self.n = n
        self.delay = delay
        self.events = []
        self.lock = threading.Lock()
        self.reached = threading.Event()

    def __call__(self, data):
        if self.delay:
            time.sleep(self.delay)  # a deliberately slow consumer, not synchronisation
        with self.lock:
            self.events.append(data)
            if len(self.events) >= self.n:
                self.reached.set()

    def wait(self, timeout=10.0):
        return self.reached.wait(timeout)

    def count(self):
        with self.lock:
            return len(self.events)


def wait_until(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until true or ``timeout``; returns its last value (bounded loop)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
