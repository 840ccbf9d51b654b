"""Microphone capture through PortAudio (sounddevice): callback → ring buffer."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from spotter.errors import SpotterError
from spotter.ring_buffer import RingBuffer


def sounddevice() -> Any:
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio library itself is missing
        raise SpotterError(f"PortAudio is not available ({exc}); install libportaudio2") from exc
    return sd


def input_devices() -> list[dict]:
    """Input-capable devices: index, name, host API, channels, default sample rate."""
    sd = sounddevice()
    apis = sd.query_hostapis()
    return [
        {"index": d["index"], "name": d["name"], "hostapi": apis[d["hostapi"]]["name"],
         "channels": d["max_input_channels"], "default_samplerate": d["default_samplerate"]}
        for d in sd.query_devices() if d["max_input_channels"] > 0
    ]


def resolve_device(device: str | None) -> int | None:
    """``None`` (system default), an index, or a case-insensitive name substring → device index."""
    if device is None:
        return None
    devices = input_devices()
    if device.isdigit():
        if any(d["index"] == int(device) for d in devices):
            return int(device)
        raise SpotterError(f"no input device with index {device} (see 'spotter devices')")
    matches = [d for d in devices if device.lower() in d["name"].lower()]
    if not matches:
        raise SpotterError(f"no input device matching {device!r} (see 'spotter devices')")
    return matches[0]["index"]


class Microphone:
    """Captures mono float32 audio into a ring buffer; ``read()`` returns what has arrived.

    The callback copies the first channel into the preallocated ring buffer and does nothing
    else; overflows inside PortAudio and in the ring buffer are both counted.
    """

    def __init__(self, device: str | None = None, rate: int = 16000, buffer_s: float = 10.0,
                 block: int = 160) -> None:
        self.sd = sounddevice()
        self.device = resolve_device(device)
        self.rate = rate
        self.ring = RingBuffer(int(buffer_s * rate))
        self.input_overflows = 0
        try:
            self.stream = self.sd.InputStream(
                device=self.device, samplerate=rate, channels=1, dtype="float32",
                blocksize=block, callback=self.callback)
        except Exception as exc:
            raise SpotterError(f"cannot open input device {device or 'default'}: {exc}") from exc

    def callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.input_overflow:
            self.input_overflows += 1
        self.ring.write(indata[:, 0])

    def __enter__(self) -> Microphone:
        self.stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.stop()
        self.stream.close()

    def read(self, timeout: float = 0.1) -> np.ndarray:
        return self.ring.read(timeout)

    @property
    def active(self) -> bool:
        return bool(self.stream.active)

    def report_overflow(self, reported: int) -> int:
        """Log newly dropped audio on stderr; returns the dropped total to pass next time."""
        dropped = self.ring.dropped
        if dropped > reported:
            print(f"spotter: warning: consumer fell behind, dropped {(dropped - reported) / self.rate:.3f} s "
                  f"of audio ({dropped / self.rate:.3f} s in total)", file=sys.stderr, flush=True)
        return dropped
