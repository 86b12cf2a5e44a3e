"""Record a live session's raw frames, then replay the file into a new client, 10x faster, offline.

Environment: POLYGON_API_KEY, POLYGON_WS_URL, STREAM_SECONDS (default 5), RECORD_PATH (default
./stream-session.jsonl). The recording is JSON lines ``{"t": receive_time, "frame": [...]}``: the
provider's own frames, so a replay goes through the same decoding, normalisation and callbacks.
"""

import collections
import os

from polygon.websocket import PolygonWebSocketClient


def main(seconds: float, path: str) -> tuple:
    live = collections.Counter()
    with PolygonWebSocketClient(record=path) as client:
        client.subscribe(["AAPL", "MSFT"], ["T", "Q"], lambda data: live.update([data["event_type"]]))
        client.listen(timeout=seconds)
    print("live:     %s" % dict(live))

    replayed = collections.Counter()
    offline = PolygonWebSocketClient()  # never connects: replay() feeds the file through the same path
    offline.subscribe(["AAPL", "MSFT"], ["T", "Q"], lambda data: replayed.update([data["event_type"]]))
    frames = offline.replay(path, speed=10.0)
    print("replayed: %s from %d frames" % (dict(replayed), frames))
    return live, replayed


if __name__ == "__main__":
    main(float(os.environ.get("STREAM_SECONDS", "5")), os.environ.get("RECORD_PATH", "stream-session.jsonl"))
