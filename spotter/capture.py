"""Microphone capture through PortAudio (sounddevice): callback → ring buffer.

The device is opened at 16 kHz when it supports it, else at its native rate (the Spotter then
resamples with soxr); mono is one chosen channel or the mean of the channels it delivers.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from spotter.errors import SpotterError
from spotter.ring_buffer import Gap, RingBuffer

log = logging.getLogger("spotter")

STALL_S = 2.0  # no audio for this long from a running stream: the device is gone
LATE_S = 1.0  # a read this late, or this much waiting for a CPU: this process was starved


class DeviceLost(SpotterError):
    """The input stream died or stalled (device unplugged, sound server restarted)."""


def cpu_wait_s() -> float:
    """Seconds this process's threads have spent ready to run but waiting for a CPU (Linux's
    per-thread schedstat; 0.0 where there is none)."""
    total = 0
    for stat in Path("/proc/self/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[1])
        except (OSError, IndexError, ValueError):  # a thread that ended meanwhile
            continue
    return total / 1e9


def sounddevice() -> Any:
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio library itself is missing
        raise SpotterError(f"PortAudio is not available ({exc}); install libportaudio2") from exc
    return sd


def rescan_devices() -> None:
    """Make PortAudio enumerate the devices again (it lists them once, when it starts); this
    stops every open stream of the process."""
    sd = sounddevice()
    sd._terminate()
    sd._initialize()


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


def resolve_device(device: str | None) -> dict:
    """``None`` (system default), an index, or a case-insensitive name substring → the device."""
    devices = input_devices()
    if not devices:
        raise SpotterError(
            "no audio input device found (is a microphone connected and a sound "
            "server running? see 'spotter devices')"
        )
    if device is None:
        try:
            default = sounddevice().query_devices(kind="input")
        except Exception as exc:
            raise SpotterError(f"no default input device ({exc}); pick one with --device") from exc
        return next((d for d in devices if d["name"] == default["name"]), devices[0])
    if device.isdigit():
        matches = [d for d in devices if d["index"] == int(device)]
        if not matches:
            raise SpotterError(f"no input device with index {device} (see 'spotter devices')")
        return matches[0]
    matches = [d for d in devices if device.lower() in d["name"].lower()]
    if not matches:
        raise SpotterError(f"no input device matching {device!r} (see 'spotter devices')")
    return matches[0]


class Microphone:
    """Captures one input device into a ring buffer; ``read()`` returns what arrived.

    device: index or name substring (None: the system default). rate: None for 16 kHz when
    the device supports it, else its default rate. channel: 1-based channel to keep (None: mono
    from the device if it offers it, else the mean of the channels it delivers).

    The callback copies the frames into the preallocated ring buffer and does nothing else;
    overflows inside PortAudio and in the ring buffer are both counted.
    """

    def __init__(
        self,
        device: str | None = None,
        rate: int | None = None,
        channel: int | None = None,
        buffer_s: float = 10.0,
        preferred_rate: int = 16000,
    ) -> None:
        self.sd = sounddevice()
        self.info = resolve_device(device)
        self.channel = channel
        if channel is not None and not 1 <= channel <= self.info["channels"]:
            raise SpotterError(
                f"--channel {channel}: {self.info['name']} has {self.info['channels']} channel(s)"
            )
        # channel 1 of a stereo device is its left side, not the device's own mono mix
        self.channels = min(max(channel, 2), self.info["channels"]) if channel else self.mono()
        self.rate = rate or self.supported_rate(preferred_rate)
        self.ring = RingBuffer(int(buffer_s * self.rate), self.channels)
        self.input_overflows = 0
        self.reported_dropped = self.reported_overflows = 0
        self.last_audio = self.last_read = time.monotonic()
        self.cpu_wait_at_silence: float | None = None
        try:
            self.stream = self.sd.InputStream(
                device=self.info["index"],
                samplerate=self.rate,
                channels=self.channels,
                dtype="float32",
                blocksize=self.rate // 100,
                callback=self.callback,
            )
        except Exception as exc:
            raise SpotterError(f"cannot open input device {self.info['name']}: {exc}") from exc

    def accepts(self, channels: int, rate: float) -> bool:
        try:
            self.sd.check_input_settings(
                device=self.info["index"], channels=channels, samplerate=rate, dtype="float32"
            )
        except Exception:
            return False
        return True

    def mono(self) -> int:
        """Channels to open for a mono mix: one if the device mixes itself, else the fewest."""
        native = self.info["default_samplerate"]
        return next((n for n in (1, 2) if self.accepts(n, native)), self.info["channels"])

    def supported_rate(self, preferred: int) -> int:
        if self.accepts(self.channels, preferred):
            return preferred
        native = int(self.info["default_samplerate"])
        log.info("%s does not take %d Hz: capturing at %d Hz", self.info["name"], preferred, native)
        return native

    def callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.input_overflow:
            self.input_overflows += 1
        self.ring.write(indata)

    def __enter__(self) -> Microphone:
        try:
            self.stream.start()
        except self.sd.PortAudioError as exc:
            self.stream.close()
            raise SpotterError(f"cannot start input device {self.name}: {exc}") from exc
        self.last_audio = self.last_read = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stream.stop()
            self.stream.close()
        except self.sd.PortAudioError as error:  # a stream whose device is gone
            log.debug("closing the input stream: %s", error)

    @property
    def name(self) -> str:
        return str(self.info["name"])

    def describe(self) -> str:
        mono = f"channel {self.channel}" if self.channel else f"{self.channels} channel(s) mixed"
        return f"{self.name} at {self.rate} Hz, {mono}"

    def read(self, timeout: float = 0.1) -> tuple[np.ndarray, list[Gap]]:
        """Audio captured since the last read, and the gaps (dropped audio) in it: the chosen
        channel (n,), else every channel opened (n, channels), which ``Spotter.feed`` mixes.
        Raises DeviceLost when the stream has died or delivered nothing for STALL_S of reads
        that came on time while the process got the CPU it asked for."""
        frames, gaps = self.ring.read(timeout)
        now = time.monotonic()
        late = now - self.last_read > timeout + LATE_S
        self.last_read = now
        if len(frames) or gaps or late:
            # When this process got no CPU for a while, neither did its audio callback: the
            # silence is its own doing, not the device's, so the stall is counted from now.
            self.last_audio, self.cpu_wait_at_silence = now, None
        elif not self.stream.active:
            raise DeviceLost(f"the input stream of {self.name} stopped")
        elif self.cpu_wait_at_silence is None:
            self.cpu_wait_at_silence = cpu_wait_s()
        elif now - self.last_audio > STALL_S:
            waited = cpu_wait_s() - self.cpu_wait_at_silence
            if waited > LATE_S:  # reads came on time, but the callback's thread was starved
                log.debug(
                    "no audio for %.1f s while spotter waited %.1f s for a CPU: not the device",
                    now - self.last_audio,
                    waited,
                )
                self.last_audio, self.cpu_wait_at_silence = now, None
            else:
                raise DeviceLost(f"no audio from {self.name} for {now - self.last_audio:.1f} s")
        return (frames[:, self.channel - 1] if self.channel else frames), gaps

    def report_losses(self) -> None:
        """Say on stderr, once each, how much audio was lost since the last call: frames the
        ring buffer dropped (the consumer fell behind) and PortAudio input overflows."""
        dropped, overflows = self.ring.dropped, self.input_overflows
        if dropped > self.reported_dropped:
            log.warning(
                "processing fell behind, dropped %.3f s of audio (%.3f s in total)",
                (dropped - self.reported_dropped) / self.rate,
                dropped / self.rate,
            )
        if overflows > self.reported_overflows:
            log.warning(
                "the input device overflowed %d time(s) (%d in total): audio was lost before "
                "spotter saw it",
                overflows - self.reported_overflows,
                overflows,
            )
        self.reported_dropped, self.reported_overflows = dropped, overflows
