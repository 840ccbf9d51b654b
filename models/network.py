"""Causal, valid-padding residual 1D CNN over log-mel frames.

Every convolution is "valid" (no padding): an output frame only ever sees real input frames at or
before it. A sequence of T frames gives T - (receptive_field - 1) outputs and residuals are cropped
to the valid length. The streaming form, in which each convolution keeps the last
``dilation * (kernel - 1)`` input frames as explicit state so that k new frames cost k frames of
work whatever the receptive field, is built from these layers by ``export/onnx_export.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass(frozen=True)
class NetworkConfig:
    n_mels: int = 40
    channels: int = 56
    stem_kernel: int = 5
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 16)
    # Each k-tap convolution as a per-channel k-tap convolution followed by a 1×1 one: about
    # k times fewer weights per layer, so a wider network fits the same file.
    separable: bool = False
    labels: tuple[str, ...] = field(
        default=(
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "_silence_",
        )
    )

    @classmethod
    def from_dict(cls, stored: dict) -> NetworkConfig:
        """The config as ``asdict`` stored it (in a checkpoint or a model's metadata), where
        JSON and pickling may have turned its tuples into lists."""
        return cls(
            **{**stored, "dilations": tuple(stored["dilations"]), "labels": tuple(stored["labels"])}
        )


class CausalConv(nn.Module):
    """Valid conv + batch norm. ``context`` = input frames it needs before its first output.

    Separable (and kernel > 1): a per-channel k-tap ``depthwise`` conv, then a 1×1 ``conv``
    across channels, then the norm; otherwise ``depthwise`` is None and ``conv`` has k taps."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, dilation: int = 1, separable: bool = False
    ) -> None:
        super().__init__()
        self.depthwise = (
            nn.Conv1d(c_in, c_in, kernel, dilation=dilation, groups=c_in, bias=False)
            if separable and kernel > 1
            else None
        )
        taps = 1 if self.depthwise is not None else kernel
        self.conv = nn.Conv1d(c_in, c_out, taps, dilation=dilation, bias=False)
        self.norm = nn.BatchNorm1d(c_out)
        self.context = dilation * (kernel - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, T) → (B, C_out, T - context)."""
        if self.depthwise is not None:
            x = self.depthwise(x)
        return self.norm(self.conv(x))


class ResidualBlock(nn.Module):
    """Dilated causal conv → ReLU → 1×1 conv, plus the input cropped to the valid length."""

    def __init__(self, channels: int, kernel: int, dilation: int, separable: bool = False) -> None:
        super().__init__()
        self.dilated = CausalConv(channels, channels, kernel, dilation, separable)
        self.pointwise = CausalConv(channels, channels, 1)
        self.context = self.dilated.context

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(torch.relu(self.dilated(x)))
        return torch.relu(y + x[:, :, self.context :])


class DigitNet(nn.Module):
    """Log-mel frames (B, n_mels, T) → per-frame class logits (B, n_classes, T - RF + 1),
    RF = receptive_field."""

    def __init__(self, cfg: NetworkConfig = NetworkConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = CausalConv(cfg.n_mels, cfg.channels, cfg.stem_kernel, 1, cfg.separable)
        self.blocks = nn.ModuleList(
            ResidualBlock(cfg.channels, cfg.kernel, d, cfg.separable) for d in cfg.dilations
        )
        self.head = nn.Conv1d(cfg.channels, len(cfg.labels), 1)

    @property
    def layers(self) -> list[nn.Module]:
        """The layers that keep streaming state, in order."""
        return [self.stem, *self.blocks]

    @property
    def receptive_field(self) -> int:
        """Input frames that one output frame depends on, computed from the layers."""
        return 1 + sum(layer.context for layer in self.layers)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(frames))
        for block in self.blocks:
            x = block(x)
        return self.head(x)
