"""Training data: per-frame targets and augmentation, checked on hand-made input."""

from __future__ import annotations

import numpy as np
import torch

from models import synth
from models.data import HOP, IGNORE, Clip, MixConfig, Mixer
from models.features import LogMel
from models.train import TrainConfig, random_channel
from spotter.events import WORDS

SILENCE = 10


def targets_for(words: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Targets of one window (receptive field 99, 100 output frames) and each one's input frame."""
    mixer = Mixer([], [], receptive_field=99, silence_label=SILENCE)
    return mixer.targets(words), np.arange(98, 198)


def test_a_word_is_labelled_from_just_before_its_end_until_the_burst_is_over():
    targets, frame = targets_for([(120 * HOP, 150 * HOP, 7)])  # the word ends with frame 149
    assert (targets[(frame >= 147) & (frame <= 179)] == 7).all()
    assert (targets[frame < 147] == SILENCE).all()  # still being spoken: not yet a digit
    assert (targets[(frame >= 180) & (frame <= 189)] == IGNORE).all()  # settling
    assert (targets[frame >= 190] == SILENCE).all()


def test_a_word_not_wholly_inside_the_receptive_field_is_not_a_target():
    targets, frame = targets_for([(0, 150 * HOP, 3)])  # begins ~1 s before its end frames' field
    assert (targets[(frame >= 147) & (frame <= 179)] == IGNORE).all()
    assert not (targets == 3).any()


def test_the_most_recent_word_wins_where_bursts_overlap():
    targets, frame = targets_for([(100 * HOP, 130 * HOP, 1), (135 * HOP, 160 * HOP, 2)])
    assert (targets[(frame >= 127) & (frame <= 156)] == 1).all()
    assert (targets[(frame >= 157) & (frame <= 189)] == 2).all()  # from just before its end


def test_reverberation_keeps_length_and_peak_and_adds_a_tail():
    mixer = Mixer([], [], receptive_field=99, silence_label=SILENCE, seed=1)
    dry = np.zeros(16000, np.float32)
    dry[1000:3000] = np.sin(np.arange(2000) * 0.3) * 0.5
    wet = mixer.reverberate(dry)
    assert wet.shape == dry.shape
    assert np.isclose(np.abs(wet).max(), 0.5, rtol=1e-3)
    assert np.sqrt(np.mean(wet[3200:4000] ** 2)) > 1e-3  # the room rings on after the word


def test_random_channel_changes_only_what_the_filter_reaches():
    front_end = LogMel()
    audio = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 16000)).astype("f4"))
    logmel, _ = front_end.frames(audio)
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(random_channel(logmel, front_end, TrainConfig(channel_p=0.0), gen), logmel)
    highpass_only = TrainConfig(
        channel_p=1.0,
        highpass_hz=(300.0, 300.0),
        lowpass_hz=(1e6, 1e6),
        tilt_db_per_octave=(0.0, 0.0),
    )
    shift = (random_channel(logmel, front_end, highpass_only, gen) - logmel).mean(dim=(0, 2))
    assert shift[0] < -1.0  # 77 Hz: well below the cut-off
    assert shift[-20:].abs().max() < 0.01  # above 1.4 kHz: all but untouched


def test_ordinary_speech_in_a_window_is_never_a_digit_target():
    rng = np.random.default_rng(0)
    word = Clip(rng.standard_normal(6000).astype(np.float32) * 0.1, 4, "a", 5, 500, 5500)
    other = Clip(rng.standard_normal(6000).astype(np.float32) * 0.1, -1, "b", 0, 500, 5500)
    only_other = MixConfig(other_speech_p=1.0, words_p=(0.0, 0.0, 1.0), silence_p=1.0)
    mixer = Mixer([word], [], 99, SILENCE, only_other, seed=0, other_speech=[other])
    for _ in range(20):
        audio, targets = mixer.example()
        assert np.abs(audio).max() > 0  # the other speech is there
        assert set(targets.tolist()) <= {SILENCE, IGNORE}


def test_synthetic_voices_are_split_by_identity_and_say_every_digit():
    assert not set(synth.TRAIN_VARIANTS) & set(synth.HELD_OUT_VARIANTS)
    clips = synth.synthetic_digits(variants=("m2",))
    assert len(clips) == len(synth.ACCENTS) * 10
    assert sorted({c.label for c in clips}) == list(range(10))
    assert len({c.speaker for c in clips}) == len(synth.ACCENTS)
    assert all(0 <= c.word_start < c.word_end <= len(c.audio) for c in clips)


def test_ordinary_speech_holds_no_digit_word_nor_a_homophone():
    homophones = {"oh", "o", "to", "too", "two", "for", "fore", "ate", "won", "tree", "free"}
    words = {w for text in synth.OTHER_SPEECH for w in text.lower().split()}
    assert not words & (set(WORDS) | homophones)


def test_the_streams_evaluation_uses_speech_and_voices_never_trained_on():
    from spotter.evaluate import NEGATIVE_VOICES, SENTENCES

    assert not set(SENTENCES) & set(synth.OTHER_SPEECH)
    assert not {v.split("+")[1] for v in NEGATIVE_VOICES if "+" in v} & set(synth.TRAIN_VARIANTS)
