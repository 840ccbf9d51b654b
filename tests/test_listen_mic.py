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

pytestmark = pytest.mark.skipif(
    not shutil.which("pulseaudio"), reason="pulseaudio missing: run scripts/install-system-deps.sh"
)


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


LIBRARY_LISTENER = """
import json, sys, time
from spotter import Spotter
from spotter.listener import Listener

events = []
with Listener(Spotter.load(source="mic"), on_event=events.append):
    print("listening", file=sys.stderr, flush=True)
    sys.stdin.readline()  # the test writes a line when the digit has been played
print(json.dumps([e.to_dict() for e in events]))
"""


@pytest.fixture(scope="module")
def mic():
    with VirtualMic(rate=16000) as started:
        yield started


@pytest.fixture(scope="module")
def spoken_five(tmp_path_factory):
    """A held-out speaker's "five" at 16 kHz with short silences around it."""
    audio, rate = fsdd_clip("5_yweweler_3.wav")
    wav = tmp_path_factory.mktemp("mic") / "five.wav"
    up = np.interp(np.arange(len(audio) * 2) / 2, np.arange(len(audio)), audio)
    sf.write(wav, pad(up.astype(np.float32), 16000, 0.3), 16000)
    return wav


def speak_into(mic, wav, command: list[str], finish) -> tuple[bytes, bytes]:
    """Start ``command`` on the virtual mic, play ``wav`` once it listens, then ``finish(proc)``
    (which must end it and return ``communicate()``'s output)."""
    proc = subprocess.Popen(
        command,
        env=mic.env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_stderr(proc, "listening")
        time.sleep(0.5)
        mic.play(wav)
        time.sleep(1.5)
        stdout, stderr = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr.decode()
    return stdout, stderr


def interrupt(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=30)


def test_spoken_digit_into_the_microphone_comes_out_as_an_event(mic, spoken_five):
    stdout, _ = speak_into(mic, spoken_five, [sys.executable, "-m", "spotter", "listen"], interrupt)
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [e["digit"] for e in events] == [5]
    assert events[0]["source"] == "mic"


def test_library_listener_hands_events_to_a_callback(mic, spoken_five):
    stdout, _ = speak_into(
        mic,
        spoken_five,
        [sys.executable, "-c", LIBRARY_LISTENER],
        lambda proc: proc.communicate(b"stop\n", timeout=30),
    )
    events = json.loads(stdout)
    assert [e["digit"] for e in events] == [5]
    assert events[0]["source"] == "mic" and events[0]["time"] > events[0]["end"]


def test_a_device_that_does_not_exist_is_a_one_line_error(mic):
    result = subprocess.run(
        [sys.executable, "-m", "spotter", "listen", "--device", "no-such-mic"],
        env=mic.env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.decode().strip().splitlines() == [
        "spotter: error: no input device matching 'no-such-mic' (see 'spotter devices')"
    ]


SLOW_CONSUMER = """
import time
from spotter.capture import Microphone

with Microphone(rate=16000, buffer_s=0.2) as mic:
    time.sleep(1.0)  # a consumer that falls behind: 1 s of audio into a 0.2 s ring buffer
    kept = len(mic.read(0))
    mic.report_losses()
    mic.report_losses()  # nothing new: says nothing
print(kept)
"""


def test_audio_lost_to_a_slow_consumer_is_counted_and_reported(mic):
    result = subprocess.run(
        [sys.executable, "-c", SLOW_CONSUMER],
        env=mic.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 3200  # the ring buffer keeps what fits, drops the newest
    warnings = [line for line in result.stderr.splitlines() if "fell behind" in line]
    assert len(warnings) == 1
    dropped_s = float(warnings[0].split("dropped ")[1].split(" s")[0])
    assert 0.6 < dropped_s < 1.0
