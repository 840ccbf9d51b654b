"""End-to-end check of the virtual-mic route used by the streaming tests.

A subprocess records through ``sounddevice.InputStream`` (PortAudio -> ALSA
``default`` -> PulseAudio ``vmic.monitor``) while the test plays a known WAV
into the virtual mic; the recording must contain the WAV almost exactly.
"""

from __future__ import annotations

import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from virtual_mic import VirtualMic

RATE = 16000
RECORD_SECONDS = 3.0

RECORDER = """
import sys, time
import numpy as np, sounddevice as sd, soundfile as sf

out, seconds = sys.argv[1], float(sys.argv[2])
blocks, flags = [], set()

def callback(indata, frames, time_info, status):
    if status:
        flags.add(str(status))
    blocks.append(indata.copy())

with sd.InputStream(device=None, samplerate=16000, channels=1, dtype="int16",
                    blocksize=160, callback=callback):
    print("READY", flush=True)
    time.sleep(seconds)
audio = np.concatenate(blocks)[:, 0] if blocks else np.zeros(0, np.int16)
sf.write(out, audio, 16000, subtype="PCM_16")
print(f"callbacks={len(blocks)} samples={len(audio)} flags={sorted(flags)}", flush=True)
"""


def make_reference(path: Path) -> np.ndarray:
    """Write 100 ms of silence, then 0.5 s of tones and noise bursts; return it."""
    rng = np.random.default_rng(1234)
    t = np.arange(int(0.1 * RATE)) / RATE
    parts = [np.zeros(int(0.1 * RATE))]
    for freq in (440.0, 1250.0, 3100.0):
        parts.append(0.4 * np.sin(2 * np.pi * freq * t))
        parts.append(0.3 * rng.standard_normal(len(t)).clip(-3, 3) / 3)
    signal = np.concatenate(parts)
    pcm = np.round(signal * 32767 * 0.8).astype(np.int16)
    sf.write(path, pcm, RATE, subtype="PCM_16")
    return pcm


def best_match(recording: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Return (lag, normalised correlation) of ``reference`` inside ``recording``."""
    rec = recording.astype(np.float64)
    ref = reference.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(rec) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(ref, n)), n)
    valid = corr[: len(rec) - len(ref) + 1]  # lags where ref lies fully inside rec
    lag = int(np.argmax(np.abs(valid)))
    seg = rec[lag : lag + len(ref)]
    ncc = float(seg @ ref / np.sqrt((seg @ seg) * (ref @ ref) + 1e-20))
    return lag, ncc


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float) -> None:
    """Block until ``proc`` prints a line containing ``text``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        if text in line:
            return
    proc.kill()
    out, err = proc.communicate(timeout=5)
    pytest.fail(f"recorder did not print {text!r} within {timeout} s:\n{out}\n{err}")


@pytest.mark.skipif(shutil.which("pulseaudio") is None, reason="pulseaudio is not installed")
def test_virtual_mic_round_trip(tmp_path: Path) -> None:
    """Audio played into the virtual mic reaches a sounddevice InputStream intact."""
    ref_path, rec_path = tmp_path / "ref.wav", tmp_path / "rec.wav"
    reference = make_reference(ref_path)

    with VirtualMic(rate=RATE) as mic:
        proc = subprocess.Popen(
            [sys.executable, "-c", RECORDER, str(rec_path), str(RECORD_SECONDS)],
            env=mic.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_line(proc, "READY", timeout=20)
            time.sleep(0.3)
            mic.play(ref_path, timeout=10)
            out, err = proc.communicate(timeout=RECORD_SECONDS + 20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)

    assert proc.returncode == 0, f"recorder failed:\n{out}\n{err}"
    recording, rate = sf.read(rec_path, dtype="int16")
    assert rate == RATE
    # The keep-alive makes the mic continuous: ~3 s recorded in ~3 s.
    assert len(recording) >= 0.9 * RECORD_SECONDS * RATE, out
    lag, ncc = best_match(recording, reference)
    assert ncc > 0.99, f"ncc={ncc:.5f} lag={lag / RATE:.3f} s; recorder: {out}"
