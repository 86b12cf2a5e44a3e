"""Where stream data goes besides callbacks, kept as one import path: recordings
(:mod:`polygon.stream_recording`), the bar cache sink (:mod:`polygon.stream_sink`) and the trade/quote journal
(:mod:`polygon.tick_journal`) each live in their own module.
"""

from polygon.stream_recording import FrameRecorder, iter_recording
from polygon.stream_sink import StorageSink
from polygon.tick_journal import TickJournal

__all__ = ["FrameRecorder", "StorageSink", "TickJournal", "iter_recording"]
