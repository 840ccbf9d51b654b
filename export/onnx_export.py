"""PyTorch checkpoint → one streaming ONNX graph with explicit state, arranged for onnxruntime.

Inputs: ``audio`` (B, 1, 1, k·hop) new 16 kHz samples, ``audio_cache`` (B, 1, 1, win − hop)
and one ``cache_i`` (B, C_i, 1, context_i) per convolution. Outputs: ``posteriors``
(B, n_classes, 1, k), ``energy_db`` (B, 1, 1, k) and the new state under the same names with
``_out``. The log-mel front end runs inside the graph. Each call costs k frames of work, whatever
the receptive field.

The graph computes what the trained model computes, rearranged so that a call costs less:

- the power spectrum is projected onto the mel bands by one 1×1 convolution whose weights sum
  the cosine and sine halves; a last band, the sum of all mel bands, gives the frame energy;
- the per-band normalisation and every batch norm are folded into the convolution weights;
- tensors are 4-D (B, C, 1, T), so that onnxruntime runs the convolutions in its blocked
  NCHWc layout, which is faster here than its 1-D convolution even at one frame per call.

The windowed DFT (two thirds of the weights by count) is not stored: a few graph nodes rebuild
it from its size, and onnxruntime folds them into a constant once, when the model loads. The
doubled mel projection and the energy band are built from the stored filterbank the same way.
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
from torch.nn import functional as F

from models.features import LogMel
from models.model import SpotterModel
from models.network import CausalConv, DigitNet
from spotter.detector import DetectorConfig
from spotter.engine import FORMAT


class FoldedConv(nn.Module):
    """A ``CausalConv`` with its batch norm folded into the weights, on 4-D tensors:
    (B, C_in, 1, T) → (B, C_out, 1, T − context).

    ``scale_in`` and ``shift_in`` (C_in,) fold an affine map of the input, x·scale + shift, into
    the weights too; ``extra_inputs`` appends input channels that the layer ignores."""

    def __init__(
        self,
        layer: CausalConv,
        scale_in: torch.Tensor | None = None,
        shift_in: torch.Tensor | None = None,
        extra_inputs: int = 0,
    ) -> None:
        super().__init__()
        norm = layer.norm
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        weight = layer.conv.weight * scale[:, None, None]
        bias = norm.bias - norm.running_mean * scale
        depthwise = layer.depthwise.weight if layer.depthwise is not None else None
        if shift_in is not None:  # what the shift alone gives, through the linear layer
            through = shift_in[:, None]
            if depthwise is not None:
                through = through * depthwise.sum(dim=2)
            bias = bias + (weight * through[None]).sum(dim=(1, 2))
        if scale_in is not None:
            if depthwise is not None:
                depthwise = depthwise * scale_in[:, None, None]
            else:
                weight = weight * scale_in[None, :, None]
        if extra_inputs:
            weight = torch.cat(
                [weight, weight.new_zeros(weight.shape[0], extra_inputs, weight.shape[2])], 1
            )
            if depthwise is not None:
                depthwise = torch.cat(
                    [depthwise, depthwise.new_zeros(extra_inputs, 1, depthwise.shape[2])]
                )
        self.dilation = (layer.conv if depthwise is None else layer.depthwise).dilation[0]
        self.weight = nn.Parameter(weight.detach().unsqueeze(2))
        self.bias = nn.Parameter(bias.detach())
        self.depthwise = (
            None if depthwise is None else nn.Parameter(depthwise.detach().unsqueeze(2))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dilation = (1, self.dilation)
        if self.depthwise is not None:
            x = F.conv2d(x, self.depthwise, dilation=dilation, groups=self.depthwise.shape[0])
            dilation = (1, 1)
        return F.conv2d(x, self.weight, self.bias, dilation=dilation)


class FrontEndStep(nn.Module):
    """Samples (B, 1, 1, context + k·hop) → log mel bands and, last, the log of their sum
    (B, n_mels + 1, 1, k)."""

    def __init__(self, front: LogMel) -> None:
        super().__init__()
        self.hop = front.cfg.hop_length
        self.register_buffer("dft", front.dft.unsqueeze(2))  # rebuilt in the graph, not stored
        self.register_buffer("mel_fbank", front.mel_fbank.clone())  # (n_mels, n_bins)
        self.register_buffer("eps", torch.full((front.cfg.n_mels + 1,), front.cfg.eps))

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        spectrum = F.conv2d(samples, self.dft, stride=(1, self.hop))
        halves = torch.cat([self.mel_fbank, self.mel_fbank], dim=1)  # cos² + sin² per bin
        bands = torch.cat([halves, halves.sum(dim=0, keepdim=True)])
        return torch.log(F.conv2d(spectrum * spectrum, bands[:, :, None, None], self.eps))


class NetworkStep(nn.Module):
    """Log bands (B, n_mels + 1, 1, k) and one cache per layer → logits (B, n_classes, 1, k)
    and the new caches. The energy band has zero weight."""

    def __init__(self, net: DigitNet, front: LogMel) -> None:
        super().__init__()
        inv_std = front.inv_std[:, 0]  # (x − mean)·inv_std, folded; the energy band ignored
        self.stem = FoldedConv(net.stem, inv_std, -front.mean[:, 0] * inv_std, extra_inputs=1)
        self.dilated = nn.ModuleList(FoldedConv(b.dilated) for b in net.blocks)
        self.pointwise = nn.ModuleList(FoldedConv(b.pointwise) for b in net.blocks)
        self.head = nn.ParameterList(
            [net.head.weight.detach().unsqueeze(2), net.head.bias.detach()]
        )
        self.contexts = [layer.context for layer in net.layers]
        self.channels = [net.cfg.n_mels + 1] + [net.cfg.channels] * len(net.blocks)

    def forward(self, bands: torch.Tensor, caches: list[torch.Tensor]):
        joined = torch.cat([caches[0], bands], dim=3)
        new_caches = [joined[:, :, :, -self.contexts[0] :]]
        x = torch.relu(self.stem(joined))
        for i, (dilated, pointwise) in enumerate(zip(self.dilated, self.pointwise, strict=True)):
            joined = torch.cat([caches[i + 1], x], dim=3)
            new_caches.append(joined[:, :, :, -self.contexts[i + 1] :])
            x = torch.relu(pointwise(torch.relu(dilated(joined))) + x)
        return F.conv2d(x, *self.head), new_caches

    def cache_shapes(self, batch: int = 1) -> list[tuple[int, int, int, int]]:
        return [(batch, c, 1, ctx) for c, ctx in zip(self.channels, self.contexts, strict=True)]


class StreamingStep(nn.Module):
    def __init__(self, model: SpotterModel) -> None:
        super().__init__()
        self.front_end = FrontEndStep(model.front_end)
        self.network = NetworkStep(model.net, model.front_end)
        self.context = model.front_end.cfg.context
        self.to_db = 10.0 / math.log(10.0)

    def forward(self, audio: torch.Tensor, audio_cache: torch.Tensor, *caches: torch.Tensor):
        joined = torch.cat([audio_cache, audio], dim=3)
        bands = self.front_end(joined)
        logits, new_caches = self.network(bands, list(caches))
        energy_db = bands[:, -1:] * self.to_db
        posteriors = torch.softmax(logits, dim=1)
        return (posteriors, energy_db, joined[:, :, :, -self.context :], *new_caches)


def metadata(model: SpotterModel, detector: DetectorConfig, summary: dict) -> dict[str, str]:
    front = model.front_end.cfg
    rf = model.net.receptive_field
    return {
        "spotter_format": FORMAT,
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
        # The eval history stays in metrics.json: 20 evaluations would grow the int8 file by 5 KB.
        "training": json.dumps({k: v for k, v in summary.items() if k != "history"}),
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
    caches = [torch.zeros(shape) for shape in step.network.cache_shapes(batch=1)]
    example = (torch.zeros(1, 1, 1, 4 * hop), torch.zeros(1, 1, 1, step.context), *caches)
    cache_names = [f"cache_{i}" for i in range(len(caches))]
    inputs = ["audio", "audio_cache", *cache_names]
    outputs = ["posteriors", "energy_db", "audio_cache_out", *[f"{n}_out" for n in cache_names]]
    dynamic = {
        "audio": {0: "batch", 3: "samples"},
        "posteriors": {0: "batch", 3: "frames"},
        "energy_db": {0: "batch", 3: "frames"},
    }
    dynamic.update({name: {0: "batch"} for name in inputs[1:] + outputs[2:]})
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            step,
            example,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
            do_constant_folding=False,  # store the filterbank, not the projection built from it
        )
    graph = onnx.load(str(path))
    rebuild_dft_in_graph(graph.graph, model.front_end.cfg.win_length)
    for key, value in metadata(model, detector, summary).items():
        graph.metadata_props.add(key=key, value=value)
    graph.doc_string = "spotter streaming digit model"
    onnx.save(graph, str(path))
    return path


def rebuild_dft_in_graph(graph: onnx.GraphProto, win_length: int) -> None:
    """Replace the stored DFT kernel, the only (2·n_bins, 1, 1, win) initializer, by nodes that
    compute it: cos and −sin of 2π·(k·n mod win)/win times a periodic Hann window, as
    ``models.features.dft_kernel`` does."""
    (stored,) = [t for t in graph.initializer if t.dims[1:] == [1, 1, win_length]]
    name = stored.name
    n_bins = stored.dims[0] // 2
    graph.initializer.remove(stored)
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
    node("Unsqueeze", [node("Concat", [cosines, sines], axis=0), const([1, 2])])
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
