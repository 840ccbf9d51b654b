"""Live streams → events: the microphone and raw audio on a pipe, until stopped.

Two ways to take events from the microphone: iterate over ``listen_microphone(...)``, or let
a ``Listener`` thread hand each event to a callback (a voice app's main loop keeps running).
Either way a lost device is waited for: the stream is reopened with backoff, and the time it
was away counts as a gap in the stream clock.
"""

from __future__ import annotations

import itertools
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from spotter.api import Spotter
from spotter.capture import DeviceLost, Microphone, rescan_devices
from spotter.errors import SpotterError
from spotter.events import Event
from spotter.sources import read_raw_s16le

log = logging.getLogger("spotter")

POLL_S = 0.1
RETRY_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # waits between attempts to reopen a lost device, then 8 s


@dataclass(frozen=True)
class MicrophoneSettings:
    """What to open: device (index or name substring; None = default), rate (None = 16 kHz or
    the device's own), channel (1-based; None = mono or the mean of the channels), buffer_s
    (audio held while processing catches up)."""

    device: str | None = None
    rate: int | None = None
    channel: int | None = None
    buffer_s: float = 10.0

    def open(self) -> Microphone:
        return Microphone(self.device, self.rate, self.channel, self.buffer_s)


def listen_microphone(
    spotter: Spotter,
    device: str | None = None,
    stop: threading.Event | None = None,
    settings: MicrophoneSettings | None = None,
) -> Iterator[Event]:
    """Events from the microphone until ``stop`` is set; then the captured rest is flushed.
    A bad device raises SpotterError at once; a device lost later is waited for."""
    settings = settings or MicrophoneSettings(device)
    yield from microphone_session(spotter, settings.open(), settings, stop or threading.Event())


def microphone_session(
    spotter: Spotter, mic: Microphone, settings: MicrophoneSettings, stop: threading.Event
) -> Iterator[Event]:
    """Events from ``mic`` (not yet started) until ``stop``, reopening it when it is lost."""
    while True:
        with mic:
            log.info("listening on %s (Ctrl-C to stop)", mic.describe())
            try:
                yield from microphone_events(spotter, mic, stop)
                return
            except DeviceLost as exc:
                lost_at = time.monotonic()
                log.warning("%s; waiting for the device to come back", exc)
                yield from spotter.skip(0.0)  # decide what was heard before the loss
        mic = reopen(settings, stop)
        if mic is None:
            return
        log.warning("the device is back after %.1f s", time.monotonic() - lost_at)
        yield from spotter.skip(time.monotonic() - lost_at)


def reopen(settings: MicrophoneSettings, stop: threading.Event) -> Microphone | None:
    """The device opened again (rescanning PortAudio's device list each time), or None when
    ``stop`` is set first. Waits RETRY_S between attempts, never spinning."""
    for attempt in itertools.count():
        if stop.wait(RETRY_S[min(attempt, len(RETRY_S) - 1)]):
            return None
        try:
            rescan_devices()
            return settings.open()
        except SpotterError as exc:
            log.debug("reopening failed: %s", exc)


def microphone_events(spotter: Spotter, mic: Microphone, stop: threading.Event) -> Iterator[Event]:
    """Events from an open microphone until ``stop``; the audio already captured is not lost.
    Audio the ring buffer had to drop becomes a gap in the stream clock (``Spotter.skip``).
    Raises DeviceLost when the stream dies."""
    while not stop.is_set():
        yield from feed_with_gaps(spotter, mic, POLL_S)
        mic.report_losses()
    yield from feed_with_gaps(spotter, mic, 0)
    yield from spotter.flush()


def feed_with_gaps(spotter: Spotter, mic: Microphone, timeout: float) -> Iterator[Event]:
    audio, gaps = mic.read(timeout)
    done = 0
    for gap in gaps:
        yield from spotter.feed(audio[done : gap.offset], mic.rate)
        yield from spotter.skip(gap.frames / mic.rate)
        done = gap.offset
    yield from spotter.feed(audio[done:], mic.rate)


class Listener:
    """The microphone in a background thread; each event goes to ``on_event`` (on that thread).

    >>> with Listener(Spotter.load(), on_event=print):
    ...     run_the_app()

    ``start()`` opens the device, so a bad device raises there; a device lost later is waited
    for and reopened. ``stop()`` flushes the audio already captured, joins the thread and
    re-raises an error the thread met.
    """

    def __init__(
        self,
        spotter: Spotter,
        on_event: Callable[[Event], object],
        device: str | None = None,
        settings: MicrophoneSettings | None = None,
    ) -> None:
        self.spotter, self.on_event = spotter, on_event
        self.settings = settings or MicrophoneSettings(device)
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> Listener:
        mic = self.settings.open()
        self.thread = threading.Thread(
            target=self.run, args=(mic,), name="spotter-listener", daemon=True
        )
        self.thread.start()
        return self

    def run(self, mic: Microphone) -> None:
        try:
            for event in microphone_session(self.spotter, mic, self.settings, self.stopping):
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
