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

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spotter import Spotter  # noqa: E402
from spotter.errors import SpotterError, run_script  # noqa: E402
from spotter.evaluate import find_clips, padded_clip  # noqa: E402
from spotter.sources import read_whole  # noqa: E402

LEVELS_DBFS = (-60.0, -55.0, -50.0, -45.0, -40.0, -35.0, -30.0, -20.0, -10.0, -3.0)


def detected_digit(spotter: Spotter, audio: np.ndarray) -> int | None:
    """The digit of the clip's highest-score event, or None."""
    top = padded_clip(spotter, audio)[1]
    return top.digit if top else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, help="FSDD-named folder or CSV manifest")
    parser.add_argument("--speakers", default="", help="comma-separated speakers (default: all)")
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped one)")
    parser.add_argument(
        "--levels", type=float, nargs="+", default=LEVELS_DBFS, help="peak levels in dBFS"
    )
    args = parser.parse_args()
    if any(level > 0 for level in args.levels):
        parser.exit(2, "level-sweep: error: levels are dBFS, at most 0\n")
    try:
        spotter = Spotter.load(args.model)
        clips = find_clips(args.clips, tuple(s for s in args.speakers.split(",") if s))
        audio = [read_whole(clip.path) for clip in clips]
    except SpotterError as exc:
        parser.exit(2, f"level-sweep: error: {exc}\n")
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
