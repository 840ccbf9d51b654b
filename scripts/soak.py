"""Soak: an hour of audio through `spotter detect` and through the library, with RSS at start
and end and every event checked against where its digit really is in the audio.

The stream is held-out FSDD digits, one every ``--every`` seconds on digital silence, each
starting on a 10 ms hop boundary. After a pause longer than the model's receptive field the
model and detector are in the same state every time, so each digit must give exactly the event
it gives alone, shifted by its position: any drift of the clock, lost or repeated audio shows
as a mismatch.

Usage: .venv/bin/python scripts/soak.py [--minutes 60] [--every 3] [--out runs/soak]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from spotter.api import Spotter
from spotter.errors import run_script
from spotter.sources import read_file, read_whole

RATE, HOP = 16000, 160
FSDD = Path(__file__).resolve().parents[2] / "shared/data/fsdd/recordings"
CANDIDATES = [f"{d}_{s}_{t}.wav" for d in range(10) for s in ("theo", "yweweler") for t in (1, 2)]


@dataclass
class Word:
    digit: int
    audio: np.ndarray  # int16, exactly as the soak file holds it
    end: float  # the event it gives alone, relative to where it starts
    time: float


def usable_words(spotter: Spotter, lead_s: float = 1.0) -> list[Word]:
    """The candidate clips that give exactly their own digit when heard alone."""
    words = []
    for name in CANDIDATES:
        clip = np.round(read_whole(FSDD / name) * 32767).astype(np.int16)
        silence = np.zeros(int(lead_s * RATE), np.int16)
        spotter.reset()
        stream = np.concatenate([silence, clip, silence])
        alone = [e for i in range(0, len(stream), HOP) for e in spotter.feed(stream[i : i + HOP])]
        alone += spotter.flush()
        if len(alone) == 1 and alone[0].digit == int(name[0]):
            words.append(Word(int(name[0]), clip, alone[0].end - lead_s, alone[0].time - lead_s))
    if not words:
        raise SystemExit("soak: the model hears none of the candidate clips")
    return words


def build(path: Path, minutes: float, every_s: float) -> list[tuple[int, float, float]]:
    """Write the soak WAV; return the events it must give, in order: (digit, end, time)."""
    words = usable_words(Spotter.load())
    every = int(every_s * RATE) // HOP * HOP
    expected = []
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16") as out:
        for k in range(int(minutes * 60 * RATE) // every):
            word = words[k % len(words)]
            block = np.zeros(every, np.int16)
            clip = word.audio[: every - RATE]  # at least 1 s of silence after each digit
            block[: len(clip)] = clip
            out.write(block)
            start = k * every / RATE
            expected.append((word.digit, round(start + word.end, 3), round(start + word.time, 3)))
    return expected


class Check:
    """Ticks off each event against the expected ones as it comes, keeping nothing else (so the
    check itself does not grow the memory being measured)."""

    def __init__(self, expected: list[tuple[int, float, float]]) -> None:
        self.missing = set(expected)
        self.events = self.extra = 0

    def see(self, event: dict) -> None:
        self.events += 1
        key = (event["digit"], event["end"], event["time"])
        if key in self.missing:
            self.missing.remove(key)
        else:
            self.extra += 1

    def result(self) -> dict:
        """Events seen, and mismatches: expected events missing plus events not expected."""
        return {"events": self.events, "mismatches": len(self.missing) + self.extra}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise OSError(f"no VmRSS for process {pid}")


def soak_detect(path: Path, check: Check) -> dict:
    """`spotter detect` in a child process; its RSS sampled every 0.5 s."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "spotter", "detect", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: list[float] = []

    def sample() -> None:
        while proc.poll() is None:
            try:
                samples.append(rss_mb(proc.pid))
            except OSError:
                break
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    started = time.monotonic()
    sampler.start()
    for line in proc.stdout:
        check.see(json.loads(line))
    proc.wait()
    sampler.join()
    loaded = samples[2:] or samples  # from 1 s in: the model is loaded
    return {
        **check.result(),
        "exit_code": proc.returncode,
        "wall_s": round(time.monotonic() - started, 1),
        **rss_summary(loaded),
    }


def rss_summary(samples: list[float]) -> dict:
    """Start, end and peak RSS, and eleven samples evenly spread over the run."""
    spread = [samples[round(i * (len(samples) - 1) / 10)] for i in range(11)]
    return {
        "rss_mb_start": round(samples[0], 1),
        "rss_mb_end": round(samples[-1], 1),
        "rss_mb_max": round(max(samples), 1),
        "rss_mb_over_the_run": [round(x, 1) for x in spread],
    }


def soak_library(path: Path, check: Check, chunk: int = 160) -> dict:
    """The library in this process, fed ``chunk`` samples at a time (a microphone's 10 ms)."""
    spotter = Spotter.load()
    rss = []
    started = time.monotonic()
    for block, rate in read_file(path, block_s=10.0):
        for i in range(0, len(block), chunk):
            for event in spotter.feed(block[i : i + chunk], rate):
                check.see(event.to_dict())
        rss.append(rss_mb(os.getpid()))
    for event in spotter.flush():
        check.see(event.to_dict())
    return {
        **check.result(),
        "wall_s": round(time.monotonic() - started, 1),
        **rss_summary(rss),
        "chunk_samples": chunk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between digits")
    parser.add_argument("--out", type=Path, default=Path("runs/soak"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"soak-{args.minutes:g}min.wav"
    expected = build(path, args.minutes, args.every)
    report = {"audio_s": args.minutes * 60, "digits": len(expected)}
    for name, run in (("detect", soak_detect), ("library", soak_library)):
        report[name] = run(path, Check(expected))
        print(name, json.dumps(report[name]), flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    path.unlink()


if __name__ == "__main__":
    run_script(main)
