"""A preallocated single-producer/single-consumer ring buffer for audio frames.

The producer (the PortAudio callback thread) only copies into preallocated arrays and moves
counters; it never blocks and never allocates. When the consumer falls behind and the buffer is
full, the newest frames are dropped, counted, and logged with their position in the stream, so
the consumer can keep its clock true to the audio: ``read()`` says where in what it returns the
lost frames belong.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

GAP_LOG = 1 << 14  # drops remembered between two reads (one per callback that dropped)


@dataclass(frozen=True)
class Gap:
    """``frames`` frames were lost right after the first ``offset`` frames of a read."""

    offset: int
    frames: int


class RingBuffer:
    def __init__(self, capacity: int, channels: int = 1) -> None:
        self.data = np.zeros((capacity, channels), np.float32)
        self.capacity = capacity
        self.written = 0  # frames ever stored (producer only)
        self.read_total = 0  # frames ever read (consumer only)
        self.dropped = 0  # frames lost to overflow (producer only)
        self.gap_position = np.zeros(GAP_LOG, np.int64)  # ``written`` when a drop happened
        self.gap_frames = np.zeros(GAP_LOG, np.int64)
        self.gaps_logged = 0  # producer only; an entry is complete before this counts it
        self.gaps_read = 0  # consumer only
        self.dropped_read = 0  # dropped frames handed out as gaps (consumer only)
        self.ready = threading.Event()

    def write(self, frames: np.ndarray) -> None:
        """Producer: copy ``frames`` (n, channels) in; what does not fit is dropped and logged."""
        free = self.capacity - (self.written - self.read_total)
        n = min(len(frames), free)
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self.data[start : start + first] = frames[:first]
        self.data[: n - first] = frames[first:n]
        self.written += n
        if n < len(frames):
            lost = len(frames) - n
            self.dropped += lost
            entry = self.gaps_logged % GAP_LOG
            self.gap_position[entry] = self.written
            self.gap_frames[entry] = lost
            self.gaps_logged += 1
        self.ready.set()

    def read(self, timeout: float | None = None) -> tuple[np.ndarray, list[Gap]]:
        """Consumer: every frame available now (a copy, (n, channels)), waiting up to
        ``timeout`` s for some; and the gaps (audio dropped) inside or right after them."""
        if self.written == self.read_total:
            self.ready.clear()
            if self.written == self.read_total:
                self.ready.wait(timeout)
        available = self.written - self.read_total
        start = self.read_total % self.capacity
        first = min(available, self.capacity - start)
        out = np.concatenate([self.data[start : start + first], self.data[: available - first]])
        gaps = self.gaps_up_to(self.read_total + available)
        self.read_total += available
        return out, gaps

    def gaps_up_to(self, end: int) -> list[Gap]:
        """The logged drops at stream positions up to ``end``, as offsets from ``read_total``."""
        logged = self.gaps_logged
        if logged - self.gaps_read > GAP_LOG:  # the log wrapped: put all that is lost at the end
            self.gaps_read = logged
            lost, self.dropped_read = self.dropped - self.dropped_read, self.dropped
            return [Gap(end - self.read_total, lost)]
        gaps = []
        while self.gaps_read < logged:
            entry = self.gaps_read % GAP_LOG
            position = int(self.gap_position[entry])
            if position > end:  # written after this read's snapshot: it belongs to the next one
                break
            offset, frames = position - self.read_total, int(self.gap_frames[entry])
            if gaps and gaps[-1].offset == offset:  # drops of consecutive callbacks: one gap
                frames += gaps.pop().frames
            gaps.append(Gap(offset, frames))
            self.dropped_read += int(self.gap_frames[entry])
            self.gaps_read += 1
        return gaps
