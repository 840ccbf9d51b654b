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
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from spotter.api import END_OF_STREAM_S, Spotter
from spotter.detector import Detector, DetectorConfig
from spotter.errors import SpotterError
from spotter.resample import SAMPLE_RATE
from spotter.scoring import ClipResult, StreamScore, Word, score_clips, score_stream, word_bounds
from spotter.sources import load_noises, read_whole

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
        "per speaker: " + "  ".join(f"{s}:{percent(a)}" for s, a in report["per_speaker"].items()),
    ]
    if report["unreadable"]:
        lines.append(f"unreadable clips: {len(report['unreadable'])}")
    return "\n".join(lines)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


# --- continuous streams -------------------------------------------------------------------

# Ordinary speech with no digit word and none of the homophones ("oh", "to", "too", "for",
# "ate", "won", "tree") whose policy is not settled yet.
SENTENCES = (
    "hello there",
    "good morning",
    "please call me back later",
    "the weather is nice today",
    "open the door",
    "what is your name",
    "thank you very much",
    "turn on the lights",
    "how are you doing",
    "see you tomorrow",
    "my name is alice",
    "where is the station",
    "the quick brown fox jumps over the lazy dog",
    "can you hear me",
    "let us meet at noon",
    "I would like a cup of coffee",
    "the meeting has been moved",
    "please hold the line",
    "press the green button",
    "that sounds good",
    "never mind",
    "yes",
    "no",
    "maybe",
    "cancel",
    "repeat",
    "help",
    "start again",
    "go back",
    "main menu",
    "operator",
    "speak slowly please",
    "I am not sure",
    "it is raining again",
    "welcome home",
)
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


def synthesise_negatives(folder: Path) -> list[Path]:
    """Ordinary sentences spoken by espeak-ng voices into ``folder`` (deterministic)."""
    if shutil.which("espeak-ng") is None:
        raise SpotterError("streams need espeak-ng for non-digit speech (or pass --negatives)")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, sentence in enumerate(SENTENCES):
        voice = NEGATIVE_VOICES[i % len(NEGATIVE_VOICES)]
        path = folder / f"negative_{i:02d}.wav"
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
) -> tuple[np.ndarray, list[Word]]:
    """One seeded stream: digit strings and ordinary sentences with pauses, over noise."""
    pieces, words, position = [], [], 0
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
                start, end = word_bounds(audio)
                words.append(
                    Word(digit, (position + start) / SAMPLE_RATE, (position + end) / SAMPLE_RATE)
                )
                speech_levels.append(np.sqrt(np.mean(audio[start:end] ** 2)))
                add(audio)
        else:
            add(negatives[rng.integers(len(negatives))])
    speech = np.concatenate(pieces)
    level = float(np.median(speech_levels)) if speech_levels else 0.05
    noise = noises[rng.integers(len(noises))]
    offset = rng.integers(len(noise))
    bed = np.resize(np.roll(noise, -offset), len(speech))
    snr = rng.uniform(*cfg.snr_db)
    return np.clip(speech + bed * level / 10 ** (snr / 20), -1, 1).astype(np.float32), words


def posteriors_of(spotter: Spotter, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The engine's frames for a whole 16 kHz stream, with the end-of-stream silence that
    ``flush()`` adds: what ``feed`` + ``flush`` would see, computed once for every threshold."""
    spotter.reset()
    tail = np.zeros(int(END_OF_STREAM_S * SAMPLE_RATE), np.float32)
    return spotter.engine.process(np.concatenate([audio, tail]))


def detect_at(spotter: Spotter, frames: tuple[np.ndarray, np.ndarray], threshold: float) -> list:
    """The events ``spotter`` would emit for these frames with another threshold."""
    settings = asdict(spotter.detector.cfg)
    settings.update(threshold=threshold, release=min(settings["release"], threshold))
    detector = Detector(
        len(spotter.info.labels), spotter.info.digit_classes, DetectorConfig(**settings)
    )
    found = detector.process(*frames) + detector.flush()
    return [spotter.to_event(d) for d in found]


def evaluate_streams(
    spotter: Spotter,
    clips: list[LabelledClip],
    negatives: list[Path],
    noise: Path | None,
    cfg: StreamConfig = StreamConfig(),
    thresholds: tuple[float, ...] = (),
) -> dict:
    """Score seeded streams at the model's threshold and sweep ``thresholds`` (DET table)."""
    rng = np.random.default_rng(cfg.seed)
    digits = [(read_whole(c.path), c.digit) for c in clips]
    others = [read_whole(path) for path in negatives]
    noises = load_noises(noise)
    default = spotter.detector.cfg.threshold
    sweep = sorted({*thresholds, default})
    totals = {t: StreamScore() for t in sweep}
    seconds = non_digit = 0.0
    for _ in range(cfg.streams):
        audio, words = build_stream(digits, others, noises, cfg, rng)
        seconds += len(audio) / SAMPLE_RATE
        non_digit += len(audio) / SAMPLE_RATE - sum(w.end - w.start for w in words)
        frames = posteriors_of(spotter, audio)
        for t in sweep:
            totals[t].add(score_stream(words, detect_at(spotter, frames, t), cfg.tolerance_s))
    return {
        "mode": "streams",
        "config": {**asdict(cfg), "clips": len(clips), "negatives": len(negatives)},
        "audio_seconds": round(seconds, 1),
        "threshold": default,
        **totals[default].summary(non_digit),
        "sweep": [{"threshold": t, **totals[t].summary(non_digit)} for t in sweep],
    }


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
        "threshold  recall  FA/hour",
    ]
    lines += [
        f"{row['threshold']:9.2f}  {percent(row['recall']):>6}  {row['false_alarms_per_hour']}"
        for row in report["sweep"]
    ]
    return "\n".join(lines)
