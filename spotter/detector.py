"""Per-frame posteriors → one detection per spoken digit.

The model is trained to raise the digit's posterior for a short burst right after the word
ends. The detector smooths the posteriors over a few frames and runs a small state machine:

- idle: the best digit's smoothed score reaches ``threshold`` → candidate;
- candidate: track the peak; ``lookahead`` frames after the peak without a higher score (or
  when the score drops below ``release``) → emit the peak's digit and score, provided the score
  stayed at or above ``threshold`` for ``min_frames`` frames; a shorter blip is dropped. The
  model holds a spoken digit's posterior for about 0.3 s after the word, but only blips on the
  digit inside a longer word ("eight" in "eighteen", "six" in "sixty") before the rest of the
  word pulls it down. On an unfamiliar voice one word's burst sometimes breaks into two blips:
  a blip of the same digit that starts within ``merge_gap`` frames of a dropped one continues
  its count;
- fired: no new detection until the score falls below ``release`` (one event per word), unless
  a *different* digit rises above ``threshold`` (fast digit strings); and never within
  ``refractory`` frames of the last decision (two spoken words cannot end closer than that).

The word's span is estimated from the frame energy track that the model also outputs.
Everything is in frames, so the result does not depend on how the audio was chunked.
"""

from __future__ import annotations

import numbers
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from spotter.errors import SpotterError

IDLE, CANDIDATE, FIRED = 0, 1, 2


@dataclass(frozen=True)
class DetectorConfig:
    threshold: float = 0.5
    release: float = 0.2
    smoothing: int = 3  # frames in the moving average
    lookahead: int = 5  # frames after a peak before deciding
    refractory: int = 25  # frames after a decision in which no new candidate starts
    min_frames: int = 1  # frames at or above threshold before a candidate may become an event
    merge_gap: int = 0  # frames after a dropped blip in which a same-digit blip continues it
    max_word_frames: int = 120  # how far back a word's start may lie
    energy_gap_frames: int = 12  # quiet frames tolerated inside a word (stop consonants)

    def __post_init__(self) -> None:
        for name, value in vars(self).items():  # settings read from a model's metadata, too
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} is {value!r}, not a number")

    @classmethod
    def stored(cls, settings: object, source: str) -> DetectorConfig:
        """The settings a model stores (its ``detector`` metadata, parsed); a one-line error
        when this detector does not know them (a model calibrated by another version)."""
        try:
            return cls(**settings)
        except TypeError as exc:
            raise SpotterError(f"{source}: invalid detector settings ({exc})") from None

    def at_threshold(self, threshold: float) -> DetectorConfig:
        """The same settings with another threshold (release never above it)."""
        return replace(self, threshold=threshold, release=min(self.release, threshold))


@dataclass(frozen=True)
class Detection:
    label: int
    score: float
    start_frame: int  # first frame of the word (energy estimate)
    end_frame: int  # last frame of the word (energy estimate)
    decision_frame: int  # frame at which the detector decided


class Detector:
    """Feed (k, n_classes) posteriors and (k,) frame energies in dB; get detections back."""

    def __init__(self, n_classes: int, digit_classes: list[int], cfg: DetectorConfig) -> None:
        self.cfg = cfg
        self.digit_classes = np.asarray(digit_classes)
        self.n_classes = n_classes
        self.energy_history = cfg.max_word_frames + cfg.lookahead + cfg.smoothing + 40
        self.reset()

    def reset(self) -> None:
        self.frame = 0  # global index of the next frame
        self.recent = np.zeros((self.cfg.smoothing - 1, len(self.digit_classes)), np.float32)
        self.energy: deque[float] = deque(maxlen=self.energy_history)
        self.state = IDLE
        self.label = -1
        self.peak = 0.0
        self.peak_frame = 0
        self.rise_frame = 0
        self.support = 0  # frames of the candidate at or above threshold
        self.quiet_until = 0
        self.dropped: tuple[int, int, int, int] | None = None  # a blip: label, support, rise, end

    def process(self, posteriors: np.ndarray, energy_db: np.ndarray) -> list[Detection]:
        """posteriors: (k, n_classes) probabilities; energy_db: (k,)."""
        digits = posteriors[:, self.digit_classes]
        joined = np.concatenate([self.recent, digits])
        window = self.cfg.smoothing
        # A sum of shifted copies, not a cumulative sum: every frame's average then adds the same
        # numbers in the same order whatever the chunking, so events do not depend on it.
        n = len(digits)
        smoothed = sum(joined[i : i + n] for i in range(window)) / window
        self.recent = joined[len(joined) - (window - 1) :]
        best = smoothed.argmax(axis=1)
        score = smoothed.max(axis=1)

        detections = []
        first = self.frame
        if self.state == IDLE and score.max(initial=0.0) < self.cfg.release:
            self.energy.extend(energy_db.tolist())
            self.frame += len(score)
            return detections
        for i, (label, value) in enumerate(zip(best.tolist(), score.tolist(), strict=True)):
            self.energy.append(float(energy_db[i]))
            detection = self.step(first + i, label, value)
            if detection is not None:
                detections.append(detection)
        self.frame += len(score)
        return detections

    def flush(self) -> list[Detection]:
        """End of stream: decide a pending candidate now."""
        if self.state != CANDIDATE or self.support < self.cfg.min_frames:
            return []
        return [self.emit(self.frame - 1)]

    def step(self, frame: int, label: int, value: float) -> Detection | None:
        cfg = self.cfg
        if self.state == FIRED:
            if value < cfg.release:
                self.state = IDLE
            elif label != self.label and value >= cfg.threshold and frame >= self.quiet_until:
                self.start_candidate(frame, label, value)
            return None
        if self.state == IDLE:
            if value >= cfg.threshold and frame >= self.quiet_until:
                self.start_candidate(frame, label, value)
            return None
        # candidate
        if value > self.peak and (label == self.label or value >= cfg.threshold):
            if label != self.label:
                self.rise_frame = frame
            self.label, self.peak, self.peak_frame = label, value, frame
        self.support += value >= cfg.threshold
        if self.support >= cfg.min_frames and (
            frame - self.peak_frame >= cfg.lookahead or value < cfg.release
        ):
            return self.emit(frame)
        if value < cfg.release:  # a blip: not a word, unless the same digit comes back soon
            self.state = IDLE
            self.dropped = (self.label, self.support, self.rise_frame, frame)
        return None

    def start_candidate(self, frame: int, label: int, value: float) -> None:
        self.state = CANDIDATE
        self.label, self.peak, self.peak_frame, self.rise_frame = label, value, frame, frame
        self.support = 1
        if self.dropped is not None:
            dropped_label, dropped_support, dropped_rise, dropped_end = self.dropped
            if dropped_label == label and frame - dropped_end <= self.cfg.merge_gap:
                self.support += dropped_support
                self.rise_frame = dropped_rise  # the word ended before the first blip
            self.dropped = None

    def emit(self, frame: int) -> Detection:
        self.state = FIRED
        self.quiet_until = frame + self.cfg.refractory
        start, end = self.word_span(frame)
        return Detection(int(self.digit_classes[self.label]), self.peak, start, end, frame)

    def word_span(self, frame: int) -> tuple[int, int]:
        """Estimate the word from the energy track: the loud run ending near the rise frame."""
        cfg = self.cfg
        energy = np.fromiter(self.energy, np.float32)
        first = frame - len(energy) + 1  # global frame of energy[0]
        rise = min(max(self.rise_frame - first, 0), len(energy) - 1)
        lo = max(rise - cfg.max_word_frames, 0)
        recent = energy[lo : rise + 1]
        tenth = len(energy) // 10  # the 10th percentile by rank: np.percentile imports numpy.ma
        floor = np.partition(energy, tenth)[tenth]
        loud = recent > max(floor + 10.0, recent.max() - 35.0)
        if not loud.any():
            return self.rise_frame - 40, self.rise_frame
        end = int(np.flatnonzero(loud)[-1])
        start = end
        gap = 0
        for i in range(end - 1, -1, -1):
            gap = 0 if loud[i] else gap + 1
            if gap > cfg.energy_gap_frames:
                break
            if loud[i]:
                start = i
        return first + lo + start, first + lo + end
