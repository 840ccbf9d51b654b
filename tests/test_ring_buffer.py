from __future__ import annotations

import numpy as np

from spotter.ring_buffer import Gap, RingBuffer


def frames(start: int, stop: int, channels: int = 1) -> np.ndarray:
    return np.repeat(np.arange(start, stop, dtype=np.float32)[:, None], channels, axis=1)


def test_reads_what_was_written_across_the_wrap():
    ring = RingBuffer(10)
    ring.write(frames(0, 7))
    audio, gaps = ring.read(0)
    assert audio[:, 0].tolist() == list(range(7)) and gaps == []
    ring.write(frames(7, 15))
    assert ring.read(0)[0][:, 0].tolist() == list(range(7, 15))
    assert ring.dropped == 0


def test_keeps_every_channel():
    ring = RingBuffer(10, channels=3)
    ring.write(frames(0, 4, channels=3) * [1, 10, 100])
    audio, _ = ring.read(0)
    assert audio.shape == (4, 3) and audio[3].tolist() == [3, 30, 300]


def test_overflow_drops_the_newest_and_says_where():
    ring = RingBuffer(8)
    ring.write(frames(0, 5))
    ring.write(frames(5, 10))  # 2 frames do not fit
    ring.write(frames(10, 13))  # none fit
    assert ring.dropped == 5
    audio, gaps = ring.read(0)
    assert audio[:, 0].tolist() == list(range(8))
    assert gaps == [Gap(8, 5)]  # both drops, as one gap right after the 8 frames returned


def test_a_drop_after_the_snapshot_belongs_to_the_next_read():
    ring = RingBuffer(8)
    ring.write(frames(0, 6))
    ring.read_total = 0  # as if the consumer snapshot 6 frames and is still copying them:
    ring.gaps_read = 0
    snapshot_end = 6
    ring.write(frames(6, 11))  # the producer fills the last 2 and drops 3 at position 8
    assert ring.gaps_up_to(snapshot_end) == []
    ring.read_total = snapshot_end
    audio, gaps = ring.read(0)
    assert audio[:, 0].tolist() == [6, 7] and gaps == [Gap(2, 3)]


def test_read_waits_then_returns_empty():
    audio, gaps = RingBuffer(4).read(0.01)
    assert len(audio) == 0 and gaps == []
