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

from collections import Counter

import numpy as np
from scored_clips import clip_parser, load  # puts the repository on sys.path

from spotter import Spotter
from spotter.errors import run_script
from spotter.evaluate import padded_clip
from spotter.events import WORDS


def predictions(spotter: Spotter, audio: np.ndarray) -> tuple[int | None, int]:
    """(the detector's digit or None, the peak posterior's digit) for one clip (n,) at 16 kHz."""
    frames, top = padded_clip(spotter, audio)
    detected = top.digit if top else None
    digits = spotter.info.digit_classes
    peak = digits[int(frames[0][:, digits].max(axis=0).argmax())]
    return detected, WORDS.index(spotter.info.labels[peak])


def main() -> None:
    parser = clip_parser(__doc__)
    parser.add_argument("--misses", type=int, default=10, help="peak misses to list")
    args = parser.parse_args()
    spotter, clips, audio = load(parser, args)
    results = [(clip, *predictions(spotter, a)) for clip, a in zip(clips, audio, strict=True)]
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
