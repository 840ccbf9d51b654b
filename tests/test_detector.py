"""Detector behaviour on hand-made posteriors: one behaviour per test."""

from __future__ import annotations

import numpy as np
import pytest

from spotter.detector import Detector, DetectorConfig

N_CLASSES = 11  # ten digits + silence


def track(*segments: tuple[int, int, float]) -> np.ndarray:
    """Posteriors from (digit or -1 for silence, frames, score) segments."""
    rows = []
    for digit, frames, score in segments:
        row = np.zeros(N_CLASSES, np.float32)
        row[10] = 1.0 - score if digit >= 0 else 1.0
        if digit >= 0:
            row[digit] = score
        rows += [row] * frames
    return np.stack(rows)


def detect(
    posteriors: np.ndarray, cfg: DetectorConfig = DetectorConfig(), chunk: int | None = None
):
    detector = Detector(N_CLASSES, list(range(10)), cfg)
    energy = np.zeros(len(posteriors), np.float32)
    chunk = chunk or len(posteriors)
    found = []
    for i in range(0, len(posteriors), chunk):
        found += detector.process(posteriors[i : i + chunk], energy[i : i + chunk])
    return found + detector.flush()


def test_one_event_per_burst():
    found = detect(track((-1, 50, 0), (7, 30, 0.95), (-1, 50, 0)))
    assert [(d.label, round(d.score, 2)) for d in found] == [(7, 0.95)]


def test_below_threshold_is_silent():
    assert detect(track((-1, 20, 0), (4, 30, 0.45), (-1, 20, 0))) == []


def test_threshold_is_configurable():
    found = detect(track((-1, 20, 0), (4, 30, 0.45), (-1, 20, 0)), DetectorConfig(threshold=0.4))
    assert [d.label for d in found] == [4]


def test_flicker_within_a_burst_does_not_repeat():
    bursty = track((-1, 20, 0), (2, 10, 0.9), (2, 3, 0.3), (2, 10, 0.9), (-1, 30, 0))
    assert [d.label for d in detect(bursty)] == [2]


def test_a_different_digit_right_after_fires_again():
    """Fast digit strings: two words ending 300 ms apart give two events with no silence between."""
    back_to_back = track((-1, 20, 0), (1, 30, 0.9), (5, 30, 0.9), (-1, 30, 0))
    assert [d.label for d in detect(back_to_back)] == [1, 5]


def test_a_different_digit_flickering_right_after_a_decision_is_ignored():
    """Within the refractory period no second word can have ended: a label flip is the same word."""
    flicker = track((-1, 20, 0), (1, 12, 0.9), (7, 10, 0.8), (-1, 30, 0))
    assert [d.label for d in detect(flicker)] == [1]


def test_same_digit_twice_needs_a_release_between():
    twice = track((-1, 20, 0), (3, 15, 0.9), (-1, 10, 0), (3, 15, 0.9), (-1, 20, 0))
    assert [d.label for d in detect(twice)] == [3, 3]


def test_decision_comes_lookahead_frames_after_the_peak():
    cfg = DetectorConfig(smoothing=1, lookahead=4)
    posteriors = track((-1, 10, 0), (6, 2, 0.6), (6, 1, 0.99), (6, 20, 0.8), (-1, 10, 0))
    (found,) = detect(posteriors, cfg)
    assert found.decision_frame == 12 + 4


def test_pending_candidate_is_decided_at_flush():
    found = detect(track((-1, 10, 0), (8, 3, 0.9)), DetectorConfig(lookahead=10))
    assert [d.label for d in found] == [8]


def test_chunking_does_not_change_detections():
    posteriors = track(
        (-1, 15, 0), (1, 30, 0.9), (9, 30, 0.8), (-1, 10, 0), (9, 30, 0.7), (-1, 30, 0)
    )
    whole = detect(posteriors)
    assert len(whole) == 3
    for chunk in (1, 3, 17):
        assert detect(posteriors, chunk=chunk) == whole


def test_word_span_follows_the_energy_track():
    detector = Detector(N_CLASSES, list(range(10)), DetectorConfig(smoothing=1))
    posteriors = track((-1, 60, 0), (4, 20, 0.9), (-1, 30, 0))
    energy = np.full(len(posteriors), -60.0, np.float32)
    energy[30:58] = 20.0  # the word: frames 30-57; the model fires just after it
    (found,) = detector.process(posteriors, energy)
    assert (found.start_frame, found.end_frame) == (30, 57)


def test_a_blip_shorter_than_min_frames_is_no_word():
    cfg = DetectorConfig(min_frames=10)
    assert detect(track((-1, 50, 0), (8, 6, 0.97), (-1, 50, 0)), cfg) == []
    found = detect(track((-1, 50, 0), (8, 30, 0.97), (-1, 50, 0)), cfg)
    assert [d.label for d in found] == [8]
    assert found[0].decision_frame >= 50 + 9  # not before min_frames of support


def test_a_dropped_blip_does_not_silence_the_next_word():
    cfg = DetectorConfig(min_frames=10, refractory=25)
    found = detect(track((-1, 50, 0), (6, 5, 0.9), (-1, 5, 0), (3, 30, 0.9), (-1, 50, 0)), cfg)
    assert [d.label for d in found] == [3]


def test_two_blips_of_one_digit_close_together_are_one_word_within_merge_gap():
    broken = track((-1, 50, 0), (7, 6, 0.9), (-1, 4, 0), (7, 6, 0.9), (-1, 50, 0))
    assert detect(broken, DetectorConfig(min_frames=10, smoothing=1)) == []
    (found,) = detect(broken, DetectorConfig(min_frames=10, smoothing=1, merge_gap=5))
    assert found.label == 7 and found.decision_frame >= 50 + 6 + 4 + 3


def test_blips_of_different_digits_or_far_apart_are_not_merged():
    cfg = DetectorConfig(min_frames=10, smoothing=1, merge_gap=5)
    other_digit = track((-1, 50, 0), (7, 6, 0.9), (-1, 4, 0), (1, 6, 0.9), (-1, 50, 0))
    far_apart = track((-1, 50, 0), (7, 6, 0.9), (-1, 20, 0), (7, 6, 0.9), (-1, 50, 0))
    assert detect(other_digit, cfg) == [] and detect(far_apart, cfg) == []


def test_a_setting_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match="threshold is 'high', not a number"):
        DetectorConfig(threshold="high")
    with pytest.raises(TypeError, match="smoothing is True, not a number"):
        DetectorConfig(smoothing=True)
