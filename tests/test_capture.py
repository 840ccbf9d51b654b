"""Microphone settings against a device that refuses 16 kHz and mono (a stand-in for
sounddevice; the real PortAudio path is tests/test_listen_mic.py)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

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


class Clock:
    """A stand-in for time.monotonic that the test moves by hand, and for the process's time
    spent waiting for a CPU."""

    def __init__(self) -> None:
        self.now = 100.0
        self.cpu_wait = 0.0

    def __call__(self) -> float:
        return self.now


def running_microphone(device, monkeypatch) -> tuple[capture.Microphone, Clock]:
    device.InputStream = lambda **settings: type("Stream", (), {"active": True})()
    clock = Clock()
    monkeypatch.setattr(capture.time, "monotonic", clock)
    monkeypatch.setattr(capture, "cpu_wait_s", lambda: clock.cpu_wait)
    return capture.Microphone("usb"), clock


def test_a_device_that_sends_nothing_to_reads_on_time_is_lost(device, monkeypatch):
    mic, clock = running_microphone(device, monkeypatch)
    for _ in range(20):  # 2.0 s of empty 0.1 s reads
        clock.now += 0.1
        mic.read(0)
    clock.now += 0.1
    with pytest.raises(capture.DeviceLost, match="no audio from USB Stereo Mic for 2.1 s"):
        mic.read(0)


def test_silence_while_this_process_was_starved_is_not_blamed_on_the_device(device, monkeypatch):
    """No CPU for 3 s (a hog, a suspended laptop): the audio callback did not run either, so the
    first read afterwards finds nothing; the device gets STALL_S of on-time reads to deliver."""
    mic, clock = running_microphone(device, monkeypatch)
    clock.now += 3.0
    mic.read(0)
    for _ in range(19):
        clock.now += 0.1
        mic.read(0)
    mic.ring.write(np.zeros((441, 2), np.float32))  # the backlog arrives
    clock.now += 0.1
    assert len(mic.read(0)[0]) == 441


def test_silence_while_the_callback_waited_for_a_cpu_is_not_blamed_on_the_device(
    device, monkeypatch, caplog
):
    """A hog takes the CPU from the audio callback's thread while the reads still come on time
    (they get the odd slice): the threads' wait for a CPU, not the device, explains the silence."""
    mic, clock = running_microphone(device, monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="spotter"):
        for _ in range(30):  # 3 s of empty reads, on time; two threads kept waiting throughout
            clock.now += 0.1
            clock.cpu_wait += 0.2
            mic.read(0)
    mic.ring.write(np.zeros((441, 2), np.float32))  # the backlog arrives
    clock.now += 0.1
    assert len(mic.read(0)[0]) == 441
    assert "no audio for 2.1 s while spotter waited 4.0 s for a CPU" in caplog.text


def test_the_wait_for_a_cpu_grows_while_a_thread_shares_its_core_with_a_busy_process():
    """cpu_wait_s reads Linux's schedstat: 0.4 s of spinning on a core that a busy process
    also wants leaves this thread waiting for a good part of it."""
    core = min(os.sched_getaffinity(0))
    kept = os.sched_getaffinity(0)
    hog = subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(0, {core})
        time.sleep(0.2)  # the hog is running
        before = capture.cpu_wait_s()
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            pass
        waited = capture.cpu_wait_s() - before
    finally:
        os.sched_setaffinity(0, kept)
        hog.kill()
        hog.wait()
    assert waited > 0.1
