"""How much of the isolated-clip error is the detector's and how much the model's.

Each clip is padded with 0.5 s of silence at both ends and run through the model once. Two
predictions are read from the same frames: the detector's (the highest-score event, as
``spotter eval clips`` scores it; no event is wrong) and the peak's (the digit whose posterior
is highest anywhere in the clip, with no threshold, hold or false-alarm control). The peak's
accuracy is about what these posteriors allow when false alarms cost nothing; its misses are
the model's, listed by speaker, digit said and digit heard. (On files not at 16 kHz the detector's
figure can differ from ``spotter eval clips`` by a clip or so: here a file is resampled whole,
there in blocks as it streams.)

    .venv/bin/python scripts/ceiling.py ../shared/data/fsdd/recordings --speakers theo,yweweler
    .venv/bin/python scripts/ceiling.py data/synth/test.csv --model runs/default/model.onnx
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spotter import Spotter  # noqa: E402
from spotter.errors import SpotterError, run_script  # noqa: E402
from spotter.evaluate import LabelledClip, find_clips, padded_clip  # noqa: E402
from spotter.events import WORDS  # noqa: E402
from spotter.sources import read_whole  # noqa: E402


def predictions(spotter: Spotter, clip: LabelledClip) -> tuple[int | None, int]:
    """(the detector's digit or None, the peak posterior's digit) for one clip."""
    frames, top = padded_clip(spotter, read_whole(clip.path))
    detected = top.digit if top else None
    digits = spotter.info.digit_classes
    peak = digits[int(frames[0][:, digits].max(axis=0).argmax())]
    return detected, WORDS.index(spotter.info.labels[peak])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, help="FSDD-named folder or CSV manifest")
    parser.add_argument("--speakers", default="", help="comma-separated speakers (default: all)")
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped one)")
    parser.add_argument("--misses", type=int, default=10, help="peak misses to list")
    args = parser.parse_args()
    try:
        spotter = Spotter.load(args.model)
        clips = find_clips(args.clips, tuple(s for s in args.speakers.split(",") if s))
        results = [(clip, *predictions(spotter, clip)) for clip in clips]
    except SpotterError as exc:
        parser.exit(2, f"ceiling: error: {exc}\n")
    n = len(results)
    detector = sum(detected == clip.digit for clip, detected, _ in results)
    peak = sum(heard == clip.digit for clip, _, heard in results)
    print(f"clips {n}  detector {100 * detector / n:.1f} %  peak {100 * peak / n:.1f} %")
    misses = Counter(
        (clip.speaker, clip.digit, heard) for clip, _, heard in results if heard != clip.digit
    )
    for (speaker, said, heard), count in misses.most_common(args.misses):
        print(f"  {count:4d}  {speaker}: {said} heard as {heard}")


if __name__ == "__main__":
    run_script(main)
