"""`spotter listen` through a real PortAudio capture device: a PulseAudio virtual microphone."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import REPO, fsdd_clip, pad, run_spotter
from virtual_mic import VirtualMic

pytestmark = pytest.mark.skipif(
    not shutil.which("pulseaudio"), reason="pulseaudio missing: run scripts/install-system-deps.sh"
)


class Stderr:
    """Everything a running process has written to stderr so far, read without blocking."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc, self.seen = proc, b""

    def wait_for(self, text: str, timeout: float = 30.0, after: int = 0) -> int:
        """Wait until ``text`` appears at or after byte ``after``; return where it ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.seen.find(text.encode(), after)
            if found >= 0:
                return found + len(text)
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if ready:
                self.seen += self.proc.stderr.read1(4096)
            elif self.proc.poll() is not None:
                break
        raise AssertionError(f"never printed {text!r}; stderr: {self.seen.decode()}")

    def rest(self, tail: bytes) -> str:
        return (self.seen + tail).decode()


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


def start(mic, command: list[str]) -> tuple[subprocess.Popen, Stderr]:
    """``command`` on the virtual mic, once it says it is listening."""
    proc = subprocess.Popen(
        command,
        env=mic.env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stderr = Stderr(proc)
    try:
        stderr.wait_for("listening")
    except BaseException:
        proc.kill()
        raise
    return proc, stderr


def speak_into(mic, wav, command: list[str], finish, before=None) -> tuple[bytes, str]:
    """Start ``command`` on the virtual mic, call ``before(proc, stderr)`` if given, play ``wav``
    (if any), then ``finish(proc)`` (which must end it and return ``communicate()``'s output);
    → stdout, all of stderr."""
    proc, stderr = start(mic, command)
    try:
        if before:
            before(proc, stderr)
        if wav:
            time.sleep(0.5)
            mic.play(wav)
        time.sleep(1.5)
        stdout, tail = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr.rest(tail)
    return stdout, stderr.rest(tail)


def events_of(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


def interrupt(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=30)


def test_spoken_digit_into_the_microphone_comes_out_as_an_event(mic, spoken_five):
    stdout, _ = speak_into(mic, spoken_five, [sys.executable, "-m", "spotter", "listen"], interrupt)
    events = events_of(stdout)
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
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        "spotter: error: no input device matching 'no-such-mic' (see 'spotter devices')"
    ]


def test_a_channel_the_device_does_not_have_is_a_one_line_error(mic):
    result = subprocess.run(
        listen_command("--channel", "64"), env=mic.env, cwd=REPO, capture_output=True, timeout=60
    )
    assert result.returncode == 2
    [line] = result.stderr.decode().strip().splitlines()
    assert line.startswith("spotter: error: --channel 64: ") and "channel(s)" in line


SLOW_CONSUMER = """
import time
from spotter.capture import Microphone

with Microphone(rate=16000, buffer_s=0.2) as mic:
    time.sleep(1.0)  # a consumer that falls behind: 1 s of audio into a 0.2 s ring buffer
    audio, gaps = mic.read(0)
    mic.report_losses()
    mic.report_losses()  # nothing new: says nothing
print(len(audio), sum(g.frames for g in gaps), min(g.offset for g in gaps), mic.ring.dropped)
"""


def test_audio_lost_to_a_slow_consumer_is_counted_reported_and_placed(mic):
    result = subprocess.run(
        [sys.executable, "-c", SLOW_CONSUMER],
        env=mic.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    kept, lost, first_gap_at, dropped = map(int, result.stdout.split())
    assert kept == 3200  # the ring buffer keeps what fits, drops the newest
    assert first_gap_at == 3200 and lost == dropped  # every lost frame is placed after them
    warnings = [line for line in result.stderr.splitlines() if "fell behind" in line]
    assert len(warnings) == 1
    dropped_s = float(warnings[0].split("dropped ")[1].split(" s")[0])
    assert dropped_s == pytest.approx(dropped / 16000, abs=0.001) and 0.6 < dropped_s < 1.0


def resampled(path, rate: int, folder, channel_of: int = 0) -> str:
    """``path`` at ``rate``; with ``channel_of`` = 2 as the right channel of a stereo WAV whose
    left channel is silent."""
    audio, source_rate = sf.read(path, dtype="float32")
    audio = soxr.resample(audio, source_rate, rate).astype(np.float32)
    if channel_of:
        silent = np.zeros_like(audio)
        audio = np.stack([silent, audio] if channel_of == 2 else [audio, silent], axis=1)
    out = folder / f"{rate}-{channel_of}.wav"
    sf.write(out, audio, rate)
    return str(out)


def listen_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "spotter", "listen", *options]


@pytest.mark.parametrize("rate", [16000, 48000])
def test_digits_spoken_into_the_microphone_come_out_in_order_and_in_time(
    rate, heldout_sequence, tmp_path
):
    path, digits = heldout_sequence
    with VirtualMic(rate=rate) as mic:
        stdout, stderr = speak_into(
            mic, resampled(path, rate, tmp_path), listen_command("--rate", str(rate)), interrupt
        )
    events = events_of(stdout)
    assert [e["digit"] for e in events] == digits
    assert f"at {rate} Hz" in stderr
    from_file = events_of(run_spotter("detect", str(path)).stdout)
    offsets = [live["end"] - filed["end"] for live, filed in zip(events, from_file, strict=True)]
    assert max(offsets) - min(offsets) < 0.03  # the live clock runs with the audio


def test_channel_picks_one_side_of_a_stereo_microphone(heldout_sequence, tmp_path):
    path, digits = heldout_sequence
    right_only = resampled(path, 16000, tmp_path, channel_of=2)
    with VirtualMic(rate=16000, channels=2) as mic:
        right, stderr = speak_into(mic, right_only, listen_command("--channel", "2"), interrupt)
        left, _ = speak_into(mic, right_only, listen_command("--channel", "1"), interrupt)
    assert [e["digit"] for e in events_of(right)] == digits
    assert "channel 2" in stderr
    assert events_of(left) == []


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_listen_waits_for_a_lost_device_and_resumes(heldout_sequence, spoken_five, tmp_path):
    path, digits = heldout_sequence
    outage = {}

    def lose_the_device(proc, stderr):
        time.sleep(0.5)
        mic.play(spoken_five)
        time.sleep(1.0)
        mic.kill_server()
        outage["lost"] = stderr.wait_for("waiting for the device")
        cpu_before = cpu_seconds(proc.pid)
        time.sleep(3.0)
        outage["cpu"] = cpu_seconds(proc.pid) - cpu_before
        mic.restart_server()
        outage["back"] = stderr.wait_for("is back", after=outage["lost"])
        stderr.wait_for("listening", after=outage["back"])

    with VirtualMic(rate=16000) as mic:
        stdout, _ = speak_into(
            mic, resampled(path, 16000, tmp_path), listen_command(), interrupt, lose_the_device
        )
    events = events_of(stdout)
    assert [e["digit"] for e in events] == [5, *digits]
    assert events[1]["start"] - events[0]["end"] > 3.0  # the outage counts as stream time
    assert outage["cpu"] < 0.5  # waiting for the device does not spin


def test_a_cpu_hog_drops_audio_which_is_reported_and_kept_in_the_clock(spoken_five):
    """`listen` at the lowest CPU priority (SCHED_IDLE) shares one core with two busy loops
    for 3 s: more audio piles up than its 0.5 s ring buffer holds. The loss is reported, and
    the digits before and after it are heard with the true time between them."""
    core = str(min(os.sched_getaffinity(0)))
    starved = ["taskset", "-c", core, "chrt", "--idle", "0"]
    plays = []

    def hog_the_cpu(proc, stderr):
        time.sleep(0.5)
        mic.play(spoken_five)
        plays.append(time.monotonic())
        hogs = [
            subprocess.Popen(["taskset", "-c", core, sys.executable, "-c", "while True: pass"])
            for _ in range(2)
        ]
        time.sleep(3.0)
        for hog in hogs:
            hog.kill()
            hog.wait()
        time.sleep(1.0)
        mic.play(spoken_five)
        plays.append(time.monotonic())

    with VirtualMic(rate=16000) as mic:
        command = [*starved, *listen_command("--buffer", "0.5")]
        stdout, stderr = speak_into(mic, None, command, interrupt, hog_the_cpu)
    dropped = [
        float(line.split("dropped ")[1].split(" s")[0])
        for line in stderr.splitlines()
        if "fell behind" in line
    ]
    assert sum(dropped) > 0.5, stderr
    events = events_of(stdout)
    assert [e["digit"] for e in events] == [5, 5]
    assert events[1]["end"] - events[0]["end"] == pytest.approx(plays[1] - plays[0], abs=0.2)
