"""`spotter eval clips` on real held-out recordings: the same answers as `spotter detect`."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import FSDD, pad, run_spotter

from spotter import Spotter
from spotter.evaluate import (
    LabelledClip,
    StreamConfig,
    build_stream,
    detect_at,
    evaluate_streams,
    posteriors_of,
    set_level,
)
from spotter.sources import read_whole

# Some the shipped model gets right, some it gets wrong (6_yweweler_0 → three, 9_theo_1 → zero).
CLIPS = ["0_theo_7.wav", "6_yweweler_0.wav", "9_theo_1.wav", "6_theo_20.wav", "8_yweweler_13.wav"]


def test_eval_clips_scores_exactly_what_detect_reports(tmp_path):
    folder, padded = tmp_path / "clips", tmp_path / "padded"
    folder.mkdir()
    padded.mkdir()
    for name in CLIPS:
        audio, rate = sf.read(FSDD / name, dtype="float32")
        sf.write(folder / name, audio, rate)
        sf.write(padded / name, pad(audio, rate, 0.5), rate)

    result = run_spotter(
        "eval", "clips", str(folder), "--pad", "0.5", "--out", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads((tmp_path / "out" / "report.json").read_text())

    detected = run_spotter("detect", *[str(padded / name) for name in CLIPS])
    events = [json.loads(line) for line in detected.stdout.decode().splitlines()]
    top = {}
    for e in events:
        name = e["source"].rsplit("/", 1)[-1]
        if name not in top or e["score"] > top[name]["score"]:
            top[name] = e
    right = sum(1 for name in CLIPS if name in top and top[name]["digit"] == int(name[0]))
    assert report["clips"] == len(CLIPS)
    assert report["accuracy"] == round(right / len(CLIPS), 4)
    assert report["exactly_one_event"] == round(
        sum(1 for n in CLIPS if sum(e["source"].endswith(n) for e in events) == 1) / len(CLIPS), 4
    )
    assert np.asarray(report["confusion"]).sum() == len(CLIPS)
    assert set(report["per_speaker"]) == {"theo", "yweweler"}
    assert "accuracy" in result.stdout.decode()
    assert (tmp_path / "out" / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_clips_reads_a_csv_manifest(tmp_path):
    audio, rate = sf.read(FSDD / "3_theo_0.wav", dtype="float32")
    sf.write(tmp_path / "take.flac", audio, rate)
    (tmp_path / "list.csv").write_text("path,label,speaker\ntake.flac,3,ann\n")
    result = run_spotter("eval", "clips", str(tmp_path / "list.csv"), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["clips"] == 1 and list(report["per_speaker"]) == ["ann"]


def test_a_bad_manifest_is_a_one_line_error(tmp_path):
    (tmp_path / "list.csv").write_text("file,digit\nx.wav,3\n")
    result = run_spotter("eval", "clips", str(tmp_path / "list.csv"), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    (line,) = result.stderr.decode().strip().splitlines()
    assert line.startswith("spotter: error: ") and "path,label,speaker" in line


def test_stream_ground_truth_marks_where_each_digit_was_placed():
    rng = np.random.default_rng(0)
    word = np.sin(np.arange(4000) * 0.2).astype(np.float32) * 0.5
    clip = np.concatenate([np.zeros(800, np.float32), word, np.zeros(800, np.float32)])
    other = np.full(3000, 0.25, np.float32)
    cfg = StreamConfig(seconds=20, snr_db=(200.0, 200.0))
    audio, words, sentences = build_stream(
        [(clip, 3)], [other], [np.ones(100, np.float32)], cfg, rng
    )
    assert len(words) > 3 and all(w.digit == 3 for w in words)
    assert len(sentences) > 1 and all(s.index == 0 for s in sentences)
    for s in sentences:
        start, end = round(s.start * 16000), round(s.end * 16000)
        assert end - start == 3000 and np.allclose(audio[start:end], 0.25, atol=1e-4)
    for w in words:
        start, end = round(w.start * 16000), round(w.end * 16000)
        assert np.allclose(audio[start : start + 160], word[:160], atol=1e-4)
        assert end - start == 4000
    spans = np.zeros(len(audio), bool)
    for w in words:
        spans[round(w.start * 16000) : round(w.end * 16000)] = True
    assert np.isclose(np.abs(audio[~spans]).max(), 0.25, atol=1e-4)  # only the other speech


def test_the_digits_of_a_string_are_as_close_as_its_gaps_say_whatever_silence_a_clip_holds():
    rng = np.random.default_rng(0)
    word = np.sin(np.arange(4000) * 0.2).astype(np.float32) * 0.5
    padded = np.concatenate([np.zeros(4000, np.float32), word, np.zeros(4000, np.float32)])
    cfg = StreamConfig(seconds=20, digits_p=1.0, string_lengths=(4,), string_gap_s=(0.0, 0.0))
    _, words, _ = build_stream([(padded, 3)], [padded], [np.ones(100, np.float32)], cfg, rng)
    strings = [words[i : i + 4] for i in range(0, len(words) - 3, 4)]
    assert strings
    for string in strings:
        pauses = [b.start - a.end for a, b in pairwise(string)]
        assert all(0.0 < pause <= 0.1 + 1e-6 for pause in pauses)  # two 0.05 s margins


def test_threshold_sweep_gives_what_feeding_the_spotter_gives(heldout_sequence):
    path, _ = heldout_sequence
    spotter = Spotter.load()
    audio = read_whole(path)
    for threshold in (0.5, 0.8):
        fed = Spotter.load(threshold=threshold)
        expected = fed.feed(audio, 16000) + fed.flush()
        swept = detect_at(spotter, posteriors_of(spotter, audio), threshold)
        assert [(e.digit, e.time, e.end) for e in swept] == [
            (e.digit, e.time, e.end) for e in expected
        ]
        assert expected


def clip_folder(tmp_path: Path) -> Path:
    """CLIPS copied into a folder of their own, for `spotter eval streams`."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in CLIPS:
        sf.write(folder / name, *sf.read(FSDD / name, dtype="float32"))
    return folder


def test_eval_streams_is_reproducible_for_a_seed(tmp_path):
    folder = clip_folder(tmp_path)
    reports = []
    for run, seed in enumerate((7, 7, 8)):
        out = tmp_path / f"run{run}"
        result = run_spotter(
            "eval",
            "streams",
            str(folder),
            "--streams",
            "1",
            "--seconds",
            "20",
            "--seed",
            str(seed),
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr.decode()
        reports.append(json.loads((out / "report.json").read_text()))
        assert (out / "det.png").read_bytes()[:4] == b"\x89PNG"
    assert reports[0] == reports[1]
    assert reports[0]["words"] > 0
    thresholds = [row["threshold"] for row in reports[0]["sweep"]]
    assert min(thresholds) <= reports[0]["threshold"] / 2 and max(thresholds) == 0.99
    assert reports[0]["config"]["seed"] == 7
    assert reports[0] != reports[2]


def test_eval_streams_string_gap_sets_how_fast_the_digits_come(tmp_path):
    common = (
        "eval",
        "streams",
        str(clip_folder(tmp_path)),
        "--streams",
        "1",
        "--seconds",
        "30",
        "--digits-share",
        "1",
    )
    result = run_spotter(*common, "--string-gap", "0", "0.02", "--out", str(tmp_path / "fast"))
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads((tmp_path / "fast" / "report.json").read_text())
    assert report["config"]["string_gap_s"] == [0.0, 0.02]
    assert report["recall_by_pause"]["<0.1 s"]["words"] > 0
    assert sum(row["words"] for row in report["recall_by_pause"].values()) == report["words"]
    result = run_spotter(*common, "--string-gap", "0.3", "0.1", "--out", str(tmp_path / "bad"))
    assert result.returncode == 2
    (line,) = result.stderr.decode().strip().splitlines()
    assert line.startswith("spotter: error: --string-gap")


def test_a_stream_set_to_a_level_is_the_same_stream_with_its_digits_median_peak_there():
    rng = np.random.default_rng(3)
    clips = [(read_whole(FSDD / name), 0) for name in ("0_theo_7.wav", "0_yweweler_2.wav")]
    cfg = StreamConfig(seconds=20, digits_p=1.0)
    audio, words, _ = build_stream(clips, [], [np.ones(100, np.float32)], cfg, rng)
    quiet = set_level(audio, words, -50.0)

    def median_peak(stream: np.ndarray) -> float:
        spans = [stream[round(w.start * 16000) : round(w.end * 16000)] for w in words]
        return float(np.median([np.abs(span).max() for span in spans]))

    assert len(words) > 3 and median_peak(quiet) == pytest.approx(10 ** (-50 / 20), rel=1e-3)
    assert np.allclose(quiet, audio * median_peak(quiet) / median_peak(audio), atol=1e-7)


def test_eval_streams_level_scales_the_same_streams(tmp_path):
    common = ("eval", "streams", str(clip_folder(tmp_path)), "--streams", "1", "--seconds", "30")
    reports = []
    for name, more in [("own", ()), ("faint", ("--level", "-90", "-90"))]:
        result = run_spotter(*common, *more, "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr.decode()
        reports.append(json.loads((tmp_path / name / "report.json").read_text()))
    own, faint = reports
    assert faint["config"]["level_dbfs"] == [-90.0, -90.0] and own["config"]["level_dbfs"] is None
    assert faint["words"] == own["words"] > 0  # the same digits in the same places
    assert faint["recall"] < own["recall"]  # a digit at -90 dBFS is too faint to hear
    result = run_spotter(*common, "--level", "-20", "-40", "--out", str(tmp_path / "bad"))
    assert result.returncode == 2
    (line,) = result.stderr.decode().strip().splitlines()
    assert line.startswith("spotter: error: --level")


def test_eval_streams_names_the_recordings_that_fire(tmp_path):
    """A spoken "seven" among the ordinary speech: its false alarms are traced to that file."""
    digit = LabelledClip(FSDD / "0_theo_7.wav", 0, "theo")
    seven = tmp_path / "sounds-like-seven.wav"
    sf.write(seven, read_whole(FSDD / "7_theo_1.wav"), 16000)
    cfg = StreamConfig(streams=1, seconds=30.0, seed=2, digits_p=0.3, snr_db=(30.0, 30.0))
    report = evaluate_streams(Spotter.load(), [digit], [seven], None, cfg)
    assert report["false_alarms"] > 0
    top = report["false_alarm_sources"][0]
    assert top["negative"] == seven.name and top["word"] == "seven"
    assert sum(r["false_alarms"] for r in report["false_alarm_sources"]) == report["false_alarms"]
    assert report["false_alarm_recordings"] == 1  # however often it fired
    assert all(row["false_alarm_recordings"] <= 1 for row in report["sweep"])
