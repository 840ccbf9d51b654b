"""PyTorch checkpoint → one streaming ONNX graph with explicit state.

Inputs: ``audio`` (B, k·hop) new 16 kHz samples, ``audio_cache`` (B, win − hop) and one
``cache_i`` (B, C_i, context_i) per convolution. Outputs: ``posteriors`` (B, k, n_classes),
``energy_db`` (B, k) and the new state under the same names with ``_out``. The log-mel front
end runs inside the graph. Each call costs k frames of work, whatever the receptive field.

The windowed DFT (two thirds of the weights by count) is not stored: a few graph nodes rebuild
it from its size, and onnxruntime folds them into a constant once, when the model loads.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn

from models.model import SpotterModel
from spotter.detector import DetectorConfig

FORMAT_VERSION = "1"


class StreamingStep(nn.Module):
    def __init__(self, model: SpotterModel) -> None:
        super().__init__()
        self.model = model
        self.context = model.front_end.cfg.context

    def forward(self, audio: torch.Tensor, audio_cache: torch.Tensor, *caches: torch.Tensor):
        joined = torch.cat([audio_cache, audio], dim=1)
        logmel, energy = self.model.front_end(joined)
        logits, new_caches = self.model.net.step(logmel, list(caches))
        posteriors = torch.softmax(logits, dim=1).transpose(1, 2)
        return (posteriors, energy, joined[:, -self.context :], *new_caches)


def metadata(model: SpotterModel, detector: DetectorConfig, summary: dict) -> dict[str, str]:
    front = model.front_end.cfg
    rf = model.net.receptive_field
    return {
        "spotter_format": FORMAT_VERSION,
        "labels": json.dumps(list(model.labels)),
        "sample_rate": str(front.sample_rate),
        "hop_length": str(front.hop_length),
        "win_length": str(front.win_length),
        "receptive_field_frames": str(rf),
        "receptive_field_ms": str(
            ((rf - 1) * front.hop_length + front.win_length) * 1000 // front.sample_rate
        ),
        "parameters": str(sum(p.numel() for p in model.net.parameters())),
        "macs_per_hop": str(macs_per_hop(model)),
        "detector": json.dumps(asdict(detector)),
        "front_end": json.dumps(asdict(front)),
        "training": json.dumps(summary),
    }


def macs_per_hop(model: SpotterModel) -> int:
    """Multiply-accumulates for one new 10 ms hop: the windowed DFT, the mel projection and
    every convolution of the network once (each yields one frame per hop when streaming)."""
    front = model.front_end.dft.numel() + model.front_end.mel_fbank.numel()
    convs = sum(m.weight.numel() for m in model.net.modules() if isinstance(m, nn.Conv1d))
    return front + convs


def export(
    model: SpotterModel, path: Path, summary: dict, detector: DetectorConfig = DetectorConfig()
) -> Path:
    """Write the streaming graph with its metadata to ``path``."""
    model.eval()
    step = StreamingStep(model).eval()
    hop = model.front_end.cfg.hop_length
    caches = [torch.zeros(shape) for shape in model.net.cache_shapes(batch=1)]
    example = (torch.zeros(1, 4 * hop), torch.zeros(1, step.context), *caches)
    cache_names = [f"cache_{i}" for i in range(len(caches))]
    inputs = ["audio", "audio_cache", *cache_names]
    outputs = ["posteriors", "energy_db", "audio_cache_out", *[f"{n}_out" for n in cache_names]]
    dynamic = {
        "audio": {0: "batch", 1: "samples"},
        "posteriors": {0: "batch", 1: "frames"},
        "energy_db": {0: "batch", 1: "frames"},
    }
    dynamic.update({name: {0: "batch"} for name in inputs[1:] + outputs[2:]})
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        step,
        example,
        str(path),
        input_names=inputs,
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
    graph = onnx.load(str(path))
    rebuild_dft_in_graph(graph.graph, model.front_end.cfg.win_length)
    for key, value in metadata(model, detector, summary).items():
        graph.metadata_props.add(key=key, value=value)
    graph.doc_string = "spotter streaming digit model"
    onnx.save(graph, str(path))
    return path


def rebuild_dft_in_graph(graph: onnx.GraphProto, win_length: int) -> None:
    """Replace the stored DFT kernel, the only (2·n_bins, 1, win) constant, by nodes that
    compute it: cos and −sin of 2π·(k·n mod win)/win times a periodic Hann window, as
    ``models.features.dft_kernel`` does."""
    (stored,) = [
        n
        for n in graph.node
        if n.op_type == "Constant" and n.attribute[0].t.dims[1:] == [1, win_length]
    ]
    name = stored.output[0]
    n_bins = stored.attribute[0].t.dims[0] // 2
    graph.node.remove(stored)
    nodes: list[onnx.NodeProto] = []

    def node(op: str, inputs: list[str], **attrs) -> str:
        out = f"/front_end/dft/{op}_{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def const(values: list, dtype: int = TensorProto.INT64, dims: list[int] | None = None) -> str:
        dims = [len(values)] if dims is None else dims
        return node("Constant", [], value=helper.make_tensor("value", dtype, dims, values))

    def scalar(value: float, dtype: int = TensorProto.INT64) -> str:
        return const([value], dtype, dims=[])

    step = 2 * math.pi / win_length
    k = node("Unsqueeze", [node("Range", [scalar(0), scalar(n_bins), scalar(1)]), const([1])])
    n = node("Unsqueeze", [node("Range", [scalar(0), scalar(win_length), scalar(1)]), const([0])])
    turns = node("Cast", [node("Mod", [node("Mul", [k, n]), scalar(win_length)])], to=1)
    phase = node("Mul", [turns, scalar(step, TensorProto.FLOAT)])
    half = scalar(0.5, TensorProto.FLOAT)
    n_phase = node("Mul", [node("Cast", [n], to=1), scalar(step, TensorProto.FLOAT)])
    window = node("Sub", [half, node("Mul", [half, node("Cos", [n_phase])])])
    cosines = node("Mul", [node("Cos", [phase]), window])
    sines = node("Mul", [node("Neg", [node("Sin", [phase])]), window])
    node("Unsqueeze", [node("Concat", [cosines, sines], axis=0), const([1])])
    nodes[-1].output[0] = name
    old = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + old)  # producers before the kernel's consumers


def parity(model: SpotterModel, path: Path, seconds: float = 3.0, chunk_hops: int = 7) -> float:
    """Max |streaming ONNX − offline torch| posterior difference on random speech-like audio."""
    from spotter.engine import Engine

    rng = np.random.default_rng(0)
    n = int(seconds * model.front_end.cfg.sample_rate)
    audio = (rng.standard_normal(n) * np.sin(np.linspace(0, 20, n)) * 0.3).astype(np.float32)
    offline, _ = model.posteriors(torch.from_numpy(audio)[None])
    engine = Engine(path)
    hop = engine.info.hop_length
    streamed = [
        engine.process(audio[i : i + chunk_hops * hop])[0] for i in range(0, n, chunk_hops * hop)
    ]
    return float(np.abs(np.concatenate(streamed) - offline[0].numpy()).max())
