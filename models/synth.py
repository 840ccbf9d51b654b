"""Synthetic training speech from espeak-ng: digits in many voices, and ordinary words.

espeak-ng is a formant synthesiser with eight English accents and dozens of timbre variants;
an accent × variant pair is one synthetic "speaker". The variants that `spotter eval` and the
model card use to measure unseen synthetic voices (``HELD_OUT_VARIANTS``) never appear here.

Ordinary words and phrases (none a digit word or a homophone of one) teach the model that
speech which is not a digit is background; ``spotter eval streams`` uses other sentences.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import soundfile as sf

from models.data import Clip
from spotter.events import WORDS
from spotter.resample import resample_whole
from spotter.scoring import word_bounds

ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-us-nyc",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
)
TRAIN_VARIANTS = (
    "m2",
    "m3",
    "m5",
    "m6",
    "m8",
    "Alicia",
    "Andrea",
    "anika",
    "Belinda",
    "shelby",
    "Steph",
    "grandma",
    "Auntie",
    "Andy",
    "Michael",
    "Paul",
    "Robert",
    "klatt",
    "klatt2",
    "klatt3",
    "travis",
    "victor",
    "Mike",
    "Denis",
)
HELD_OUT_VARIANTS = ("f1", "f2", "f3", "f4", "f5", "m1", "m4", "m7", "Annie", "Linda")

OTHER_SPEECH = (
    "hello",
    "hi",
    "okay",
    "right",
    "left",
    "stop",
    "go",
    "wait",
    "next",
    "previous",
    "back",
    "forward",
    "up",
    "down",
    "on",
    "off",
    "pause",
    "play",
    "music",
    "volume",
    "louder",
    "quieter",
    "call",
    "message",
    "send",
    "delete",
    "save",
    "open",
    "close",
    "search",
    "find",
    "show",
    "hide",
    "more",
    "less",
    "good",
    "bad",
    "fine",
    "great",
    "sorry",
    "please",
    "thanks",
    "what",
    "when",
    "where",
    "why",
    "who",
    "which",
    "how",
    "this",
    "that",
    "these",
    "those",
    "here",
    "there",
    "now",
    "then",
    "today",
    "tonight",
    "morning",
    "evening",
    "weekend",
    "coffee",
    "water",
    "kitchen",
    "garden",
    "window",
    "table",
    "chair",
    "paper",
    "pencil",
    "seventy",
    "sixteen",
    "eleven",
    "twelve",
    "twenty",
    "hundred",
    "thousand",
    "zebra",
    "onion",
    "second",
    "fifty",
    "thirty",
    "forty",
    "nineteen",
    "fifteen",
    "could you repeat that",
    "I did not catch that",
    "let me think",
    "just a moment",
    "that is correct",
    "that is wrong",
    "I need some help",
    "let me talk with a person",
    "what is the balance",
    "check my account",
    "book a table",
    "set an alarm",
    "turn it off",
    "turn the music down",
    "send mum a message",
    "call the office",
    "where are my keys",
    "the train is late",
    "I will be there soon",
    "see you later",
    "have a nice day",
    "this is a test",
    "can I pay by card",
    "my password is secret",
)


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One utterance from espeak-ng as float32 at 16 kHz."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return resample_whole(audio, rate)


def as_clip(audio: np.ndarray, label: int, speaker: str, take: int) -> Clip:
    start, end = word_bounds(audio)
    return Clip(audio, label, speaker, take, start, end)


def synthetic_digits(variants: tuple[str, ...] = TRAIN_VARIANTS, seed: int = 0) -> list[Clip]:
    """Every digit once per accent × variant, at a random rate (130–200 wpm) and pitch."""
    require_espeak()
    rng = np.random.default_rng(seed)
    clips = []
    for accent in ACCENTS:
        for variant in variants:
            speaker = f"espeak:{accent}+{variant}"
            for digit, word in enumerate(WORDS):
                speed, pitch = int(rng.integers(130, 201)), int(rng.integers(25, 76))
                audio = espeak(word, f"{accent}+{variant}", speed, pitch)
                clips.append(as_clip(audio, digit, speaker, 5))
    return clips


def other_speech(
    variants: tuple[str, ...] = TRAIN_VARIANTS, takes: int = 4, seed: int = 0
) -> list[Clip]:
    """Each word or phrase of ``OTHER_SPEECH`` in ``takes`` random voices; label -1."""
    require_espeak()
    rng = np.random.default_rng(seed + 1)
    clips = []
    for text in OTHER_SPEECH:
        for take in range(takes):
            voice = f"{ACCENTS[rng.integers(len(ACCENTS))]}+{variants[rng.integers(len(variants))]}"
            audio = espeak(text, voice, int(rng.integers(130, 201)), int(rng.integers(25, 76)))
            clips.append(as_clip(audio, -1, "espeak-other", take))
    return clips


def require_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        raise FileNotFoundError("synthetic voices need espeak-ng (scripts/install-system-deps.sh)")
