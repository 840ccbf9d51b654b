"""`spotter listen` through a real PortAudio capture device: a PulseAudio virtual microphone."""

from __future__ import annotations

import json
import select
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, fsdd_clip, pad
from virtual_mic import VirtualMic

pytestmark = pytest.mark.skipif(not shutil.which("pulseaudio"),
                                reason="pulseaudio missing: run scripts/install-system-deps.sh")


def wait_for_stderr(proc: subprocess.Popen, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.2)
        if ready:
            seen += proc.stderr.read1(4096)
            if text.encode() in seen:
                return
        if proc.poll() is not None:
            break
    raise AssertionError(f"spotter listen never printed {text!r}; stderr: {seen.decode()}")


def test_spoken_digit_into_the_microphone_comes_out_as_an_event(tmp_path):
    audio, rate = fsdd_clip("5_yweweler_3.wav")
    wav = tmp_path / "five.wav"
    up = np.interp(np.arange(len(audio) * 2) / 2, np.arange(len(audio)), audio)
    sf.write(wav, pad(up.astype(np.float32), 16000, 0.3), 16000)
    with VirtualMic(rate=16000) as mic:
        proc = subprocess.Popen([sys.executable, "-m", "spotter", "listen"], env=mic.env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for_stderr(proc, "listening")
            time.sleep(0.5)
            mic.play(wav)
            time.sleep(1.5)
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, stderr.decode()
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [e["digit"] for e in events] == [5]
    assert events[0]["source"] == "mic"
