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
        {
            "index": d["index"],
            "name": d["name"],
            "hostapi": apis[d["hostapi"]]["name"],
            "channels": d["max_input_channels"],
            "default_samplerate": d["default_samplerate"],
        }
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
    ]


def resolve_device(device: str | None) -> int | None:
    """``None`` (system default), an index, or a case-insensitive name substring → device index."""
    devices = input_devices()
    if not devices:
        raise SpotterError(
            "no audio input device found (is a microphone connected and a sound "
            "server running? see 'spotter devices')"
        )
    if device is None:
        return None
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

    def __init__(
        self, device: str | None = None, rate: int = 16000, buffer_s: float = 10.0, block: int = 160
    ) -> None:
        self.sd = sounddevice()
        self.device = resolve_device(device)
        self.rate = rate
        self.ring = RingBuffer(int(buffer_s * rate))
        self.input_overflows = 0
        self.reported_dropped = self.reported_overflows = 0
        try:
            self.stream = self.sd.InputStream(
                device=self.device,
                samplerate=rate,
                channels=1,
                dtype="float32",
                blocksize=block,
                callback=self.callback,
            )
        except Exception as exc:
            raise SpotterError(f"cannot open input device {device or 'default'}: {exc}") from exc

    def callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.input_overflow:
            self.input_overflows += 1
        self.ring.write(indata[:, 0])

    def __enter__(self) -> Microphone:
        try:
            self.stream.start()
        except self.sd.PortAudioError as exc:
            self.stream.close()
            raise SpotterError(f"cannot start input device {self.name}: {exc}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.stop()
        self.stream.close()

    @property
    def name(self) -> str:
        """The name of the device actually opened (the system default when none was asked for)."""
        return str(self.sd.query_devices(self.stream.device)["name"])

    def read(self, timeout: float = 0.1) -> np.ndarray:
        return self.ring.read(timeout)

    @property
    def active(self) -> bool:
        return bool(self.stream.active)

    def report_losses(self) -> None:
        """Say on stderr, once each, how much audio was lost since the last call: samples the
        ring buffer dropped (the consumer fell behind) and PortAudio input overflows."""
        dropped, overflows = self.ring.dropped, self.input_overflows
        if dropped > self.reported_dropped:
            print(
                f"spotter: warning: processing fell behind, dropped "
                f"{(dropped - self.reported_dropped) / self.rate:.3f} s of audio "
                f"({dropped / self.rate:.3f} s in total)",
                file=sys.stderr,
                flush=True,
            )
        if overflows > self.reported_overflows:
            print(
                f"spotter: warning: the input device overflowed "
                f"{overflows - self.reported_overflows} time(s) ({overflows} in total): "
                "audio was lost before spotter saw it",
                file=sys.stderr,
                flush=True,
            )
        self.reported_dropped, self.reported_overflows = dropped, overflows
