"""Streaming model step on onnxruntime: 16 kHz samples in, per-frame posteriors out.

The engine owns the model's state (audio cache and one cache per convolution) and a remainder of
fewer than one hop of samples, so any chunking of the input gives the same frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from spotter.errors import SpotterError, first_line

FORMAT = "2"  # the graph interface export/onnx_export.py writes: 4-D tensors (B, C, 1, T)


@dataclass(frozen=True)
class ModelInfo:
    labels: tuple[str, ...]
    sample_rate: int
    hop_length: int
    receptive_field_frames: int
    detector: dict
    metadata: dict[str, str]

    @property
    def digit_classes(self) -> list[int]:
        return [i for i, name in enumerate(self.labels) if not name.startswith("_")]

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelInfo:
        found = meta.get("spotter_format")
        if found is not None and found != FORMAT:
            raise SpotterError(
                f"model format {found} is not the one this spotter runs ({FORMAT}); "
                "export it again from its checkpoint with `spotter export`"
            )
        try:
            return cls(
                labels=tuple(json.loads(meta["labels"])),
                sample_rate=int(meta["sample_rate"]),
                hop_length=int(meta["hop_length"]),
                receptive_field_frames=int(meta["receptive_field_frames"]),
                detector=json.loads(meta["detector"]),
                metadata=dict(meta),
            )
        except (KeyError, ValueError) as exc:
            raise SpotterError(f"not a spotter model (metadata missing or invalid: {exc})") from exc


class Engine:
    """Streaming inference for one audio stream (batch size 1)."""

    def __init__(self, path: Path | str, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
            raise SpotterError(f"cannot load model {path}: {first_line(exc)}") from exc
        self.info = ModelInfo.from_metadata(self.session.get_modelmeta().custom_metadata_map)
        self.state_names = [i.name for i in self.session.get_inputs() if i.name != "audio"]
        self.state_shapes = [
            [1, *i.shape[1:]] for i in self.session.get_inputs() if i.name != "audio"
        ]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.reset()

    def reset(self) -> None:
        """Forget the stream: state as after a long silence, no pending samples, frame 0."""
        self.state = [np.zeros(shape, np.float32) for shape in self.state_shapes]
        self.pending = np.zeros(0, np.float32)
        warmup = (self.info.receptive_field_frames - 1) * self.info.hop_length
        self.run(np.zeros(warmup, np.float32))
        self.frames_done = 0

    def process(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """samples: (n,) float32 at the model rate → posteriors (k, n_classes), energy_db (k,)
        for the k hops completed by this chunk (k may be 0)."""
        if len(self.pending):
            samples = np.concatenate([self.pending, samples])
        usable = len(samples) - len(samples) % self.info.hop_length
        self.pending = samples[usable:].copy()
        if usable == 0:
            return np.zeros((0, len(self.info.labels)), np.float32), np.zeros(0, np.float32)
        posteriors, energy = self.run(samples[:usable])
        self.frames_done += len(energy)
        return posteriors, energy

    def run(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feeds = {"audio": samples.reshape(1, 1, 1, -1)}
        feeds.update(zip(self.state_names, self.state, strict=True))
        posteriors, energy, *self.state = self.session.run(self.output_names, feeds)
        return posteriors[0, :, 0].T, energy[0, 0, 0]
