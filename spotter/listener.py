"""Live streams → events: the microphone and raw audio on a pipe, until stopped.

Two ways to take events from the microphone: iterate over ``listen_microphone(...)`` (the CLI
does), or let a ``Listener`` thread hand each event to a callback (a voice app's main loop keeps
running).
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from spotter.api import Spotter
from spotter.capture import Microphone
from spotter.errors import SpotterError
from spotter.events import Event
from spotter.sources import read_raw_s16le

POLL_S = 0.1


def listen_microphone(
    spotter: Spotter, device: str | None = None, stop: threading.Event | None = None
) -> Iterator[Event]:
    """Events from the microphone until ``stop`` is set; then the captured rest is flushed."""
    with Microphone(device, rate=spotter.sample_rate) as mic:
        yield from microphone_events(spotter, mic, stop or threading.Event())


def microphone_events(spotter: Spotter, mic: Microphone, stop: threading.Event) -> Iterator[Event]:
    """Events from an open microphone until ``stop``; the audio already captured is not lost."""
    while not stop.is_set():
        yield from spotter.feed(mic.read(POLL_S))
        mic.report_losses()
        if not mic.active:
            raise SpotterError("the input stream stopped (device lost?)")
    yield from spotter.feed(mic.read(0))
    yield from spotter.flush()


class Listener:
    """The microphone in a background thread; each event goes to ``on_event`` (on that thread).

    >>> with Listener(Spotter.load(), on_event=print):
    ...     run_the_app()

    ``start()`` opens the device, so a bad device raises there; ``stop()`` flushes the audio
    already captured, joins the thread and re-raises an error the thread met (device lost).
    """

    def __init__(
        self, spotter: Spotter, on_event: Callable[[Event], object], device: str | None = None
    ) -> None:
        self.spotter, self.on_event, self.device = spotter, on_event, device
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> Listener:
        mic = Microphone(self.device, rate=self.spotter.sample_rate)
        mic.__enter__()
        self.thread = threading.Thread(
            target=self.run, args=(mic,), name="spotter-listener", daemon=True
        )
        self.thread.start()
        return self

    def run(self, mic: Microphone) -> None:
        try:
            with mic:
                for event in microphone_events(self.spotter, mic, self.stopping):
                    self.on_event(event)
        except BaseException as exc:  # handed to the caller by stop()
            self.error = exc

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def listen_pipe(
    spotter: Spotter, stream: BinaryIO, rate: int, stop: threading.Event | None = None
) -> Iterator[Event]:
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
