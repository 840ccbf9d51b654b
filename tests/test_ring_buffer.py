from __future__ import annotations

import numpy as np

from spotter.ring_buffer import RingBuffer


def test_reads_what_was_written_across_the_wrap():
    ring = RingBuffer(10)
    ring.write(np.arange(7, dtype=np.float32))
    assert ring.read(0).tolist() == list(range(7))
    ring.write(np.arange(7, 15, dtype=np.float32))
    assert ring.read(0).tolist() == list(range(7, 15))
    assert ring.dropped == 0


def test_overflow_drops_the_newest_and_counts_it():
    ring = RingBuffer(8)
    ring.write(np.arange(5, dtype=np.float32))
    ring.write(np.arange(5, 10, dtype=np.float32))
    assert ring.dropped == 2
    assert ring.read(0).tolist() == list(range(8))


def test_read_waits_then_returns_empty():
    assert len(RingBuffer(4).read(0.01)) == 0
