"""Training data: FSDD clips and background noise, mixed into labelled windows on the fly.

A training example is a window of audio with zero, one or several digit words placed at random
positions over a background (digital silence, recorded noise or generated noise), plus one
target per output frame of the network:

- the digit, from just before a word ends until ``burst_frames`` after, provided the whole
  word lies inside that frame's receptive field (the most recent such word wins);
- ignored (-100) shortly after a burst, or when a word is only partly inside the receptive field;
- background everywhere else, including while a word is still being spoken: the model must wait
  for the end of the word instead of guessing from its beginning.

So the model learns to say "seven" once, right after "seven" ends, and nothing otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.pitch import pitch_shifted
from spotter.errors import SpotterError
from spotter.evaluate import find_clips
from spotter.resample import SAMPLE_RATE
from spotter.scoring import word_bounds
from spotter.sources import read_whole

HOP = 160
IGNORE = -100


@dataclass
class Clip:
    audio: np.ndarray  # float32 at 16 kHz
    label: int  # the digit; -1 for ordinary speech
    speaker: str
    take: int
    word_start: int  # samples
    word_end: int


def load_fsdd(root: Path) -> list[Clip]:
    """All ``{digit}_{speaker}_{take}.wav`` clips under ``root`` (or ``root/recordings``)."""
    folder = root / "recordings" if (root / "recordings").is_dir() else root
    try:
        found = find_clips(folder)
    except SpotterError as exc:
        raise FileNotFoundError(str(exc)) from None
    return [load_clip(c.path, c.digit, c.speaker, int(c.take)) for c in found]


def load_clip(path: Path, label: int, speaker: str, take: int) -> Clip:
    """One recording at 16 kHz with the span of its word."""
    audio = read_whole(path)
    start, end = word_bounds(audio)
    return Clip(audio, label, speaker, take, start, end)


def shifted_copies(
    clips: list[Clip], factors: tuple[float, float], rng: np.random.Generator
) -> list[Clip]:
    """One copy of each clip with every frequency times a factor drawn uniformly from
    ``factors`` (pitch and formants, duration kept: the word stays where it was); the copy's
    speaker is ``shift:{speaker}``."""
    return [
        Clip(
            pitch_shifted(clip.audio, rng.uniform(*factors)),
            clip.label,
            f"shift:{clip.speaker}",
            clip.take,
            clip.word_start,
            clip.word_end,
        )
        for clip in clips
    ]


@dataclass
class MixConfig:
    out_frames: int = 100  # labelled output frames per window
    burst_frames: int = 30  # frames labelled with the digit after a word ends
    settle_frames: int = 10  # ignored frames after the burst
    lead_frames: int = 2  # frames before the word end already labelled with the digit
    words_p: tuple[float, ...] = (0.15, 0.45, 0.3, 0.1)  # P(0, 1, 2, 3 words in a window)
    speed: tuple[float, float] = (0.8, 1.3)  # resampling: pitch, formants and tempo together
    peak_dbfs: tuple[float, float] = (-35.0, -1.0)
    snr_db: tuple[float, float] = (0.0, 30.0)
    silence_p: float = 0.25  # background is digital silence
    gap_s: tuple[float, float] = (0.05, 0.8)
    other_speech_p: float = 0.4  # share of words that are ordinary speech (when there is some)
    synthetic_p: float = 0.5  # share of digit words from synthetic voices (when there are some)
    reverb_p: float = 0.3  # speech in a simulated room
    rt60_s: tuple[float, float] = (0.15, 0.8)


class Mixer:
    """Draws labelled training windows from clips and noises; seeded, numpy only."""

    def __init__(
        self,
        clips: list[Clip],
        noises: list[np.ndarray],
        receptive_field: int,
        silence_label: int,
        cfg: MixConfig = MixConfig(),
        seed: int = 0,
        other_speech: list[Clip] | None = None,
        synthetic: list[Clip] | None = None,
    ) -> None:
        self.clips, self.noises, self.cfg = clips, noises, cfg
        self.other_speech = other_speech or []
        self.synthetic = synthetic or []
        self.receptive_field = receptive_field
        self.silence_label = silence_label
        self.rng = np.random.default_rng(seed)
        self.n_frames = cfg.out_frames + receptive_field - 1
        self.n_samples = self.n_frames * HOP

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """→ audio (size, n_samples) float32, targets (size, out_frames) int64."""
        pairs = [self.example() for _ in range(size)]
        audio = torch.from_numpy(np.stack([a for a, _ in pairs]))
        targets = torch.from_numpy(np.stack([t for _, t in pairs]))
        return audio, targets

    def example(self) -> tuple[np.ndarray, np.ndarray]:
        cfg, rng = self.cfg, self.rng
        speech = np.zeros(self.n_samples, np.float32)
        words = []  # (start, end, label) in window samples
        n_words = rng.choice(len(cfg.words_p), p=cfg.words_p)
        position = int(rng.integers(-HOP * 30, self.n_samples // 2))
        for _ in range(n_words):
            if self.other_speech and rng.random() < cfg.other_speech_p:
                pool = self.other_speech
            elif self.synthetic and (not self.clips or rng.random() < cfg.synthetic_p):
                pool = self.synthetic
            else:
                pool = self.clips
            clip = pool[rng.integers(len(pool))]
            audio, start, end = self.perturb(clip)
            lo, hi = max(position, 0), min(position + len(audio), self.n_samples)
            if hi > lo:
                speech[lo:hi] += audio[lo - position : hi - position]
                if clip.label >= 0:  # other speech is background: no digit target
                    words.append((position + start, position + end, clip.label))
            position += len(audio) + int(rng.uniform(*cfg.gap_s) * SAMPLE_RATE)
        if words and rng.random() < cfg.reverb_p:
            speech = self.reverberate(speech)
        audio = speech + self.background(speech)
        return np.clip(audio, -1.0, 1.0), self.targets(words)

    def reverberate(self, speech: np.ndarray) -> np.ndarray:
        """Convolve with a room impulse response: a direct path plus exponentially decaying
        noise that falls 60 dB in a random RT60; the result keeps the dry speech's level."""
        rng = self.rng
        rt60 = rng.uniform(*self.cfg.rt60_s)
        t = np.arange(int(rt60 * SAMPLE_RATE)) / SAMPLE_RATE
        response = rng.standard_normal(len(t)) * np.exp(-np.log(1000.0) * t / rt60)
        response *= 10 ** (rng.uniform(-6, 6) / 20) / np.sqrt(np.sum(response**2))
        response[0] = 1.0  # direct-to-reverberant ratio within ±6 dB
        n = 1 << (len(speech) + len(response) - 1).bit_length()  # a fast FFT size
        wet = np.fft.irfft(np.fft.rfft(speech, n) * np.fft.rfft(response, n), n)[: len(speech)]
        return (wet * np.abs(speech).max() / (np.abs(wet).max() + 1e-8)).astype(np.float32)

    def perturb(self, clip: Clip) -> tuple[np.ndarray, int, int]:
        """Speed (pitch and tempo together) and level; returns audio and the scaled word span."""
        speed = self.rng.uniform(*self.cfg.speed)
        n_out = int(len(clip.audio) / speed)
        audio = np.interp(np.arange(n_out) * speed, np.arange(len(clip.audio)), clip.audio)
        fade = np.minimum(1.0, np.minimum(np.arange(n_out), np.arange(n_out)[::-1]) / 80.0)
        audio = audio * fade
        peak = np.abs(audio).max() + 1e-8
        audio = audio * (10 ** (self.rng.uniform(*self.cfg.peak_dbfs) / 20) / peak)
        return audio.astype(np.float32), int(clip.word_start / speed), int(clip.word_end / speed)

    def background(self, speech: np.ndarray) -> np.ndarray:
        rng = self.rng
        if rng.random() < self.cfg.silence_p:
            return np.zeros_like(speech)
        noise = self.noises[rng.integers(len(self.noises))]
        offset = rng.integers(len(noise) - self.n_samples)
        segment = noise[offset : offset + self.n_samples]
        speech_rms = np.sqrt(np.mean(speech[speech != 0] ** 2)) if speech.any() else 0.0
        if speech_rms > 0:
            level = speech_rms / 10 ** (rng.uniform(*self.cfg.snr_db) / 20)
        else:
            level = 10 ** (rng.uniform(-70, -20) / 20)
        return (segment * level).astype(np.float32)

    def targets(self, words: list[tuple[int, int, int]]) -> np.ndarray:
        cfg = self.cfg
        frames = np.arange(self.receptive_field - 1, self.n_frames)
        frame_end = (frames + 1) * HOP
        field_start = (frames - self.receptive_field + 1) * HOP - 240
        targets = np.full(len(frames), self.silence_label, np.int64)
        digit_age = np.full(len(frames), np.inf)
        ignore = np.zeros(len(frames), bool)
        for start, end, label in words:
            age = (frame_end - end) / HOP  # frames since the word ended (negative: not yet)
            visible = start >= field_start
            burst = (age >= -cfg.lead_frames) & (age <= cfg.burst_frames)
            take = burst & visible & (age < digit_age)
            targets[take] = label
            digit_age[take] = age[take]
            settling = (age > cfg.burst_frames) & (age <= cfg.burst_frames + cfg.settle_frames)
            ignore |= settling | (burst & ~visible)
        targets[ignore & np.isinf(digit_age)] = IGNORE
        return targets
