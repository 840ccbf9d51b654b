"""Audio sources other than the microphone: files (soundfile) and raw s16le on stdin.

Both yield blocks of samples at the source's own rate, so a long file is streamed, never loaded.
Training and evaluation also read short clips whole at 16 kHz, and build noise beds.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from spotter.errors import SpotterError
from spotter.resample import SAMPLE_RATE, resample_whole

BLOCK_FRAMES = 16000


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """libsndfile's decoders (mpg123 for MP3) print notes straight to file descriptor 2; this
    keeps spotter's stderr to one line per problem. Never yields to other code while active."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def open_audio(path: Path) -> sf.SoundFile:
    if not path.exists():
        raise SpotterError("no such file")
    if path.is_dir():
        raise SpotterError("is a directory")
    if not path.stat().st_size:
        raise SpotterError("not a readable audio file (file is empty)")
    try:
        with native_stderr_silenced():
            return sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        detail = str(exc).split(": ", 1)[-1]
        if "does not exist" in detail or "not recognised" in detail.lower():  # it does exist
            detail = "format not recognised; spotter reads what libsndfile reads: WAV, FLAC, "
            detail += "Ogg Vorbis/Opus, MP3, AIFF, ..."
        raise SpotterError(f"not a readable audio file ({detail})") from exc


def read_file(path: Path, block_s: float = 0.5) -> Iterator[tuple[np.ndarray, int]]:
    """Blocks of ``block_s`` seconds, (n, channels) float32, and the file's sample rate. A
    corrupt block ends the file with SpotterError (so short blocks keep more of a damaged
    file); so does a file that holds less audio than its header promises, after its blocks."""
    with open_audio(path) as audio:
        block = max(int(audio.samplerate * block_s), 1)
        frames = 0
        noisy_decoder = audio.format == "MP3"  # mpg123 prints notes while it decodes too
        while True:
            try:
                with native_stderr_silenced() if noisy_decoder else nullcontext():
                    data = audio.read(block, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise SpotterError(f"audio data is corrupt or truncated ({exc})") from exc
            if not len(data):
                break
            frames += len(data)
            yield data, audio.samplerate
        if not frames:
            raise SpotterError("no audio samples could be read (empty, or cut short)")
        promised = wav_frames_promised(path, audio.channels) if audio.format == "WAV" else None
        if promised is not None and promised > frames:
            raise SpotterError(
                f"audio data is truncated: the header promises {promised / audio.samplerate:.2f}"
                f" s, the file holds {frames / audio.samplerate:.2f} s"
            )


def wav_frames_promised(path: Path, channels: int) -> int | None:
    """Frames that a RIFF/WAVE header's data chunk declares; None when it declares no real size
    (streaming writers leave 0 or 0xFFFFFFFF) or the header cannot be parsed."""
    with path.open("rb") as file:
        head = file.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block_align = None
        while chunk := file.read(8):
            if len(chunk) < 8:
                return None
            kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"fmt ":
                fmt = file.read(size + size % 2)
                block_align = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else None
            elif kind == b"data":
                if not block_align or size in (0, 0xFFFFFFFF) or block_align % channels:
                    return None
                return size // block_align
            else:
                file.seek(size + size % 2, os.SEEK_CUR)
    return None


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
