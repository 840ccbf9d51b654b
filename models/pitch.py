"""Voices shifted up or down: every frequency of a clip (pitch and formants together) times a
factor, duration kept, with sox's ``pitch`` effect. Numpy and sox only, so that the runtime's
scripts (``scripts/pitch-sweep.py``) use it without torch.

FSDD's speakers are six men; training on copies of their clips shifted up by 1.15–1.7 hears
higher voices better ("Higher voices" in models/EXPERIMENTS.md).
"""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np

from spotter.resample import SAMPLE_RATE

RAW_FLOAT = ["-t", "raw", "-r", str(SAMPLE_RATE), "-e", "floating-point", "-b", "32", "-c", "1"]
FACTOR_BOUNDS = (0.5, 2.0)  # an octave either way
SOX_MISSING = "sox not found (scripts/install-system-deps.sh)"


def have_sox() -> bool:
    return shutil.which("sox") is not None


def pitch_shifted(audio: np.ndarray, factor: float) -> np.ndarray:
    """(n,) float32 at 16 kHz → (n,) float32: every frequency times ``factor``."""
    if factor == 1.0:
        return audio
    cents = f"{1200 * math.log2(factor):.2f}"
    done = subprocess.run(
        ["sox", *RAW_FLOAT, "-", *RAW_FLOAT, "-", "pitch", cents],
        input=audio.astype(np.float32).tobytes(),
        capture_output=True,
        check=True,
    )
    return np.frombuffer(done.stdout, np.float32).copy()
