"""The whole model: raw 16 kHz audio → log-mel → causal CNN → per-frame class posteriors."""

from __future__ import annotations

import torch
from torch import nn

from models.features import FrontEndConfig, LogMel
from models.network import DigitNet, NetworkConfig


class SpotterModel(nn.Module):
    def __init__(
        self, front: FrontEndConfig = FrontEndConfig(), net: NetworkConfig = NetworkConfig()
    ):
        super().__init__()
        self.front_end = LogMel(front)
        self.net = DigitNet(net)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.net.cfg.labels

    @property
    def warmup_samples(self) -> int:
        """Silence the stream starts from, so that every output frame sees a full field."""
        return (self.net.receptive_field - 1) * self.front_end.cfg.hop_length

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """Offline, valid: audio (B, N) → logits (B, n_classes, N // hop - receptive_field + 1)."""
        logmel, _ = self.front_end.frames(audio)
        return self.net(logmel)

    @torch.no_grad()
    def posteriors(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A stream as the runtime sees it (silence before it): audio (B, N) →
        posteriors (B, N // hop, n_classes) and frame energy in dB (B, N // hop)."""
        padded = nn.functional.pad(audio, (self.warmup_samples, 0))
        logmel, energy = self.front_end.frames(padded)
        probs = torch.softmax(self.net(logmel), dim=1).transpose(1, 2)
        warmup_frames = self.net.receptive_field - 1
        return probs, energy[:, warmup_frames:]
