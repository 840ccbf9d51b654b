"""Causal, valid-padding residual 1D CNN over log-mel frames.

Every convolution is "valid" (no padding): an output frame only ever sees real input frames at or
before it. Offline, a sequence of T frames gives T - (receptive_field - 1) outputs and residuals
are cropped to the valid length. Streaming, each convolution keeps the last
``dilation * (kernel - 1)`` input frames as explicit state, so k new frames cost k frames of work
whatever the receptive field.
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


class CausalConv(nn.Module):
    """Valid conv + batch norm. ``context`` = input frames it needs before its first output."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation, bias=False)
        self.norm = nn.BatchNorm1d(c_out)
        self.context = dilation * (kernel - 1)

    def forward(self, x: torch.Tensor, cache: torch.Tensor | None = None):
        """x: (B, C_in, T). Offline → (B, C_out, T - context). With cache (B, C_in, context):
        → (B, C_out, T) and the new cache."""
        if cache is None:
            return self.norm(self.conv(x))
        joined = torch.cat([cache, x], dim=2)
        return self.norm(self.conv(joined)), joined[:, :, -self.context :]


class ResidualBlock(nn.Module):
    """Dilated causal conv → ReLU → 1×1 conv, plus the input cropped to the valid length."""

    def __init__(self, channels: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.dilated = CausalConv(channels, channels, kernel, dilation)
        self.pointwise = CausalConv(channels, channels, 1)
        self.context = self.dilated.context

    def forward(self, x: torch.Tensor, cache: torch.Tensor | None = None):
        if cache is None:
            y = self.pointwise(torch.relu(self.dilated(x)))
            return torch.relu(y + x[:, :, self.context :])
        h, new_cache = self.dilated(x, cache)
        return torch.relu(self.pointwise(torch.relu(h)) + x), new_cache


class DigitNet(nn.Module):
    """Log-mel frames (B, n_mels, T) → per-frame class logits (B, n_classes, T - RF + 1),
    RF = receptive_field."""

    def __init__(self, cfg: NetworkConfig = NetworkConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = CausalConv(cfg.n_mels, cfg.channels, cfg.stem_kernel)
        self.blocks = nn.ModuleList(
            ResidualBlock(cfg.channels, cfg.kernel, d) for d in cfg.dilations
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

    def step(self, frames: torch.Tensor, caches: list[torch.Tensor]):
        """Streaming: k new frames (B, n_mels, k) + one cache per layer → logits (B, n_classes, k)
        and the new caches."""
        x, stem_cache = self.stem(frames, caches[0])
        x = torch.relu(x)
        new_caches = [stem_cache]
        for block, cache in zip(self.blocks, caches[1:], strict=True):
            x, cache = block(x, cache)
            new_caches.append(cache)
        return self.head(x), new_caches

    def cache_shapes(self, batch: int = 1) -> list[tuple[int, int, int]]:
        return [(batch, self.cfg.n_mels, self.stem.context)] + [
            (batch, self.cfg.channels, block.context) for block in self.blocks
        ]
