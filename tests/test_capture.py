"""Microphone settings against a device that refuses 16 kHz and mono (a stand-in for
sounddevice; the real PortAudio path is tests/test_listen_mic.py)."""

from __future__ import annotations

import numpy as np
import pytest

from spotter import capture
from spotter.errors import SpotterError
from spotter.resample import to_mono_float


class FakeSoundDevice:
    """One stereo input device that only opens at 44.1 kHz with two channels."""

    PortAudioError = RuntimeError

    def __init__(self) -> None:
        self.opened: dict = {}

    def query_hostapis(self):
        return [{"name": "ALSA"}]

    def query_devices(self, device=None, kind=None):
        info = {
            "index": 3,
            "name": "USB Stereo Mic",
            "hostapi": 0,
            "max_input_channels": 2,
            "default_samplerate": 44100.0,
        }
        return info if kind else [info]

    def check_input_settings(self, device, channels, samplerate, dtype):
        if samplerate != 44100 or channels != 2:
            raise self.PortAudioError("Invalid sample rate or channel count")

    def InputStream(self, **settings):  # noqa: N802 (sounddevice's name)
        self.opened = settings
        return object()


@pytest.fixture
def device(monkeypatch) -> FakeSoundDevice:
    fake = FakeSoundDevice()
    monkeypatch.setattr(capture, "sounddevice", lambda: fake)
    return fake


def test_a_device_without_16_khz_is_opened_at_its_own_rate(device):
    mic = capture.Microphone("usb")
    assert mic.rate == 44100 and device.opened["samplerate"] == 44100
    assert device.opened["blocksize"] == 441  # 10 ms
    assert "at 44100 Hz" in mic.describe()


def test_a_device_without_mono_is_mixed_to_mono(device):
    mic = capture.Microphone("3")
    assert mic.channels == 2
    mic.ring.write(np.array([[0.2, 0.4], [-1.0, 1.0]], np.float32))
    audio, _ = mic.read(0)
    assert to_mono_float(audio).tolist() == pytest.approx([0.3, 0.0])  # as Spotter.feed mixes


def test_channel_keeps_one_side(device):
    mic = capture.Microphone(None, channel=2)
    mic.ring.write(np.array([[0.2, 0.4], [-1.0, 1.0]], np.float32))
    assert mic.read(0)[0].tolist() == pytest.approx([0.4, 1.0])


def test_a_rate_the_device_refuses_is_a_clear_error(device):
    def refuse(**settings):
        raise device.PortAudioError("Invalid sample rate")

    device.InputStream = refuse
    with pytest.raises(SpotterError, match="cannot open input device USB Stereo Mic"):
        capture.Microphone(rate=16000)
