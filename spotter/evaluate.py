"""`spotter eval`: run labelled audio through exactly the engine and detector that `detect` uses
and score it (rules in ``spotter.scoring``).

- clips: isolated digits from a folder in FSDD naming (``{digit}_{speaker}_{take}.wav``) or a
  CSV manifest with the columns ``path,label,speaker`` (paths relative to the manifest), each
  padded with silence.
- streams: seeded continuous streams of digit strings from those clips and ordinary sentences
  (espeak-ng, or a folder of recordings) with pauses, over background noise at a random SNR;
  the engine runs once per stream and the detector once per threshold of the sweep.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from spotter.api import END_OF_STREAM_S, Spotter
from spotter.detector import Detector, DetectorConfig
from spotter.errors import SpotterError
from spotter.events import Event
from spotter.resample import SAMPLE_RATE
from spotter.scoring import (
    ClipResult,
    Sentence,
    StreamScore,
    Word,
    false_alarm_sources,
    recordings_that_fired,
    score_clips,
    score_stream,
    trim_to_word,
)
from spotter.sentences import TEST_SENTENCES
from spotter.sources import load_noises, read_whole

DETECT_BLOCK = 16  # hops
FSDD_NAME = re.compile(r"^(\d)_([^_]+)_([^_]+)\.(wav|flac|ogg)$", re.IGNORECASE)


@dataclass(frozen=True)
class LabelledClip:
    path: Path
    digit: int
    speaker: str
    take: str = ""


def find_clips(source: Path, speakers: tuple[str, ...] = ()) -> list[LabelledClip]:
    """Labelled clips from a folder in FSDD naming or from a CSV manifest; only ``speakers``
    when given."""
    if source.is_dir():
        clips = [
            LabelledClip(path, int(m[1]), m[2], m[3])
            for path in sorted(source.iterdir())
            if (m := FSDD_NAME.match(path.name))
        ]
    elif source.suffix.lower() == ".csv" and source.is_file():
        clips = read_manifest(source)
    else:
        raise SpotterError(f"{source}: not a folder of labelled clips nor a .csv manifest")
    if speakers:
        clips = [c for c in clips if c.speaker in speakers]
    if not clips:
        raise SpotterError(
            f"{source}: no clips named {{digit}}_{{speaker}}_{{take}}.wav"
            + (f" of speakers {', '.join(speakers)}" if speakers else "")
        )
    return clips


def read_manifest(manifest: Path) -> list[LabelledClip]:
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    clips = []
    for line, row in enumerate(rows, start=2):
        try:
            digit = int(row["label"])
            if not 0 <= digit <= 9:
                raise ValueError(digit)
            clips.append(LabelledClip(manifest.parent / row["path"], digit, row["speaker"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SpotterError(
                f"{manifest}:{line}: expected columns path,label,speaker with a label 0-9 ({exc})"
            ) from None
    return clips


def evaluate_clips(
    spotter: Spotter,
    clips: list[LabelledClip],
    pad_s: float = 0.5,
    warn: Callable[[str], object] = print,
) -> tuple[dict, list[ClipResult]]:
    """Score every clip; an unreadable clip is reported through ``warn`` and counted, not fatal."""
    results, unreadable = [], []
    for clip in clips:
        try:
            events = list(spotter.stream_file(clip.path, pad_s))
        except SpotterError as exc:
            warn(f"{clip.path}: {exc}")
            unreadable.append(str(clip.path))
            continue
        results.append(ClipResult(str(clip.path), clip.digit, clip.speaker, events))
    if not results:
        raise SpotterError("no clip could be read")
    report = {"mode": "clips", "pad_s": pad_s, **score_clips(results), "unreadable": unreadable}
    return report, results


def clips_table(report: dict) -> str:
    """A short human summary of a clips report."""
    latency = report["latency_s"]
    lines = [
        f"clips {report['clips']}  accuracy {percent(report['accuracy'])}  "
        f"exactly one event {percent(report['exactly_one_event'])}  "
        f"no event {percent(report['no_event'])}  several {percent(report['several_events'])}",
        f"latency (time - end) median {latency['median']} s  p90 {latency['p90']} s  "
        f"max {latency['max']} s",
        "per digit:   " + "  ".join(f"{d}:{percent(a)}" for d, a in report["per_digit"].items()),
        speakers_line(report["per_speaker"]),
    ]
    if report["unreadable"]:
        lines.append(f"unreadable clips: {len(report['unreadable'])}")
    return "\n".join(lines)


def speakers_line(per_speaker: dict[str, float], most: int = 12) -> str:
    """Every speaker's accuracy, or only the ``most`` lowest when there are more."""
    shown = sorted(per_speaker.items(), key=lambda item: item[1])[:most]
    if len(per_speaker) <= most:
        shown, title = list(per_speaker.items()), "per speaker: "
    else:
        title = f"lowest {most} of {len(per_speaker)} speakers: "
    return title + "  ".join(f"{s}:{percent(a)}" for s, a in shown)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


# --- continuous streams -------------------------------------------------------------------

NEGATIVE_VOICES = (
    "en-us",
    "en-gb+f3",
    "en-us+m7",
    "en-gb-scotland+f2",
    "en-029+m1",
)  # none trained on


@dataclass(frozen=True)
class StreamConfig:
    streams: int = 4
    seconds: float = 150.0  # per stream
    seed: int = 0
    gap_s: tuple[float, float] = (0.3, 2.0)  # between utterances
    string_gap_s: tuple[float, float] = (0.05, 0.3)  # between the digits of a digit string
    digits_p: float = 0.55  # otherwise the next utterance is ordinary speech
    string_lengths: tuple[int, ...] = (1, 1, 1, 2, 3, 4)
    snr_db: tuple[float, float] = (5.0, 30.0)
    tolerance_s: float = 0.5
    # Each stream scaled so that its digits' median peak lies at a level drawn from this range
    # (dBFS), as a quiet talker or a low microphone gain would leave it; None keeps the clips' own.
    level_dbfs: tuple[float, float] | None = None


def synthesise_negatives(folder: Path) -> list[Path]:
    """The test sentences spoken by espeak-ng voices into ``folder`` (deterministic)."""
    if shutil.which("espeak-ng") is None:
        raise SpotterError("streams need espeak-ng for non-digit speech (or pass --negatives)")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, sentence in enumerate(TEST_SENTENCES):
        voice = NEGATIVE_VOICES[i % len(NEGATIVE_VOICES)]
        path = folder / f"negative_{i:03d}.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "160", "-w", str(path), sentence],
            check=True,
            capture_output=True,
            timeout=30,
        )
        paths.append(path)
    return paths


def build_stream(
    digits: list[tuple[np.ndarray, int]],
    negatives: list[np.ndarray],
    noises: list[np.ndarray],
    cfg: StreamConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[Word], list[Sentence]]:
    """One seeded stream: digit strings and ordinary sentences with pauses, over noise; the
    digits and the sentences it holds, where."""
    pieces, words, sentences, position = [], [], [], 0
    speech_levels = []

    def add(audio: np.ndarray) -> None:
        nonlocal position
        pieces.append(audio)
        position += len(audio)

    while position < cfg.seconds * SAMPLE_RATE:
        add(np.zeros(int(rng.uniform(*cfg.gap_s) * SAMPLE_RATE), np.float32))
        if rng.random() < cfg.digits_p:
            for k in range(int(rng.choice(cfg.string_lengths))):
                if k:
                    add(np.zeros(int(rng.uniform(*cfg.string_gap_s) * SAMPLE_RATE), np.float32))
                audio, digit = digits[rng.integers(len(digits))]
                audio, start, end = trim_to_word(audio)
                words.append(
                    Word(digit, (position + start) / SAMPLE_RATE, (position + end) / SAMPLE_RATE)
                )
                speech_levels.append(np.sqrt(np.mean(audio[start:end] ** 2)))
                add(audio)
        else:
            index = int(rng.integers(len(negatives)))
            end = position + len(negatives[index])
            sentences.append(Sentence(index, position / SAMPLE_RATE, end / SAMPLE_RATE))
            add(negatives[index])
    speech = np.concatenate(pieces)
    level = float(np.median(speech_levels)) if speech_levels else 0.05
    noise = noises[rng.integers(len(noises))]
    offset = rng.integers(len(noise))
    bed = np.resize(np.roll(noise, -offset), len(speech))
    snr = rng.uniform(*cfg.snr_db)
    mixed = np.clip(speech + bed * level / 10 ** (snr / 20), -1, 1).astype(np.float32)
    return mixed, words, sentences


def set_level(audio: np.ndarray, words: list[Word], level_dbfs: float) -> np.ndarray:
    """The stream (n,) scaled so that the median of its digits' peaks is ``level_dbfs``."""
    peaks = [
        np.abs(audio[int(w.start * SAMPLE_RATE) : int(w.end * SAMPLE_RATE)]).max() for w in words
    ]
    gain = 10 ** (level_dbfs / 20) / max(float(np.median(peaks)), 1e-9) if peaks else 1.0
    return np.clip(audio * gain, -1, 1).astype(np.float32)


def posteriors_of(spotter: Spotter, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The engine's frames for a whole 16 kHz stream, with the end-of-stream silence that
    ``flush()`` adds: what ``feed`` + ``flush`` would see, computed once for every threshold."""
    spotter.reset()
    tail = np.zeros(int(END_OF_STREAM_S * SAMPLE_RATE), np.float32)
    return spotter.engine.process(np.concatenate([audio, tail]))


def detect_at(spotter: Spotter, frames: tuple[np.ndarray, np.ndarray], threshold: float) -> list:
    """The events ``spotter`` would emit for these frames with another threshold."""
    return detect_with(spotter, frames, spotter.detector.cfg.at_threshold(threshold))


def detect_with(
    spotter: Spotter, frames: tuple[np.ndarray, np.ndarray], cfg: DetectorConfig
) -> list:
    """The events ``spotter`` would emit for these frames with detector settings ``cfg``.

    Fed in blocks of a few hops, as audio arrives, so that the detector skips quiet blocks."""
    detector = Detector(len(spotter.info.labels), spotter.info.digit_classes, cfg)
    posteriors, energy = frames
    found = []
    for i in range(0, len(energy), DETECT_BLOCK):
        found += detector.process(posteriors[i : i + DETECT_BLOCK], energy[i : i + DETECT_BLOCK])
    return [spotter.to_event(d) for d in found + detector.flush()]


def padded_clip(
    spotter: Spotter, audio: np.ndarray, pad_s: float = 0.5
) -> tuple[tuple[np.ndarray, np.ndarray], Event | None]:
    """A clip (n,) at 16 kHz between ``pad_s`` of silence, as ``spotter eval clips`` plays it:
    the engine's frames and the highest-score event of the spotter's detector (None if none)."""
    pad = np.zeros(int(pad_s * SAMPLE_RATE), np.float32)
    frames = posteriors_of(spotter, np.concatenate([pad, audio, pad]))
    events = detect_with(spotter, frames, spotter.detector.cfg)
    return frames, max(events, key=lambda e: e.score) if events else None


def stream_frames(
    spotter: Spotter,
    clips: list[LabelledClip],
    negatives: list[Path],
    noise: Path | None,
    cfg: StreamConfig,
) -> list[tuple[tuple[np.ndarray, np.ndarray], list[Word], list[Sentence], float]]:
    """Build ``cfg.streams`` seeded streams and run the engine over each once:
    [(frames, digits spoken, sentences spoken, seconds of audio), ...]."""
    rng = np.random.default_rng(cfg.seed)
    level_rng = np.random.default_rng([cfg.seed, 1])  # the same streams with or without levels
    digits = [(read_whole(c.path), c.digit) for c in clips]
    others = [read_whole(path) for path in negatives]
    noises = load_noises(noise)
    runs = []
    for _ in range(cfg.streams):
        audio, words, sentences = build_stream(digits, others, noises, cfg, rng)
        if cfg.level_dbfs is not None:
            audio = set_level(audio, words, level_rng.uniform(*cfg.level_dbfs))
        runs.append((posteriors_of(spotter, audio), words, sentences, len(audio) / SAMPLE_RATE))
    return runs


def non_digit_seconds(runs: list[tuple]) -> float:
    return sum(seconds - sum(w.end - w.start for w in words) for _, words, _, seconds in runs)


def stream_scores(
    spotter: Spotter, runs: list[tuple], cfg: DetectorConfig, tolerance_s: float
) -> list[StreamScore]:
    """Each stream's score with detector settings ``cfg``."""
    return [
        score_stream(words, detect_with(spotter, frames, cfg), tolerance_s)
        for frames, words, *_ in runs
    ]


def traced_false_alarms(
    scores: list[StreamScore], runs: list[tuple], tolerance_s: float
) -> Counter[tuple[int | None, str]]:
    """(negative recording index, word fired) → false alarms, over all streams."""
    sources: Counter[tuple[int | None, str]] = Counter()
    for score, (_, _, sentences, _) in zip(scores, runs, strict=True):
        sources += false_alarm_sources(score.false_alarm_events, sentences, tolerance_s)
    return sources


def summarise(
    scores: list[StreamScore], runs: list[tuple], sources: Counter[tuple[int | None, str]]
) -> dict:
    """The streams' totals; ``sources`` is ``traced_false_alarms`` of the same scores."""
    total = StreamScore()
    for score in scores:
        total.add(score)
    return {
        **total.summary(non_digit_seconds(runs)),
        "false_alarm_recordings": recordings_that_fired(sources),
    }


def score_runs(spotter: Spotter, runs: list[tuple], cfg: DetectorConfig, tolerance_s: float):
    scores = stream_scores(spotter, runs, cfg, tolerance_s)
    return summarise(scores, runs, traced_false_alarms(scores, runs, tolerance_s))


def evaluate_streams(
    spotter: Spotter,
    clips: list[LabelledClip],
    negatives: list[Path],
    noise: Path | None,
    cfg: StreamConfig = StreamConfig(),
    thresholds: tuple[float, ...] = (),
) -> dict:
    """Score seeded streams at the model's settings and sweep ``thresholds`` (DET table)."""
    runs = stream_frames(spotter, clips, negatives, noise, cfg)
    model_cfg = spotter.detector.cfg
    at_model = stream_scores(spotter, runs, model_cfg, cfg.tolerance_s)
    rows = {
        t: score_runs(spotter, runs, model_cfg.at_threshold(t), cfg.tolerance_s)
        for t in sorted(set(thresholds) - {model_cfg.threshold})
    }
    sources = traced_false_alarms(at_model, runs, cfg.tolerance_s)
    rows[model_cfg.threshold] = summarise(at_model, runs, sources)
    names = relative_names(negatives)
    return {
        "mode": "streams",
        "config": {**asdict(cfg), "clips": len(clips), "negatives": len(negatives)},
        "audio_seconds": round(sum(seconds for *_, seconds in runs), 1),
        "threshold": model_cfg.threshold,
        **rows[model_cfg.threshold],
        "false_alarm_sources": [
            {
                "negative": None if index is None else names[index],
                "word": word,
                "false_alarms": count,
            }
            for (index, word), count in sources.most_common()
        ],
        "sweep": [{"threshold": t, **rows[t]} for t in sorted(rows)],
    }


def relative_names(paths: list[Path]) -> list[str]:
    """Paths relative to the folder they share (stable when it is a temporary one)."""
    if not paths:
        return []
    root = Path(os.path.commonpath(paths)) if len(paths) > 1 else paths[0].parent
    return [str(path.relative_to(root)) for path in paths]


def streams_table(report: dict) -> str:
    latency = report["latency_s"]
    lines = [
        f"{report['audio_seconds'] / 60:.1f} min of streams, {report['words']} digits spoken, "
        f"threshold {report['threshold']}",
        f"recall {percent(report['recall'])}  substitutions {percent(report['substitution_rate'])}"
        f"  misses {percent(report['miss_rate'])}  precision {percent(report['precision'])}",
        f"false alarms {report['false_alarms']} ({report['false_alarms_per_hour']} per hour of "
        f"non-digit audio; {report['duplicates']} of them duplicates)",
        f"latency (time - end) median {latency['median']} s  p90 {latency['p90']} s  "
        f"max {latency['max']} s",
        "recall by pause to the nearer digit: "
        + "  ".join(
            f"{name} {percent(row['recall'])} ({row['words']})"
            for name, row in report["recall_by_pause"].items()
        ),
    ]
    if report["false_alarm_sources"]:
        lines.append("false alarms by what was playing (the 8 most):")
    lines += [
        f"  {row['false_alarms']} x {row['word']} under "
        + (row["negative"] or "no sentence (noise, digit strings)")
        for row in report["false_alarm_sources"][:8]
    ]
    lines += ["threshold  recall  FA/hour"]
    lines += [
        f"{row['threshold']:9.2f}  {percent(row['recall']):>6}  {row['false_alarms_per_hour']}"
        for row in report["sweep"]
    ]
    return "\n".join(lines)
