"""Streaming step cost against the receptive field: the shipped architecture and versions with
longer dilation stacks (untrained weights: the cost does not depend on their values), each
exported as spotter exports, timed one hop per call as `spotter bench` times it.

The streaming graph keeps one cache per convolution, so a hop computes only the new frame of
every layer: the cost grows with the number of layers, not with how far back they see.
Usage: .venv/bin/python scripts/step-vs-receptive-field.py   (needs the train extra)
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from export.onnx_export import export
from models.features import FrontEndConfig
from models.model import SpotterModel
from models.network import NetworkConfig
from spotter.bench import step_latency
from spotter.engine import Engine
from spotter.errors import run_script

STACKS = {
    "shipped (1,2,4,8,16,16)": (1, 2, 4, 8, 16, 16),
    "same layers, wider (1,2,4,8,16,64)": (1, 2, 4, 8, 16, 64),
    "same layers, widest (4,8,16,32,64,128)": (4, 8, 16, 32, 64, 128),
}


def main(rounds: int = 7, calls: int = 500) -> None:
    torch.manual_seed(0)
    engines = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, dilations in STACKS.items():
            model = SpotterModel(FrontEndConfig(), replace(NetworkConfig(), dilations=dilations))
            path = export(model, Path(scratch) / f"{len(engines)}.onnx", {})
            engines[name] = Engine(path)
        # interleaved rounds, so a change of machine speed hits every model alike
        p50 = {name: [] for name in engines}
        for _ in range(rounds):
            for name, engine in engines.items():
                p50[name].append(step_latency(engine, 1, calls)["p50_us"])
    for name, engine in engines.items():
        rf = engine.info.receptive_field_frames
        print(
            f"{name:40s} receptive field {rf:4d} frames ({(rf - 1) * 10 + 25} ms): "
            f"1-hop step p50 {np.median(p50[name]):.0f} us (median of {rounds} rounds)"
        )


if __name__ == "__main__":
    run_script(main)
