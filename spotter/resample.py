"""Any input rate and format → mono float32 at the model rate, streaming and stateful."""

from __future__ import annotations

import numpy as np

from spotter.errors import SpotterError

MIN_RATE, MAX_RATE = 4000, 384000
SAMPLE_RATE = 16000  # the models' rate


def to_mono_float(samples: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels), int16/int32/float → (n,) float32 in [-1, 1]; NaN/Inf become 0/±1."""
    samples = np.asarray(samples)
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / 32768.0
    elif samples.dtype == np.int32:
        samples = samples.astype(np.float32) / 2147483648.0
    elif samples.dtype.kind != "f":
        raise SpotterError(f"unsupported sample type {samples.dtype} (use float32 or int16)")
    if samples.ndim == 2:
        samples = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1)
    elif samples.ndim != 1:
        raise SpotterError(f"samples must be (n,) or (n, channels), got shape {samples.shape}")
    samples = samples.astype(np.float32, copy=False)
    if not np.isfinite(samples).all():
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(samples, -1.0, 1.0)


class Resampler:
    """Streaming resampler from ``rate`` to ``target`` (soxr); a pass-through when they match."""

    def __init__(self, rate: int, target: int) -> None:
        if not MIN_RATE <= rate <= MAX_RATE:
            raise SpotterError(f"unsupported sample rate {rate} Hz (must be {MIN_RATE}-{MAX_RATE})")
        self.rate, self.target = rate, target
        self.stream = None
        if rate != target:
            import soxr  # only when resampling: a 16 kHz input does not pay for its import

            self.stream = soxr.ResampleStream(rate, target, 1, dtype="float32")

    def __call__(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        if self.stream is None:
            return samples
        return self.stream.resample_chunk(samples, last=last)


def resample_whole(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """A whole signal (n,) or (n, channels) at ``rate`` → mono float32 at ``target``, through
    the same streaming resampler the runtime uses."""
    return Resampler(rate, target)(to_mono_float(samples), last=True)
