"""Audio sources other than the microphone: files (soundfile) and raw s16le on stdin.

Both yield blocks of samples at the source's own rate, so a long file is streamed, never loaded.
Training and evaluation also read short clips whole at 16 kHz, and build noise beds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from spotter.errors import SpotterError
from spotter.resample import SAMPLE_RATE, resample_whole

BLOCK_FRAMES = 16000


def open_audio(path: Path) -> sf.SoundFile:
    if not path.exists():
        raise SpotterError("no such file")
    if path.is_dir():
        raise SpotterError("is a directory")
    try:
        audio = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        detail = str(exc).split(": ", 1)[-1] if path.stat().st_size else "file is empty"
        raise SpotterError(f"not a readable audio file ({detail})") from exc
    if audio.frames == 0:
        audio.close()
        raise SpotterError("contains no audio samples")
    return audio


def read_file(path: Path, block: int = BLOCK_FRAMES) -> Iterator[tuple[np.ndarray, int]]:
    """Blocks of (n, channels) float32 samples and the file's sample rate."""
    with open_audio(path) as audio:
        try:
            for data in audio.blocks(blocksize=block, dtype="float32", always_2d=True):
                yield data, audio.samplerate
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise SpotterError(f"audio data is corrupt or truncated ({exc})") from exc


def read_raw_s16le(stream: BinaryIO, block: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Blocks of int16 samples from a byte stream; an odd trailing byte is carried over."""
    read = getattr(stream, "read1", None) or stream.read  # read1: what a live pipe has now
    leftover = b""
    while True:
        chunk = read(2 * block)
        if not chunk:
            break
        chunk = leftover + chunk
        even = len(chunk) - len(chunk) % 2
        leftover = chunk[even:]
        if even:
            yield np.frombuffer(chunk[:even], dtype="<i2")
    if leftover:
        raise SpotterError("stdin ended with an odd number of bytes (not s16le audio?)")


def read_whole(path: Path) -> np.ndarray:
    """A whole (short) file as mono float32 at 16 kHz, resampled as the runtime resamples."""
    blocks = list(read_file(path))
    return resample_whole(np.concatenate([block for block, _ in blocks]), blocks[0][1])


def load_noises(folder: Path | None) -> list[np.ndarray]:
    """Noise beds at 16 kHz, unit standard deviation: generated white, pink and brown noise
    (60 s, seeded) and the WAV recordings in ``folder``."""
    rng = np.random.default_rng(0)
    white = rng.standard_normal(SAMPLE_RATE * 60).astype(np.float32)
    spectrum = np.fft.rfft(white)
    freqs = np.maximum(np.fft.rfftfreq(len(white)), 1.0 / len(white))
    noises = [white]
    for exponent in (0.5, 1.0):  # pink, brown
        coloured = np.fft.irfft(spectrum / freqs**exponent, n=len(white)).astype(np.float32)
        noises.append(coloured / coloured.std())
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.wav")):
            audio = read_whole(path)
            noises.append(audio / (audio.std() + 1e-8))
    return noises
