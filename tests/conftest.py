"""Shared fixtures: spoken digits made with espeak-ng, a tiny model trained on them through
`spotter train`, and real held-out FSDD clips for end-to-end checks of the shipped model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from spotter.events import WORDS

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPOTTER_SHARED", REPO.parent / "shared"))
FSDD = SHARED / "data" / "fsdd" / "recordings"
VOICES = {"alpha": "en-us+m3", "bravo": "en-gb+m1", "charlie": "en-us+f2"}


def run_spotter(
    *args: str, stdin: bytes | None = None, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the CLI as a user would, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "spotter", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def fsdd_clip(name: str) -> tuple[np.ndarray, int]:
    """A real recording of a speaker the shipped model never trained on (theo, yweweler)."""
    audio, rate = sf.read(FSDD / name, dtype="float32")
    return audio, rate


def copy_at_16k(names: list[str], folder: Path, reverse: bool = False) -> None:
    """FSDD clips resampled to 16 kHz into ``folder`` (played backwards if ``reverse``), so that
    a script and `spotter eval clips` read the same samples, with no resampling of their own."""
    folder.mkdir(exist_ok=True)
    for name in names:
        audio, rate = fsdd_clip(name)
        audio = soxr.resample(audio, rate, 16000)
        sf.write(folder / name, np.ascontiguousarray(audio[::-1] if reverse else audio), 16000)


def eval_clips_report(folder: Path, out: Path) -> dict:
    """The report of `spotter eval clips folder`, run as a user would."""
    scored = run_spotter("eval", "clips", str(folder), "--out", str(out))
    assert scored.returncode == 0, scored.stderr.decode()
    return json.loads((out / "report.json").read_text())


def pad(audio: np.ndarray, rate: int, seconds: float = 0.5) -> np.ndarray:
    silence = np.zeros(int(seconds * rate), np.float32)
    return np.concatenate([silence, audio, silence])


@pytest.fixture(scope="session")
def heldout_sequence(tmp_path_factory) -> tuple[Path, list[int]]:
    """Three held-out FSDD digits with pauses, as one 8 kHz WAV; and the digits spoken."""
    # Clips the shipped model recognises: these tests check the plumbing; its accuracy (94 %
    # of held-out clips) is measured by scripts/score-fsdd.sh and `spotter eval clips`.
    names = ["3_theo_0.wav", "7_yweweler_1.wav", "9_theo_3.wav"]
    parts = [pad(fsdd_clip(n)[0], 8000, 0.4) for n in names]
    path = tmp_path_factory.mktemp("sequence") / "three_digits.wav"
    sf.write(path, np.concatenate(parts), 8000)
    return path, [3, 7, 9]


@pytest.fixture(scope="session")
def spoken_digits(tmp_path_factory) -> Path:
    """espeak-ng digits in FSDD naming: 3 voices × 10 digits × 3 speeds = 90 clips."""
    if not shutil.which("espeak-ng"):
        pytest.fail("espeak-ng is missing: run scripts/install-system-deps.sh")
    folder = tmp_path_factory.mktemp("digits")
    for speaker, voice in VOICES.items():
        for digit, word in enumerate(WORDS):
            for take, speed in enumerate((140, 170, 200), start=5):  # takes ≥ 5: training takes
                path = folder / f"{digit}_{speaker}_{take}.wav"
                subprocess.run(
                    ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), word],
                    check=True,
                    timeout=30,
                )
    return folder


@pytest.fixture(scope="session")
def tiny_model(spoken_digits, tmp_path_factory) -> Path:
    """A 16-channel model trained for a few steps through `spotter train`; its run folder."""
    out = tmp_path_factory.mktemp("tiny")
    result = run_spotter(
        "train",
        "--fsdd",
        str(spoken_digits),
        "--noise",
        str(out / "no-noise"),
        "--out",
        str(out),
        "--steps",
        "30",
        "--channels",
        "16",
        "--fsdd-only",
        "--heldout",
        "charlie",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return out
