"""`spotter eval`: run labelled audio through exactly the engine and detector that `detect` uses
and score it (rules in ``spotter.scoring``).

Isolated clips come from a folder in FSDD naming (``{digit}_{speaker}_{take}.wav``) or a CSV
manifest with the columns ``path,label,speaker`` (paths relative to the manifest).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spotter.api import Spotter
from spotter.errors import SpotterError
from spotter.scoring import ClipResult, score_clips

FSDD_NAME = re.compile(r"^(\d)_([^_]+)_([^_]+)\.(wav|flac|ogg)$", re.IGNORECASE)


@dataclass(frozen=True)
class LabelledClip:
    path: Path
    digit: int
    speaker: str


def find_clips(source: Path) -> list[LabelledClip]:
    """Labelled clips from a folder in FSDD naming or from a CSV manifest."""
    if source.is_dir():
        clips = [
            LabelledClip(path, int(m[1]), m[2])
            for path in sorted(source.iterdir())
            if (m := FSDD_NAME.match(path.name))
        ]
        if not clips:
            raise SpotterError(f"{source}: no clips named {{digit}}_{{speaker}}_{{take}}.wav")
        return clips
    if source.suffix.lower() == ".csv" and source.is_file():
        return read_manifest(source)
    raise SpotterError(f"{source}: not a folder of labelled clips nor a .csv manifest")


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
    if not clips:
        raise SpotterError(f"{manifest}: no rows")
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
