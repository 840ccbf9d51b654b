"""What each data source and augmentation contributes, on the held-out real speakers.

Every row trains the same network from the same seed for the same (short) number of steps with
one ingredient changed, then scores FSDD's held-out speakers (theo, yweweler: 1,000 clips, each
padded with 0.5 s of silence) exactly as ``spotter detect`` would (``models.train.score_clips``:
the highest-scoring event per clip, at the default detector settings). The rows share one budget,
so compare them with each other, not with the shipped model (trained 6× longer).

    .venv/bin/python scripts/ablation.py --steps 2000 --out runs/ablation

Needs the training extra and ``spotter data synth`` output in data/synth.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.data import MixConfig  # noqa: E402
from models.train import TrainConfig, train  # noqa: E402
from spotter.errors import run_script  # noqa: E402

NO_NOISE = {"silence_p": 1.0}
ROWS: dict[str, dict] = {
    "FSDD only, no augmentation": {
        "synthetic_train": False,
        "spec_augment": False,
        "channel_p": 0.0,
        "mix": {"reverb_p": 0.0, "speed": (1.0, 1.0), **NO_NOISE},
    },
    "FSDD + augmentation": {"synthetic_train": False},
    "+ espeak-ng voices": {"engines": ("espeak",), "other_speech": False},
    "+ all seven TTS engines": {"other_speech": False},
    "+ ordinary speech = full recipe": {},
    "full − background noise": {"mix": NO_NOISE},
    "full − room reverberation": {"mix": {"reverb_p": 0.0}},
    "full − random channel (band limits)": {"channel_p": 0.0},
    "full − SpecAugment": {"spec_augment": False},
    "full − speed perturbation": {"mix": {"speed": (1.0, 1.0)}},
}


def config(change: dict, steps: int, out: Path, threads: int) -> TrainConfig:
    mix = replace(MixConfig(), **change.get("mix", {}))
    rest = {k: v for k, v in change.items() if k != "mix"}
    return replace(
        TrainConfig(), steps=steps, eval_every=steps, out=out, threads=threads, mix=mix, **rest
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "ablation")
    args = parser.parse_args()
    rows = []
    for i, (name, change) in enumerate(ROWS.items()):
        folder = args.out / f"row{i}"
        if (folder / "metrics.json").is_file():
            summary = json.loads((folder / "metrics.json").read_text())
        else:
            summary = train(config(change, args.steps, folder, args.threads), log=lambda m: None)
        final = summary["final"]
        rows.append(
            f"| {name} | {100 * final['heldout']['accuracy']:.1f} % "
            f"| {100 * final['heldout']['one_event']:.1f} % "
            f"| {100 * final['synthetic val']['accuracy']:.1f} % |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(
        [
            f"{args.steps} steps each; held-out FSDD speakers theo + yweweler (1,000 clips)",
            "",
            "| training data and augmentation | held-out accuracy | exactly one event "
            "| synthetic validation voices |",
            "| --- | ---: | ---: | ---: |",
            *rows,
        ]
    )
    (args.out / "table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    run_script(main)
