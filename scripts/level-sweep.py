"""Isolated-digit accuracy against the input level: how quietly a digit may be said.

Every clip is scaled so that its peak sits at each level in turn (dBFS: 0 is full scale),
padded with 0.5 s of digital silence at both ends and scored as ``spotter eval clips`` scores
it: the highest-score event is the prediction, no event is wrong. As a rough guide (not
measured here), a headset gives peaks of -10 to -20 dBFS, and a quiet talker or one far from a
fixed-gain microphone -40 to -50.

    .venv/bin/python scripts/level-sweep.py ../shared/data/fsdd/recordings --speakers theo,yweweler
    .venv/bin/python scripts/level-sweep.py data/synth/test.csv --model runs/default/model.onnx
"""

from __future__ import annotations

import numpy as np
from scored_clips import clip_parser, detected_digit, load  # puts the repository on sys.path

from spotter.errors import run_script

LEVELS_DBFS = (-60.0, -55.0, -50.0, -45.0, -40.0, -35.0, -30.0, -20.0, -10.0, -3.0)


def main() -> None:
    parser = clip_parser(__doc__)
    parser.add_argument(
        "--levels", type=float, nargs="+", default=LEVELS_DBFS, help="peak levels in dBFS"
    )
    args = parser.parse_args()
    if any(level > 0 for level in args.levels):
        parser.exit(2, "level-sweep: error: levels are dBFS, at most 0\n")
    spotter, clips, audio = load(parser, args)
    silent = [clip.path for clip, a in zip(clips, audio, strict=True) if not np.abs(a).max() > 0]
    if silent:
        parser.exit(2, f"level-sweep: error: {silent[0]} is silent: it has no level to set\n")
    native = np.median([20 * np.log10(np.abs(a).max()) for a in audio])
    print(f"{len(clips)} clips, their own peaks: median {native:.1f} dBFS")
    print("peak dBFS  accuracy")
    for level in args.levels:
        gain = [10 ** (level / 20) / np.abs(a).max() for a in audio]
        right = sum(
            detected_digit(spotter, (a * g).astype(np.float32)) == clip.digit
            for clip, a, g in zip(clips, audio, gain, strict=True)
        )
        print(f"{level:9.0f}  {100 * right / len(clips):6.1f} %", flush=True)


if __name__ == "__main__":
    run_script(main)
