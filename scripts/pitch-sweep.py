"""Isolated-digit accuracy against a higher (or lower) voice: how far from its training voices
the model still hears a digit.

Every clip is shifted by each factor in turn with sox's ``pitch`` effect, which scales every
frequency (the voice's pitch and its formants together) and keeps the duration, then padded
with 0.5 s of digital silence at both ends and scored as ``spotter eval clips`` scores it: the
highest-score event is the prediction, no event is wrong. Factor 1 is the clip as it is. A
rough guide (textbook averages, not measured here): women's formants are about 1.15-1.2 times
men's and children's about 1.3-1.5 times, while their pitch is about 1.7-2.5 times a man's, so
no single factor is a woman or a child; training's speed perturbation resamples by 0.8-1.3
(pitch, formants and tempo together).

    .venv/bin/python scripts/pitch-sweep.py ../shared/data/fsdd/recordings --speakers theo,yweweler
    .venv/bin/python scripts/pitch-sweep.py data/synth/test.csv --model runs/default/model.onnx
"""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
from scored_clips import clip_parser, detected_digit, load  # puts the repository on sys.path

from spotter.errors import run_script
from spotter.resample import SAMPLE_RATE

FACTORS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6)
RAW_FLOAT = ["-t", "raw", "-r", str(SAMPLE_RATE), "-e", "floating-point", "-b", "32", "-c", "1"]


def shifted(audio: np.ndarray, factor: float) -> np.ndarray:
    """(n,) float32 at 16 kHz → every frequency times ``factor``, about the same length."""
    if factor == 1.0:
        return audio
    cents = f"{1200 * math.log2(factor):.2f}"
    done = subprocess.run(
        ["sox", *RAW_FLOAT, "-", *RAW_FLOAT, "-", "pitch", cents],
        input=audio.astype(np.float32).tobytes(),
        capture_output=True,
        check=True,
    )
    return np.frombuffer(done.stdout, np.float32)


def main() -> None:
    parser = clip_parser(__doc__)
    parser.add_argument(
        "--factors", type=float, nargs="+", default=FACTORS, help="frequency factors (1: as is)"
    )
    args = parser.parse_args()
    if not all(0.5 <= factor <= 2.0 for factor in args.factors):
        parser.exit(2, "pitch-sweep: error: factors must be between 0.5 and 2 (an octave)\n")
    if shutil.which("sox") is None:
        parser.exit(2, "pitch-sweep: error: sox not found (scripts/install-system-deps.sh)\n")
    spotter, clips, audio = load(parser, args)
    print(f"{len(clips)} clips")
    print("factor  semitones  accuracy")
    for factor in args.factors:
        right = sum(
            detected_digit(spotter, shifted(a, factor)) == clip.digit
            for clip, a in zip(clips, audio, strict=True)
        )
        semitones = 12 * math.log2(factor)
        print(f"{factor:6.2f}  {semitones:+9.1f}  {100 * right / len(clips):6.1f} %", flush=True)


if __name__ == "__main__":
    run_script(main)
