# Generated from ../_async by scripts/generate.py: edit that, not this.
"""Following an event stream: typed events, resumed after a dropped connection."""

from __future__ import annotations

from collections.abc import Generator

import httpx
from pydantic import ValidationError

from .. import models
from .._errors import ServerError, ServerUnavailable
from .._io import sleep
from .._sse import FrameReader
from .http import SyncHttp

# The server sends a comment every 15 s on an idle stream: a read that
# waits much longer than that has lost its connection.
IDLE_READ = 45.0
# Reconnections in a row, without an event between them, before giving up.
RETRIES = 30


def follow(http: SyncHttp, path: str, after: int = 0) -> Generator[models.Event, None]:
    """The events of the stream at ``path`` after sequence number ``after``, in order.

    A dropped connection is resumed with ``Last-Event-ID``, so no event is
    lost or repeated. The iteration ends with the stream's ``end`` (the job
    or sandbox ended and every event was sent).
    """
    last = after
    failures = 0
    while True:
        try:
            with http.stream(
                path,
                headers={"Last-Event-ID": str(last)},
                timeout=httpx.Timeout(10.0, read=IDLE_READ),
            ) as response:
                reader = FrameReader()
                for chunk in response.iter_bytes():
                    for frame in reader.feed(chunk):
                        failures = 0
                        if frame.event == "end":
                            return
                        if frame.event == "stream_failed":
                            raise ServerError("the server could not go on with the event stream")
                        try:
                            event = models.Event.model_validate_json(frame.data)
                        except ValidationError as error:
                            raise ServerError(f"an event this SDK cannot read: {error}") from None
                        if event.seq <= last:
                            continue
                        last = event.seq
                        yield event
        except ServerUnavailable:
            failures += 1
            if failures > RETRIES:
                raise
        else:
            # Closed without its `end`: a proxy or the server went away.
            failures += 1
            if failures > RETRIES:
                raise ServerUnavailable(f"the event stream at {http.base}{path} keeps closing")
        sleep(min(0.1 * 2**failures, 2.0))
