"""Scoring rules on hand-made ground truth where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from spotter.events import WORDS, Event
from spotter.scoring import (
    ClipResult,
    Sentence,
    Word,
    false_alarm_sources,
    recordings_that_fired,
    score_clips,
    score_stream,
    trim_to_word,
)


def event(digit: int, time: float, score: float = 0.9, end: float | None = None) -> Event:
    end = time - 0.1 if end is None else end
    return Event(digit, WORDS[digit], score, end - 0.3, end, time, "test")


def test_a_right_event_after_the_word_is_a_hit_with_its_latency():
    score = score_stream([Word(4, 1.0, 1.5)], [event(4, 1.62)])
    assert (score.hits, score.substitutions, score.misses, score.false_alarms) == (1, 0, 0, 0)
    assert score.latencies == [pytest.approx(0.12)]


def test_no_event_near_a_word_is_a_miss():
    score = score_stream([Word(4, 1.0, 1.5)], [])
    assert (score.hits, score.misses, score.false_alarms) == (0, 1, 0)


def test_a_wrong_digit_is_a_substitution_not_a_false_alarm():
    score = score_stream([Word(6, 1.0, 1.5)], [event(8, 1.6)])
    assert (score.hits, score.substitutions, score.misses, score.false_alarms) == (0, 1, 0, 0)


def test_an_event_far_from_any_word_is_a_false_alarm():
    score = score_stream([Word(2, 1.0, 1.5)], [event(2, 1.6), event(7, 5.0)])
    assert (score.hits, score.false_alarms, score.duplicates) == (1, 1, 0)


def test_an_event_after_the_tolerance_is_late_a_miss_and_a_false_alarm():
    score = score_stream([Word(2, 1.0, 1.5)], [event(2, 2.2)], tolerance_s=0.5)
    assert (score.hits, score.misses, score.false_alarms) == (0, 1, 1)


def test_a_second_event_for_one_word_is_a_duplicate_false_alarm():
    score = score_stream([Word(3, 1.0, 1.5)], [event(3, 1.6), event(3, 1.8)])
    assert (score.hits, score.false_alarms, score.duplicates) == (1, 1, 1)


def test_the_right_digit_wins_over_an_earlier_wrong_one():
    score = score_stream([Word(5, 1.0, 1.5)], [event(1, 1.55), event(5, 1.65)])
    assert (score.hits, score.substitutions, score.false_alarms, score.duplicates) == (1, 0, 1, 1)


def test_fast_digit_strings_match_each_word_to_its_own_event():
    words = [Word(1, 1.0, 1.3), Word(2, 1.35, 1.7)]  # windows overlap
    score = score_stream(words, [event(1, 1.45), event(2, 1.8)])
    assert (score.hits, score.false_alarms) == (2, 0)


def test_stream_summary_rates_and_false_alarms_per_hour():
    score = score_stream([Word(1, 1, 1.5), Word(2, 3, 3.5)], [event(1, 1.6), event(9, 10)])
    summary = score.summary(non_digit_seconds=1800)
    assert summary["recall"] == 0.5 and summary["miss_rate"] == 0.5
    assert summary["precision"] == 0.5
    assert summary["false_alarms_per_hour"] == 2.0


def test_recall_is_also_given_by_the_pause_to_the_nearer_digit():
    words = [Word(1, 1.0, 1.3), Word(2, 1.35, 1.7), Word(3, 1.95, 2.3), Word(4, 5.0, 5.3)]
    first = score_stream(words, [event(1, 1.45), event(4, 5.4)])  # "two", "three" missed
    second = score_stream([Word(5, 1.0, 1.3)], [])  # alone: missed
    first.add(second)
    by_pause = first.summary(non_digit_seconds=60)["recall_by_pause"]
    assert by_pause == {
        "<0.1 s": {"words": 2, "recall": 0.5},
        "0.1-0.2 s": {"words": 0, "recall": None},
        "0.2-0.3 s": {"words": 1, "recall": 0.0},
        ">=0.3 s": {"words": 2, "recall": 0.5},
    }


def test_clip_scores_take_the_highest_score_event():
    results = [
        ClipResult("a", 7, "ann", [event(1, 0.5, 0.6), event(7, 0.9, 0.95)]),  # right, 2 events
        ClipResult("b", 7, "bob", [event(7, 0.6)]),  # right
        ClipResult("c", 3, "bob", []),  # nothing fired
        ClipResult("d", 3, "ann", [event(8, 0.7)]),  # wrong
    ]
    scores = score_clips(results)
    assert scores["accuracy"] == 0.5
    assert (scores["no_event"], scores["exactly_one_event"], scores["several_events"]) == (
        0.25,
        0.5,
        0.25,
    )
    assert scores["per_digit"] == {"3": 0.0, "7": 1.0}
    assert scores["per_speaker"] == {"ann": 0.5, "bob": 0.5}
    assert scores["confusion"][3][10] == 1 and scores["confusion"][3][8] == 1
    assert scores["confusion"][7][7] == 2
    assert scores["latency_s"]["max"] == pytest.approx(0.1)


def test_false_alarms_are_traced_to_the_sentence_under_them():
    score = score_stream([Word(1, 1.0, 1.5)], [event(1, 1.6), event(3, 4.2), event(9, 8.0)])
    sentences = [Sentence(5, 3.0, 4.0), Sentence(2, 6.0, 7.0)]
    found = false_alarm_sources(score.false_alarm_events, sentences, tolerance_s=0.5)
    assert found == {(5, "three"): 1, (None, "nine"): 1}


def test_a_recording_that_fires_again_counts_once():
    events = [event(3, 3.5), event(8, 3.9), event(3, 12.5), event(7, 20.0), event(9, 30.0)]
    score = score_stream([Word(1, 40.0, 40.5)], events)
    sentences = [Sentence(5, 3.0, 4.0), Sentence(5, 12.0, 13.0), Sentence(2, 19.0, 20.0)]
    found = false_alarm_sources(score.false_alarm_events, sentences, tolerance_s=0.5)
    assert score.false_alarms == 5
    assert recordings_that_fired(found) == 2  # recording 5 (three times) and 2; not the noise


def test_trimming_keeps_the_word_and_a_margin_of_its_silence():
    word = np.sin(np.arange(4800) * 0.3).astype(np.float32) * 0.5
    clip = np.concatenate([np.zeros(8000, np.float32), word, np.zeros(8000, np.float32)])
    trimmed, start, end = trim_to_word(clip, margin_s=0.05)
    assert len(trimmed) == 800 + 4800 + 800
    assert np.array_equal(trimmed[800:5600], word)
    assert (start, end) == (800, 5600)
