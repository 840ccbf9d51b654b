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

from scored_clips import clip_parser, detected_digit, load  # puts the repository on sys.path

from models.pitch import FACTOR_BOUNDS, SOX_MISSING, have_sox, pitch_shifted
from spotter.errors import run_script

FACTORS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6)


def main() -> None:
    parser = clip_parser(__doc__)
    parser.add_argument(
        "--factors", type=float, nargs="+", default=FACTORS, help="frequency factors (1: as is)"
    )
    args = parser.parse_args()
    low, high = FACTOR_BOUNDS
    if not all(low <= factor <= high for factor in args.factors):
        parser.exit(
            2, f"pitch-sweep: error: factors must be between {low:g} and {high:g} (an octave)\n"
        )
    if not have_sox():
        parser.exit(2, f"pitch-sweep: error: {SOX_MISSING}\n")
    spotter, clips, audio = load(parser, args)
    print(f"{len(clips)} clips")
    print("factor  semitones  accuracy")
    for factor in args.factors:
        right = sum(
            detected_digit(spotter, pitch_shifted(a, factor)) == clip.digit
            for clip, a in zip(clips, audio, strict=True)
        )
        semitones = 12 * math.log2(factor)
        print(f"{factor:6.2f}  {semitones:+9.1f}  {100 * right / len(clips):6.1f} %", flush=True)


if __name__ == "__main__":
    run_script(main)
