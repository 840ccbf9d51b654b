"""A preallocated single-producer/single-consumer ring buffer for audio samples.

The producer (the PortAudio callback thread) only copies into the array and moves an index; it
never blocks and never allocates. When the consumer falls behind and the buffer is full, the
newest samples are dropped and counted, so overflow is never silent.
"""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    def __init__(self, capacity: int) -> None:
        self.data = np.zeros(capacity, np.float32)
        self.capacity = capacity
        self.written = 0  # total samples ever written (producer only)
        self.read_total = 0  # total samples ever read (consumer only)
        self.dropped = 0  # samples lost to overflow (producer only)
        self.ready = threading.Event()

    def write(self, samples: np.ndarray) -> None:
        """Producer: copy ``samples`` (n,) in; whatever does not fit is dropped and counted."""
        free = self.capacity - (self.written - self.read_total)
        n = min(len(samples), free)
        if n < len(samples):
            self.dropped += len(samples) - n
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self.data[start : start + first] = samples[:first]
        self.data[: n - first] = samples[first:n]
        self.written += n
        self.ready.set()

    def read(self, timeout: float | None = None) -> np.ndarray:
        """Consumer: everything available now (a copy), waiting up to ``timeout`` s for some."""
        if self.written == self.read_total:
            self.ready.clear()
            if self.written == self.read_total:
                self.ready.wait(timeout)
        available = self.written - self.read_total
        start = self.read_total % self.capacity
        first = min(available, self.capacity - start)
        out = np.concatenate([self.data[start : start + first], self.data[: available - first]])
        self.read_total += available
        return out
