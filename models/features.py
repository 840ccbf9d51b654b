"""Log-mel front end as one strided convolution, identical offline and streaming.

Framing, window and DFT are folded into a single ``conv1d`` (kernel = window, stride = hop),
so the exported ONNX graph needs no STFT operator and each new hop costs one frame's worth of
work. Frame ``j`` covers samples ``[hop*j - context, hop*j + hop)`` of the stream, where
``context = win_length - hop`` samples precede the stream as zeros (or, when streaming, come
from the audio cache).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torchaudio
from torch import nn


@dataclass(frozen=True)
class FrontEndConfig:
    sample_rate: int = 16000
    win_length: int = 400  # 25 ms
    hop_length: int = 160  # 10 ms
    n_mels: int = 40
    f_min: float = 20.0
    f_max: float = 4000.0  # FSDD and phone audio carry nothing above 4 kHz
    eps: float = 1e-6

    @property
    def context(self) -> int:
        """Samples of the previous hops that a new frame still needs (the window overlap)."""
        return self.win_length - self.hop_length


def dft_kernel(cfg: FrontEndConfig, n_bins: int) -> torch.Tensor:
    """Windowed real DFT of the first ``n_bins`` bins as conv weights:
    (2 * n_bins, 1, win_length), cosines then sines."""
    n = torch.arange(cfg.win_length, dtype=torch.int64)
    k = torch.arange(n_bins, dtype=torch.int64)
    window = torch.hann_window(cfg.win_length, periodic=True, dtype=torch.float64)
    # k·n mod N keeps the phase in [0, 2π): exact in any precision (the ONNX graph rebuilds it so)
    phase = 2 * math.pi * ((k[:, None] * n[None, :]) % cfg.win_length) / cfg.win_length
    kernel = torch.cat([torch.cos(phase), -torch.sin(phase)]) * window
    return kernel.float().unsqueeze(1)


class LogMel(nn.Module):
    """Raw audio (B, context + hop * T) → log-mel frames (B, n_mels, T) and frame energy in dB
    (B, T).

    No per-clip normalisation: a fixed ``log(mel + eps)``, so that streaming and training see the
    same numbers. A fixed per-bin mean/std (from training data) is applied after the log.
    """

    def __init__(self, cfg: FrontEndConfig = FrontEndConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        fbank = torchaudio.functional.melscale_fbanks(
            n_freqs=cfg.win_length // 2 + 1,
            f_min=cfg.f_min,
            f_max=cfg.f_max,
            n_mels=cfg.n_mels,
            sample_rate=cfg.sample_rate,
            norm="slaney",
            mel_scale="slaney",
        )
        # DFT bins above f_max have no mel weight: leave them out of the transform altogether.
        n_bins = int(torch.nonzero(fbank.sum(dim=1))[-1]) + 1
        self.register_buffer("dft", dft_kernel(cfg, n_bins), persistent=False)
        self.register_buffer("mel_fbank", fbank[:n_bins].T.contiguous())  # (n_mels, n_bins)
        self.register_buffer("mean", torch.zeros(cfg.n_mels, 1))
        self.register_buffer("inv_std", torch.ones(cfg.n_mels, 1))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = nn.functional.conv1d(audio.unsqueeze(1), self.dft, stride=self.cfg.hop_length)
        n_bins = self.mel_fbank.shape[1]  # a constant in the exported graph, not Shape arithmetic
        power = spec[:, :n_bins] ** 2 + spec[:, n_bins:] ** 2
        mel = torch.matmul(self.mel_fbank, power)
        energy_db = 10.0 * torch.log10(mel.sum(dim=1) + self.cfg.eps)
        logmel = (torch.log(mel + self.cfg.eps) - self.mean) * self.inv_std
        return logmel, energy_db

    @property
    def mel_centres_hz(self) -> torch.Tensor:
        """(n_mels,) the centre of gravity of each mel filter, in Hz."""
        freqs = torch.arange(self.mel_fbank.shape[1]) * self.cfg.sample_rate / self.cfg.win_length
        return (self.mel_fbank * freqs).sum(dim=1) / self.mel_fbank.sum(dim=1)

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Fix the per-bin normalisation (n_mels,) measured on training audio."""
        self.mean.copy_(mean.reshape(-1, 1))
        self.inv_std.copy_(1.0 / std.clamp_min(1e-3).reshape(-1, 1))

    def frames(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Offline: whole utterances (B, N) → (B, n_mels, N // hop), zeros before the start."""
        n_frames = audio.shape[-1] // self.cfg.hop_length
        padded = nn.functional.pad(
            audio[..., : n_frames * self.cfg.hop_length], (self.cfg.context, 0)
        )
        return self.forward(padded)
