"""Scoring events against what was said: isolated clips and continuous streams.

Pure functions over events and ground truth (no audio, no model), so that every rule here is
tested on hand-made cases.

Streams: each spoken digit owns the events decided between its start and ``tolerance_s`` after
its end. In time order, a word takes the first such free event with its digit (a **hit**, with
latency ``event.time − word.end``), else the first free event of another digit (a
**substitution**), else nothing (a **miss**). Every event left over is a **false alarm**; those
inside some word's window are also counted as **duplicates** (a second event for one word).
Recall is also given by the pause between a digit and the nearer digit beside it
(``PAUSE_BINS``): digits said in quick succession are the hard case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from spotter.events import Event
from spotter.resample import SAMPLE_RATE

N_DIGITS = 10
PAUSE_BINS = (0.1, 0.2, 0.3)  # seconds; the bins are < 0.1, 0.1–0.2, 0.2–0.3 and ≥ 0.3
PAUSE_NAMES = ("<0.1 s", "0.1-0.2 s", "0.2-0.3 s", ">=0.3 s")


@dataclass(frozen=True)
class Word:
    """A digit that was really spoken in a stream, with its span in seconds."""

    digit: int
    start: float
    end: float


@dataclass(frozen=True)
class Sentence:
    """Ordinary speech placed in a stream: which negative recording, and its span in seconds."""

    index: int
    start: float
    end: float


@dataclass
class StreamScore:
    words: int = 0
    hits: int = 0
    substitutions: int = 0
    misses: int = 0
    duplicates: int = 0
    events: int = 0
    latencies: list[float] = field(default_factory=list)
    false_alarm_events: list[Event] = field(default_factory=list)
    words_by_pause: list[int] = field(default_factory=lambda: [0] * len(PAUSE_NAMES))
    hits_by_pause: list[int] = field(default_factory=lambda: [0] * len(PAUSE_NAMES))

    def add(self, other: StreamScore) -> None:
        for name in (
            "words",
            "hits",
            "substitutions",
            "misses",
            "duplicates",
            "events",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies += other.latencies
        self.false_alarm_events += other.false_alarm_events
        for counts, more in (
            (self.words_by_pause, other.words_by_pause),
            (self.hits_by_pause, other.hits_by_pause),
        ):
            counts[:] = [a + b for a, b in zip(counts, more, strict=True)]

    @property
    def false_alarms(self) -> int:
        return len(self.false_alarm_events)

    def summary(self, non_digit_seconds: float) -> dict:
        """Rates, false alarms per hour of audio that holds no digit, and latency statistics."""
        hours = non_digit_seconds / 3600
        return {
            "words": self.words,
            "events": self.events,
            "hits": self.hits,
            "substitutions": self.substitutions,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "duplicates": self.duplicates,
            "recall": ratio(self.hits, self.words),
            "substitution_rate": ratio(self.substitutions, self.words),
            "miss_rate": ratio(self.misses, self.words),
            "precision": ratio(self.hits, self.events),
            "non_digit_hours": round(hours, 4),
            "false_alarms_per_hour": round(self.false_alarms / hours, 2) if hours else None,
            "latency_s": latency_summary(self.latencies),
            "recall_by_pause": {
                name: {"words": words, "recall": ratio(hits, words)}
                for name, words, hits in zip(
                    PAUSE_NAMES, self.words_by_pause, self.hits_by_pause, strict=True
                )
            },
        }


def score_stream(words: list[Word], events: list[Event], tolerance_s: float = 0.5) -> StreamScore:
    """Match the events of one stream to the digits spoken in it (see the module docstring)."""
    events = sorted(events, key=lambda e: e.time)
    free = [True] * len(events)
    score = StreamScore(words=len(words), events=len(events))

    def window(word: Word) -> list[int]:
        return [i for i, e in enumerate(events) if word.start <= e.time <= word.end + tolerance_s]

    words = sorted(words, key=lambda w: w.end)
    for word, pause in zip(words, pauses(words), strict=True):
        candidates = [i for i in window(word) if free[i]]
        right = [i for i in candidates if events[i].digit == word.digit]
        pause_bin = int(np.searchsorted(PAUSE_BINS, pause, side="right"))
        score.words_by_pause[pause_bin] += 1
        if right:
            free[right[0]] = False
            score.hits += 1
            score.hits_by_pause[pause_bin] += 1
            score.latencies.append(events[right[0]].time - word.end)
        elif candidates:
            free[candidates[0]] = False
            score.substitutions += 1
        else:
            score.misses += 1
    inside_a_word = {i for word in words for i in window(word)}
    score.false_alarm_events = [e for e, is_free in zip(events, free, strict=True) if is_free]
    score.duplicates = sum(1 for i, is_free in enumerate(free) if is_free and i in inside_a_word)
    return score


def pauses(words: list[Word]) -> list[float]:
    """For each digit (in time order), the silence between it and the nearer digit beside it
    (whatever lies between them); infinite for a stream of one digit."""
    gaps = [b.start - a.end for a, b in pairwise(words)]
    before, after = [np.inf, *gaps], [*gaps, np.inf]
    return [min(a, b) for a, b in zip(before, after, strict=True)]


def false_alarm_sources(
    false_alarms: list[Event], sentences: list[Sentence], tolerance_s: float = 0.5
) -> Counter[tuple[int | None, str]]:
    """(sentence index, word fired) → false alarms decided during that sentence or within
    ``tolerance_s`` after it; index None for those under no sentence (noise, digit strings)."""
    found: Counter[tuple[int | None, str]] = Counter()
    for event in false_alarms:
        under = [s.index for s in sentences if s.start <= event.time <= s.end + tolerance_s]
        found[(under[0] if under else None, event.word)] += 1
    return found


def recordings_that_fired(sources: Counter[tuple[int | None, str]]) -> int:
    """Distinct ordinary-speech recordings with a false alarm under them (``sources`` as
    ``false_alarm_sources`` counts them). A stream set can play a recording more than once, and
    a recording that is heard as a digit once tends to be heard so again, so at strict settings
    this says how many things fire better than the false alarms themselves do."""
    return len({index for index, _ in sources if index is not None})


@dataclass
class ClipResult:
    """One isolated clip: what was said and what the spotter reported."""

    path: str
    digit: int
    speaker: str
    events: list[Event]

    @property
    def top(self) -> Event | None:
        """The highest-score event (the clip's prediction); None when nothing fired."""
        return max(self.events, key=lambda e: e.score) if self.events else None

    @property
    def predicted(self) -> int | None:
        return self.top.digit if self.top else None


def score_clips(results: list[ClipResult]) -> dict:
    """Accuracy overall, per digit and per speaker; no-event and several-event rates; latency;
    the confusion matrix (rows: said 0–9; columns: predicted 0–9, then "none")."""
    confusion = np.zeros((N_DIGITS, N_DIGITS + 1), dtype=int)
    for r in results:
        confusion[r.digit, N_DIGITS if r.predicted is None else r.predicted] += 1
    correct = Counter(r.speaker for r in results if r.predicted == r.digit)
    per_speaker = Counter(r.speaker for r in results)
    latencies = [r.top.time - r.top.end for r in results if r.top and r.predicted == r.digit]
    return {
        "clips": len(results),
        "accuracy": ratio(int(np.trace(confusion)), len(results)),
        "no_event": ratio(sum(1 for r in results if not r.events), len(results)),
        "exactly_one_event": ratio(sum(1 for r in results if len(r.events) == 1), len(results)),
        "several_events": ratio(sum(1 for r in results if len(r.events) > 1), len(results)),
        "per_digit": {
            str(d): ratio(int(confusion[d, d]), int(confusion[d].sum()))
            for d in range(N_DIGITS)
            if confusion[d].sum()
        },
        "per_speaker": {s: ratio(correct[s], n) for s, n in sorted(per_speaker.items())},
        "latency_s": latency_summary(latencies),
        "confusion": confusion.tolist(),
    }


def word_bounds(audio: np.ndarray, hop: int = 160, floor_db: float = 30.0) -> tuple[int, int]:
    """The sample span of a clip's word: where its energy per ``hop`` samples is within
    ``floor_db`` of the clip's loudest hop. audio: (n,) → (start, end) in samples."""
    n = len(audio) // hop
    if n == 0:
        return 0, len(audio)
    energy = 10 * np.log10((audio[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-10)
    loud = np.flatnonzero(energy > energy.max() - floor_db)
    return int(loud[0] * hop), int((loud[-1] + 1) * hop)


def trim_to_word(audio: np.ndarray, margin_s: float = 0.05) -> tuple[np.ndarray, int, int]:
    """The clip cut to its word (``word_bounds``) and ``margin_s`` either side, with the word's
    span in the cut clip. Synthetic voices pad their words with about 0.2 s of silence; trimmed,
    two words can follow each other as closely as people say them.
    audio: (n,) → ((m,), start, end), m ≤ n, in samples."""
    start, end = word_bounds(audio)
    cut = max(start - int(margin_s * SAMPLE_RATE), 0)
    return audio[cut : end + int(margin_s * SAMPLE_RATE)], start - cut, end - cut


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def latency_summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"median": None, "p90": None, "max": None}
    values = np.asarray(latencies)
    return {
        "median": round(float(np.median(values)), 3),
        "p90": round(float(np.percentile(values, 90)), 3),
        "max": round(float(values.max()), 3),
    }
