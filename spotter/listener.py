"""Live streams → events: the microphone and raw audio on a pipe, until stopped."""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator
from typing import BinaryIO

from spotter.api import Spotter
from spotter.capture import Microphone
from spotter.errors import SpotterError
from spotter.events import Event
from spotter.sources import read_raw_s16le

POLL_S = 0.1


def listen_microphone(spotter: Spotter, device: str | None = None,
                      stop: threading.Event | None = None) -> Iterator[Event]:
    """Events from the microphone until ``stop`` is set; then the captured rest is flushed."""
    stop = stop or threading.Event()
    with Microphone(device, rate=spotter.sample_rate) as mic:
        reported = 0
        while not stop.is_set():
            yield from spotter.feed(mic.read(POLL_S))
            reported = mic.report_overflow(reported)
            if not mic.active:
                raise SpotterError("the input stream stopped (device lost?)")
        yield from spotter.feed(mic.read(0))
    yield from spotter.flush()


def listen_pipe(spotter: Spotter, stream: BinaryIO, rate: int,
                stop: threading.Event | None = None) -> Iterator[Event]:
    """Events from raw s16le mono audio at ``rate`` on ``stream`` until EOF or ``stop``."""
    stop = stop or threading.Event()
    for block in read_raw_s16le(StoppablePipe(stream, stop), block=rate // 10):
        yield from spotter.feed(block, rate)
    yield from spotter.flush()


class StoppablePipe:
    """Wraps a pipe so reads give up every POLL_S to let a stop request through."""

    def __init__(self, stream: BinaryIO, stop: threading.Event) -> None:
        self.stream, self.stop = stream, stop

    def read1(self, n: int) -> bytes:
        while not self.stop.is_set():
            try:
                ready, _, _ = select.select([self.stream], [], [], POLL_S)
            except (ValueError, OSError):  # not selectable (e.g. BytesIO): just read
                ready = [self.stream]
            if ready:
                read = getattr(self.stream, "read1", self.stream.read)
                return read(n)
        return b""

