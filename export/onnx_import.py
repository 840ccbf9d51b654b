"""Streaming ONNX model → trainable ``SpotterModel``: ``onnx_export`` run backwards.

A warm restart needs the network as it was trained: convolutions followed by batch norms, and a
per-band input normalisation. The exported graph has all of these folded into the convolution
weights (``onnx_export.FoldedConv``). Unfolding is not unique, so two steps pick the unfolding
that training expects:

- ``load_onnx_model``: each folded layer becomes a convolution with the folded weights and an
  identity batch norm that adds the folded bias; the input normalisation is the identity and the
  stem absorbs it. The result computes exactly what the ONNX graph computes, in eval mode.
- ``fit_statistics``: on training audio, the input normalisation is measured again (as a fresh
  training measures it) and the stem re-expressed for it; then each batch norm gets the mean and
  variance of its input over the audio, and its convolution is scaled so that this variance is 1.
  Train mode, which normalises by the batch's own statistics, then computes what eval mode does,
  and eval mode still computes what the ONNX graph does.

Only float models: an int8 model has lost the weights' precision.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from models.features import FrontEndConfig
from models.model import SpotterModel
from models.network import CausalConv, NetworkConfig


def load_onnx_model(path: Path) -> SpotterModel:
    """A float streaming model written by ``onnx_export.export`` → the same function as a
    ``SpotterModel`` in eval mode; ValueError with a one-line reason for any other file."""
    try:
        graph = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError, OSError, ... for a file it cannot read
        raise ValueError(f"{path}: not an ONNX model ({type(exc).__name__})") from None
    meta = {p.key: p.value for p in graph.metadata_props}
    weights = {
        t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.graph.initializer
    }
    if "front_end" not in meta or "training" not in meta:
        raise ValueError(f"{path}: not a spotter model (no front_end/training metadata)")
    if "network.stem.weight" not in weights:
        raise ValueError(f"{path}: not a float spotter model (an int8 one cannot be trained on)")
    try:
        net_cfg = NetworkConfig.from_dict(json.loads(meta["training"])["config"]["net"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: its metadata does not describe its network ({exc!r})") from None
    model = SpotterModel(FrontEndConfig(**json.loads(meta["front_end"])), net_cfg)
    n_mels = net_cfg.n_mels
    stem_depthwise = weights.get("network.stem.depthwise")
    load_layer(  # the stem's last input channel is the energy band, which it ignores
        model.net.stem,
        weights["network.stem.weight"][:, :n_mels],
        weights["network.stem.bias"],
        None if stem_depthwise is None else stem_depthwise[:n_mels],
    )
    for i, block in enumerate(model.net.blocks):
        for name, layer in (("dilated", block.dilated), ("pointwise", block.pointwise)):
            prefix = f"network.{name}.{i}"
            load_layer(
                layer,
                weights[f"{prefix}.weight"],
                weights[f"{prefix}.bias"],
                weights.get(f"{prefix}.depthwise"),
            )
    with torch.no_grad():
        model.net.head.weight.copy_(weights["network.head.0"][:, :, 0])
        model.net.head.bias.copy_(weights["network.head.1"])
    return model.eval()


def load_layer(
    layer: CausalConv, weight: torch.Tensor, bias: torch.Tensor, depthwise: torch.Tensor | None
) -> None:
    """Folded 4-D weights (C_out, C_in, 1, k) and bias → ``layer`` with an identity norm."""
    with torch.no_grad():
        layer.conv.weight.copy_(weight[:, :, 0])
        if layer.depthwise is not None:
            layer.depthwise.weight.copy_(depthwise[:, :, 0])
        norm = layer.norm
        norm.weight.fill_(1.0)
        norm.bias.copy_(bias)
        norm.running_mean.zero_()
        norm.running_var.fill_(1.0 - norm.eps)


@torch.no_grad()
def fit_statistics(model: SpotterModel, audio: torch.Tensor) -> None:
    """Re-express ``model`` (eval mode, as ``load_onnx_model`` gives it) for training on
    ``audio`` (B, N): the same function, with a measured input normalisation and batch norms
    whose statistics are those of their inputs over ``audio``."""
    front = model.front_end
    logmel, _ = front.frames(audio)
    raw = logmel / front.inv_std + front.mean  # log(mel + eps)
    old_mean, old_inv_std = front.mean[:, 0].clone(), front.inv_std[:, 0].clone()
    front.set_normalisation(raw.mean(dim=(0, 2)), raw.std(dim=(0, 2)))
    renormalise_stem(model.net.stem, old_mean, old_inv_std, front.mean[:, 0], front.inv_std[:, 0])

    layers = [m for m in model.net.modules() if isinstance(m, CausalConv)]
    inputs: dict[nn.Module, torch.Tensor] = {}
    hooks = [
        layer.norm.register_forward_pre_hook(lambda m, args: inputs.__setitem__(m, args[0]))
        for layer in layers
    ]
    model.eval()
    model.net(front.frames(audio)[0])  # refitting a layer keeps its output: one pass serves all
    for hook in hooks:
        hook.remove()
    for layer in layers:
        pre_norm = inputs[layer.norm]
        mean = pre_norm.mean(dim=(0, 2))
        # the biased variance, which train mode normalises a batch by
        std = pre_norm.var(dim=(0, 2), unbiased=False).sqrt().clamp_min(1e-6)
        refit_norm(layer, mean, std)


def renormalise_stem(
    stem: CausalConv,
    old_mean: torch.Tensor,
    old_inv_std: torch.Tensor,
    new_mean: torch.Tensor,
    new_inv_std: torch.Tensor,
) -> None:
    """The stem's weights for inputs normalised as (x − new_mean)·new_inv_std instead of
    (x − old_mean)·old_inv_std, each (n_mels,): the old normalised input is
    x_new·(old_inv_std / new_inv_std) + (new_mean − old_mean)·old_inv_std."""
    scale = old_inv_std / new_inv_std
    shift = (new_mean - old_mean) * old_inv_std
    first = stem.depthwise if stem.depthwise is not None else stem.conv
    constant = shift[None, :, None].expand(1, -1, stem.context + 1)
    before = stem.conv(stem.depthwise(constant) if stem.depthwise is not None else constant)
    first.weight.mul_(scale[:, None, None] if stem.depthwise is not None else scale[None, :, None])
    stem.norm.bias.add_(
        before[0, :, 0] * stem.norm.weight / torch.sqrt(stem.norm.running_var + stem.norm.eps)
    )


def refit_norm(layer: CausalConv, mean: torch.Tensor, std: torch.Tensor) -> None:
    """Scale the convolution so that the norm's input, measured as ``mean`` and ``std`` (C_out,),
    has unit variance, and store those statistics in the norm without changing what it gives."""
    norm = layer.norm
    gain = norm.weight / torch.sqrt(norm.running_var + norm.eps)  # eval: gain·(z − rm) + beta
    offset = norm.bias - gain * norm.running_mean
    layer.conv.weight.div_(std[:, None, None])
    norm.running_mean.copy_(mean / std)
    norm.running_var.fill_(1.0 - norm.eps)
    norm.weight.copy_(gain * std)
    norm.bias.copy_(offset + gain * mean)
