"""Training data: per-frame targets and augmentation, checked on hand-made input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_spotter

from models import synth
from models.data import HOP, IGNORE, Clip, MixConfig, Mixer, shifted_copies
from models.features import LogMel
from models.train import (
    TrainConfig,
    burst_drop,
    hard_background,
    load_checkpoint,
    random_channel,
)
from models.voices import Voice
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


def test_burst_drop_counts_only_falls_inside_one_digit_burst():
    """Rises cost nothing; a dip inside a burst does; frame pairs that straddle two bursts, the
    background or ignored frames are not pairs of one burst."""
    logits = torch.zeros(1, SILENCE + 1, 8)
    logits[0, 3] = torch.tensor([0.0, 1.0, 3.0, 1.0, 4.0, 9.0, 0.0, 0.0])  # digit 3's logit
    logits[0, 4, 5:] = 2.0  # digit 4's logit, the best other class from frame 5 on
    rising = torch.tensor([[SILENCE, 3, 3, IGNORE, 3, 3, 4, 4]])
    assert burst_drop(logits, rising, SILENCE) == 0.0
    dipping = torch.tensor([[SILENCE, 3, 3, 3, 3, 3, SILENCE, SILENCE]])
    # margins of 3 over frames 1-5: 1, 3, 1, 4, 7 -> pairs fall 0, 2, 0, 0
    assert burst_drop(logits, dipping, SILENCE).item() == pytest.approx(0.5)
    assert burst_drop(logits, torch.full((1, 8), SILENCE), SILENCE) == 0.0


def test_hard_background_weighs_the_worst_frames_of_windows_without_a_digit():
    """Only all-background windows count, and in each only its `worst` frames."""
    logits = torch.zeros(2, SILENCE + 1, 6)
    logits[:, SILENCE] = 5.0  # confident background everywhere ...
    logits[:, 7, 2] = 5.0  # ... except one frame that looks as much like a seven
    background = torch.full((2, 6), SILENCE)
    with_a_digit = background.clone()
    with_a_digit[1, 4] = 3
    easy = torch.nn.functional.cross_entropy(logits[:1, :, :1], background[:1, :1]).item()
    confused = torch.nn.functional.cross_entropy(logits[:1, :, 2:3], background[:1, 2:3]).item()
    assert hard_background(logits, background, SILENCE, worst=1).item() == pytest.approx(confused)
    assert hard_background(logits, background, SILENCE, worst=2).item() == pytest.approx(
        (confused + easy) / 2
    )
    assert hard_background(logits, with_a_digit, SILENCE, worst=1).item() == pytest.approx(confused)
    assert hard_background(logits, torch.full((1, 6), IGNORE), SILENCE) == 0.0


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


def test_every_voice_source_lies_in_exactly_one_split():
    manifests = synth.plan(synth.SynthConfig(out=Path("unused"), random_sentences=0))
    sources = {
        split: {synth.source_of(job.voice) for job, _ in manifests[split]} for split in synth.SPLITS
    }
    assert all(sources.values())
    assert not sources["train"] & sources["val"]
    assert not sources["train"] & sources["test"]
    assert not sources["val"] & sources["test"]
    # one recording behind three engines is one source, so one split
    slt = [
        Voice("festival", "cmu_us_slt_arctic_hts"),
        Voice("flite", "slt"),
        Voice("rhvoice", "slt"),
    ]
    assert {synth.split_of(v) for v in slt} == {"test"}
    for split in synth.SPLITS:  # ordinary speech comes from the split's own sources
        other = {synth.source_of(job.voice) for job, _ in manifests[f"other-{split}"]}
        assert other <= sources[split]
        assert {label for _, label in manifests[split]} == {str(d) for d in range(10)}


def test_every_validation_voice_says_every_number_word_for_calibration():
    cfg = synth.SynthConfig(out=Path("unused"), random_sentences=0)
    quiet = synth.plan(cfg)["quiet-val"]
    voices = {
        v
        for engine in cfg.engines
        for v in synth.engine_voices(engine)
        if synth.split_of(v) == "val"
    }
    assert len(voices) > 10
    said = {(job.voice, text) for job, text in quiet}
    assert said == {(voice, word) for voice in voices for word in synth.NEVER_FIRE}
    assert len(said) == len(quiet)


def test_more_training_sentences_leave_validation_and_test_as_they_were(monkeypatch):
    monkeypatch.setattr(synth, "ordinary_vocabulary", lambda: ["often", "tonight"])
    few, many = (
        synth.plan(synth.SynthConfig(out=Path("unused"), random_sentences=n)) for n in (0, 30)
    )
    assert len(many["other-train"]) == len(few["other-train"]) + 30
    for name in ("val", "test", "other-val", "other-test", "quiet-val"):
        assert many[name] == few[name]


def test_more_sentence_voices_change_only_the_sentences(monkeypatch):
    monkeypatch.setattr(synth, "ordinary_vocabulary", lambda: ["often", "tonight"])
    few, many = (
        synth.plan(synth.SynthConfig(out=Path("unused"), random_sentences=5, sentence_voices=n))
        for n in (4, 16)
    )
    for name in ("train", "other-train", "val", "test"):
        assert many[name] == few[name]
    for name in ("other-val", "other-test"):
        voices_of: dict[str, set] = {}
        for job, text in many[name]:
            voices_of.setdefault(text, set()).add(job.voice)
        assert {len(voices) for voices in voices_of.values()} == {16}
        assert len(many[name]) == 4 * len(few[name])


def test_training_speech_follows_the_homophone_policy():
    words = {w for text in synth.OTHER_SPEECH for w in text.lower().split()}
    assert not words & (set(WORDS) | set(synth.FIRES_AS_DIGIT))  # never taught "not a digit"
    assert set(synth.NEVER_FIRE) <= words  # taught "not a digit"


def test_random_strings_leave_out_words_that_end_in_a_digit(tmp_path):
    lexicon = tmp_path / "lexicon.out"
    lexicon.write_text(
        '("someone" nil (((s ah m) 1) ((w ah n) 0)))\n'
        '("seven" nil (((s eh) 1) ((v ax n) 0)))\n'
        '("tonight" nil (((t ax) 0) ((n ay t) 1)))\n'
        '("canine" nil (((k ey) 1) ((n ay n) 0)))\n'
        '("often" nil (((ao f) 1) ((ax n) 0)))\n'
        '("into" nil (((ih n) 1) ((t uw) 0)))\n'
        '("x-ray" nil (((eh k s) 1) ((r ey) 1)))\n'
    )
    vocabulary = synth.ordinary_vocabulary(lexicon)
    assert vocabulary == ["often", "tonight"]
    strings = synth.random_sentences(50, np.random.default_rng(0), vocabulary)
    assert all(2 <= len(s.split()) <= 5 and set(s.split()) <= set(vocabulary) for s in strings)


def test_validation_and_test_sentences_are_never_trained_on_nor_shared():
    from spotter.sentences import TEST_SENTENCES, VALIDATION_SENTENCES

    trained = set(synth.OTHER_SPEECH)
    assert not set(VALIDATION_SENTENCES) & trained
    assert not set(TEST_SENTENCES) & trained
    assert not set(VALIDATION_SENTENCES) & set(TEST_SENTENCES)


def test_validation_and_test_streams_speak_their_own_sentences():
    from spotter.sentences import TEST_SENTENCES, VALIDATION_SENTENCES

    manifests = synth.plan(synth.SynthConfig(out=Path("unused"), random_sentences=0))
    assert {text for _, text in manifests["other-val"]} == set(VALIDATION_SENTENCES)
    assert {text for _, text in manifests["other-test"]} == set(TEST_SENTENCES)


def test_sentences_that_must_not_fire_hold_no_word_that_fires():
    from spotter.sentences import TEST_SENTENCES, VALIDATION_SENTENCES

    words = {w for text in VALIDATION_SENTENCES + TEST_SENTENCES for w in text.lower().split()}
    assert not words & (set(WORDS) | set(synth.FIRES_AS_DIGIT))


def test_data_synth_writes_a_manifest_per_split(tmp_path):
    from conftest import run_spotter

    from spotter.evaluate import find_clips

    out = tmp_path / "synth"
    result = run_spotter(
        "data", "synth", "--engines", "espeak", "--max-voices", "1", "--takes", "1",
        "--random-sentences", "0", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    speakers = {}
    for split in synth.SPLITS:
        clips = find_clips(out / f"{split}.csv")
        assert sorted({c.digit for c in clips}) == list(range(10))
        assert all(c.path.is_file() for c in clips)
        speakers[split] = {c.speaker.split("+")[-1] for c in clips}  # the espeak-ng variant
        other = list((out / f"other-{split}").rglob("*.wav"))
        assert len(other) == len((out / f"other-{split}.csv").read_text().splitlines()) - 1
    assert len((out / "quiet-val.csv").read_text().splitlines()) - 1 == len(synth.NEVER_FIRE)
    assert speakers["test"] <= set(synth.ESPEAK_HELD_OUT)
    assert speakers["val"] <= set(synth.ESPEAK_VALIDATION)
    assert not speakers["train"] & (speakers["test"] | speakers["val"])


def test_the_train_command_defaults_are_the_training_defaults():
    """The CLI spells its defaults out (it imports torch only when a command runs), so the README's
    retrain command makes the recipe TrainConfig describes only while the two agree."""
    from inspect import signature
    from typing import get_type_hints

    from spotter import cli

    options = signature(cli.train).parameters
    cfg = TrainConfig()
    assert options["steps"].default == cfg.steps
    assert options["batch_size"].default == cfg.batch_size
    assert options["channels"].default == cfg.net.channels
    assert options["seed"].default == cfg.seed
    assert options["threads"].default == cfg.threads
    assert tuple(options["heldout"].default.split(",")) == cfg.heldout_speakers
    assert options["fsdd"].default == cfg.fsdd and options["synth"].default == cfg.synth
    assert options["lr"].default == cfg.lr and options["init"].default == cfg.init
    assert options["burst_drop_weight"].default == cfg.burst_drop_weight
    assert options["hard_background_weight"].default == cfg.hard_background_weight
    assert options["shifted_voices"].default == cfg.shifted_voices
    assert options["synthetic_share"].default == cfg.mix.synthetic_p
    gap_help = get_type_hints(cli.train, include_extras=True)["gap"].__metadata__[0].help
    assert f"default: {cfg.mix.gap_s[0]} {cfg.mix.gap_s[1]})" in gap_help  # spelt out by hand
    level_help = get_type_hints(cli.train, include_extras=True)["level"].__metadata__[0].help
    assert f"(default: {cfg.mix.peak_dbfs[0]} {cfg.mix.peak_dbfs[1]})" in level_help


def test_train_draws_its_synthetic_share_of_digit_words(monkeypatch, tmp_path):
    """`spotter train --synthetic-share P` sets the share of training digit words the mixer
    draws from the synthetic voices; without it, the training default."""
    from spotter import cli

    configs = []
    monkeypatch.setattr("models.train.train", lambda cfg, log: configs.append(cfg))
    monkeypatch.setattr(cli, "export_checked", lambda checkpoint, out: None)
    monkeypatch.setattr(cli, "calibrate", lambda model, **how: None)
    (tmp_path / "fsdd").mkdir()
    synth = tmp_path / "synth"
    (synth / "quiet-val").mkdir(parents=True)
    cli.train(fsdd=tmp_path / "fsdd", synth=synth, out=tmp_path / "run", synthetic_share=0.7)
    cli.train(fsdd=tmp_path / "fsdd", synth=synth, out=tmp_path / "run")

    assert [cfg.mix.synthetic_p for cfg in configs] == [0.7, MixConfig().synthetic_p]


def test_train_calibrates_at_its_calibration_level(monkeypatch, tmp_path):
    """`spotter train --calibration-level MIN MAX` ends with the calibration `spotter calibrate
    --level MIN MAX` makes, on --synth's validation voices; without it, the clips' own levels.
    (Training and calibrating for real take an hour: both stand in here.)"""
    from spotter import cli

    monkeypatch.setattr("models.train.train", lambda cfg, log: {})
    monkeypatch.setattr(cli, "export_checked", lambda checkpoint, out: None)
    calibrations = []
    monkeypatch.setattr(cli, "calibrate", lambda model, **how: calibrations.append((model, how)))
    (tmp_path / "fsdd").mkdir()
    synth = tmp_path / "synth"
    (synth / "quiet-val").mkdir(parents=True)
    out = tmp_path / "run"
    cli.train(fsdd=tmp_path / "fsdd", synth=synth, out=out, calibration_level=(-50.0, -5.0))
    cli.train(fsdd=tmp_path / "fsdd", synth=synth, out=out)

    (model, leveled), (_, own) = calibrations
    assert model == out / "model.onnx"
    assert leveled["level"] == (-50.0, -5.0) and own["level"] is None
    assert leveled["clips"] == synth / "val.csv" and leveled["quiet"] == synth / "quiet-val"


def test_a_warm_restart_starts_from_the_checkpoint(tiny_model, spoken_digits, tmp_path):
    """`spotter train --init`: the checkpoint's weights and normalisation, not new ones (one step
    at a negligible learning rate leaves them as they were), and the run says where it began."""

    def train(out: Path, *more: str):
        options = ["--fsdd", str(spoken_digits), "--noise", str(tmp_path / "no-noise")]
        options += ["--steps", "1", "--lr", "1e-9", "--channels", "16", "--fsdd-only"]
        result = run_spotter("train", *options, "--heldout", "charlie", "--out", str(out), *more)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        return load_checkpoint(out / "checkpoint.pt")

    before, _ = load_checkpoint(tiny_model / "checkpoint.pt")
    restarted, summary = train(tmp_path / "restart", "--init", str(tiny_model / "checkpoint.pt"))
    fresh, _ = train(tmp_path / "fresh")

    def learned(model):  # the batch-norm running statistics move with any step: left out
        return {**dict(model.net.named_parameters()), **dict(model.front_end.named_buffers())}

    kept = learned(before)
    assert all(torch.allclose(t, kept[name], atol=1e-6) for name, t in learned(restarted).items())
    assert not torch.allclose(fresh.net.stem.conv.weight, before.net.stem.conv.weight, atol=1e-3)
    assert summary["config"]["init"] == str(tiny_model / "checkpoint.pt")


def test_a_shifted_copy_moves_every_frequency_and_keeps_the_word():
    """`spotter train --shifted-voices`: each copy's tones move by one factor from the range
    (sox pitch: pitch and formants together), its length and its word's span stay."""
    seconds = np.arange(16000) / 16000
    tones = 0.3 * np.sin(2 * np.pi * 300 * seconds) + 0.2 * np.sin(2 * np.pi * 1000 * seconds)
    clips = [Clip(tones.astype(np.float32), 7, "lucas", 12, 4000, 12000) for _ in range(4)]

    def peaks(audio: np.ndarray) -> list[float]:  # the two strongest tones, 1 Hz bins
        spectrum = np.abs(np.fft.rfft(audio[2000:-2000] * np.hanning(12000), n=16000))
        return sorted(float(np.argmax(spectrum[lo:hi]) + lo) for lo, hi in ((1, 650), (650, 4000)))

    copies = shifted_copies(clips, (1.2, 1.6), np.random.default_rng(0))
    factors = []
    for copy in copies:
        assert (copy.label, copy.speaker, copy.take) == (7, "shift:lucas", 12)
        assert (copy.word_start, copy.word_end, len(copy.audio)) == (4000, 12000, 16000)
        low, high = peaks(copy.audio)
        assert abs(high / low - 1000 / 300) < 0.05  # both tones moved by the same factor
        factors.append(low / 300)
    assert all(1.19 <= factor <= 1.61 for factor in factors)
    assert max(factors) - min(factors) > 0.05  # a factor per copy, not one for all
    again = shifted_copies(clips, (1.2, 1.6), np.random.default_rng(0))
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(copies, again, strict=True))


def test_shifted_voices_join_the_training_pool(spoken_digits, tmp_path):
    """`spotter train --shifted-voices LO HI`: a shifted copy of every training clip is drawn
    from beside the synthetic voices, and the run records it."""
    options = ["--fsdd", str(spoken_digits), "--noise", str(tmp_path / "no-noise"), "--fsdd-only"]
    options += ["--steps", "1", "--channels", "16", "--heldout", "charlie"]
    options += ["--synth", str(tmp_path / "no-synth"), "--out", str(tmp_path / "run")]
    result = run_spotter("train", *options, "--shifted-voices", "1.2", "1.4", timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert "shifted voices: 60 FSDD training clips, every frequency times 1.2-1.4" in (
        result.stderr.decode()
    )
    _, summary = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert summary["synthetic_voices"] == {"shift": 2}  # the two training speakers
    assert summary["config"]["shifted_voices"] == [1.2, 1.4]
