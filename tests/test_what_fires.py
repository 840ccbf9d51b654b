"""The homophone policy (README, "What fires") as the shipped model holds it, on voices it never
heard (espeak-ng's test-split variants): number words and "oh" do not fire (measured: "fourteen"
still fires "four" for two of these seven voices, so the test bounds the rate, with the bound
that `spotter calibrate` holds on validation voices); a word that sounds exactly like a digit
fires as that digit."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf
from conftest import pad, run_spotter

from models.synth import ESPEAK_HELD_OUT, FIRES_AS_DIGIT, NEVER_FIRE
from spotter.calibrate import MAX_QUIET

VOICES = [f"en-us+{variant}" for variant in ESPEAK_HELD_OUT]
SOUNDS_LIKE = {"to": 2, "too": 2, "for": 4, "fore": 4, "ate": 8, "won": 1}


def spoken(folder, words: tuple[str, ...], voice: str = VOICES[0]) -> list[str]:
    paths = []
    for word in words:
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "--stdout", word], check=True, capture_output=True
        ).stdout
        path = folder / f"{word}_{voice.replace('+', '_')}.wav"
        path.write_bytes(wav)
        audio, rate = sf.read(path, dtype="float32")
        sf.write(path, pad(audio, rate, 0.5), rate)
        paths.append(str(path))
    return paths


def events_by_file(paths: list[str]) -> dict[str, list[int]]:
    result = run_spotter("detect", *paths)
    assert result.returncode == 0, result.stderr.decode()
    found: dict[str, list[int]] = {p.rsplit("/", 1)[-1][:-4]: [] for p in paths}
    for line in result.stdout.decode().splitlines():
        event = json.loads(line)
        found[event["source"].rsplit("/", 1)[-1][:-4]].append(event["digit"])
    return found


def test_number_words_and_oh_rarely_fire(tmp_path):
    paths = [p for voice in VOICES for p in spoken(tmp_path, NEVER_FIRE, voice)]
    fired = {name: digits for name, digits in events_by_file(paths).items() if digits}
    assert len(fired) <= MAX_QUIET * len(paths), fired  # measured: 2 of 56, both "fourteen"


@pytest.mark.parametrize("word", FIRES_AS_DIGIT)
def test_a_word_that_sounds_like_a_digit_fires_as_that_digit(tmp_path, word):
    (digits,) = events_by_file(spoken(tmp_path, (word,))).values()
    assert digits == [SOUNDS_LIKE[word]]


def test_policy_lists_do_not_overlap():
    assert not set(FIRES_AS_DIGIT) & set(NEVER_FIRE)
    assert set(SOUNDS_LIKE) == set(FIRES_AS_DIGIT)
    assert np.isin(list(SOUNDS_LIKE.values()), np.arange(10)).all()
