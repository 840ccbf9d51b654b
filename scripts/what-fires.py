"""Which non-digit words fire, on every test-split TTS voice (the homophone policy, measured).

Each word is synthesised in each test voice (non-espeak engines, and espeak-ng's held-out
variants in the en-us accent), padded with 0.5 s of silence and fed through the model; the
digits it fires are listed per voice.

    .venv/bin/python scripts/what-fires.py [MODEL]

Needs the TTS engines (scripts/install-voices.sh) and the voices extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.synth import FIRES_AS_DIGIT, NEVER_FIRE, split_of  # noqa: E402
from models.voices import ENGINES, engine_voices, synthesise  # noqa: E402
from spotter import Spotter  # noqa: E402
from spotter.errors import SpotterError, run_script  # noqa: E402

ENDING_IN_A_DIGIT = ("someone", "before", "into")
CONTAINING_A_DIGIT = ("tonight", "often")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, help="ONNX model (default: the shipped one)")
    try:
        spotter = Spotter.load(parser.parse_args().model)
    except SpotterError as exc:
        parser.exit(2, f"what-fires: error: {exc}\n")
    voices = [
        v
        for engine in ENGINES
        for v in engine_voices(engine)
        if split_of(v) == "test" and (engine != "espeak" or v.name.startswith("en-us+"))
    ]
    pad = np.zeros(8000, np.float32)
    print(f"{len(voices)} test voices: {', '.join(v.identity for v in voices)}")
    words = NEVER_FIRE + ENDING_IN_A_DIGIT + CONTAINING_A_DIGIT + FIRES_AS_DIGIT
    for word in words:
        fired = []
        for voice in voices:
            spotter.reset()
            audio = np.concatenate([pad, synthesise(voice, word), pad])
            events = list(spotter.feed(audio)) + spotter.flush()
            fired.append(",".join(str(e.digit) for e in events) or "-")
        count = sum(f != "-" for f in fired)
        print(f"{word:10s} fires in {count:2d}/{len(voices)}: {' '.join(fired)}", flush=True)


if __name__ == "__main__":
    run_script(main)
