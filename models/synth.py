"""Synthetic speech on disk: the ten digits and ordinary words from offline TTS voices.

``spotter data synth`` writes, under its output folder::

    {split}.csv          digits: path,label,speaker         (split = train, val, test)
    other-{split}.csv    ordinary speech: path,text,speaker
    {split}/...          the 16 kHz WAV files; other-{split}/ holds only ordinary speech, so it
                         can be passed to ``spotter eval streams --negatives`` as it is

Splits are by **source**, the human (or formant model) behind a voice, never by clip: one
recording reused by several engines (CMU's "slt" in festival, flite and RHVoice; the MBROLA
databases inside festival) is one source, and so is each espeak-ng timbre variant in all its
accents. Rate and pitch jitter add takes, not speakers. Validation voices pick the detector's
thresholds; test voices only measure.

Ordinary speech is what the model must ignore. Training uses ``OTHER_SPEECH`` (words, number
words and phrases) and random strings of dictionary words; validation and test use the
sentences of ``spotter.sentences``, disjoint from both and from each other. The homophone
policy (README, "What fires"):

- fires: the ten digit words, and words that sound exactly like one ("to", "too", "for", "ate",
  "won"): no acoustic model can tell them apart alone, so they are never trained as non-digits;
- never fires: "oh" (zero is "zero"), number words that contain a digit ("eighteen", "ninety",
  "seventy", "fourteen"), and words with a digit's sound inside them ("tonight", "often").
  Words that end in a digit's sound ("someone", "before", "into") are left out of the random
  strings and taught as non-digits only through the few in ``OTHER_SPEECH``.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

from models.data import Clip, load_clip
from models.voices import ENGINES, Voice, engine_voices, missing_engines, synthesise_many
from spotter.evaluate import find_clips
from spotter.events import WORDS
from spotter.sentences import TEST_SENTENCES, VALIDATION_SENTENCES

SPLITS = ("train", "val", "test")
ESPEAK_HELD_OUT = ("f1", "f3", "m1", "m7", "Annie", "linda", "david")
ESPEAK_VALIDATION = ("f4", "m4", "john", "Gene")
TEST_SOURCES = {"slt", "us2", "awb", "pico-en-GB", *(f"espeak+{v}" for v in ESPEAK_HELD_OUT)}
VAL_SOURCES = {"clb", "en1", "rms", *(f"espeak+{v}" for v in ESPEAK_VALIDATION)}
FESTIVAL_SOURCES = {"kal_diphone": "kal", "ked_diphone": "ked", "cmu_us_slt_arctic_hts": "slt"}
FIRES_AS_DIGIT = ("to", "too", "for", "fore", "ate", "won")  # sound exactly like a digit
LEXICON = Path("/usr/share/festival/dicts/cmu/cmudict-0.4.out")  # comes with festival
LEXICON_ENTRY = re.compile(r'^\("([a-z]+)" \S+ (.*)\)$')
DIGIT_PHONES = (
    "z ih r ow", "z iy r ow", "w ah n", "t uw", "th r iy", "f ao r", "f ay v", "s ih k s",
    "s eh v ax n", "s eh v ah n", "ey t", "n ay n",
)  # fmt: skip
NEVER_FIRE = ("oh", "eighteen", "ninety", "seventy", "fourteen", "sixty", "nineteen", "eighty")

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
    "oh",
    "eighteen",
    "ninety",
    "fourteen",
    "sixty",
    "eighty",
    "someone",
    "anyone",
    "before",
    "into",
    "often",
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


def source_of(voice: Voice) -> str:
    """The human (or espeak-ng timbre) behind a voice: what the splits keep apart."""
    if voice.engine == "espeak":
        return "espeak+" + voice.name.split("+")[-1]
    if voice.engine == "festival":
        return FESTIVAL_SOURCES.get(voice.name, voice.name.removesuffix("_mbrola"))
    if voice.engine == "mbrola":
        return voice.name.split("-")[0]  # "de1-en" is the de1 database speaking English
    if voice.engine == "flite":
        return voice.name.removesuffix("16")  # kal and kal16: one speaker at two rates
    if voice.engine == "pico":
        return f"pico-{voice.name}"
    return voice.name


def split_of(voice: Voice) -> str:
    source = source_of(voice)
    return "test" if source in TEST_SOURCES else "val" if source in VAL_SOURCES else "train"


@dataclass
class SynthConfig:
    out: Path = Path("data/synth")
    engines: tuple[str, ...] = ENGINES
    takes: int = 8  # per digit and voice
    espeak_takes: int = 3  # per digit and espeak-ng variant, each in a random accent
    other_voices: int = 6  # voices per training word or phrase of ordinary speech
    random_sentences: int = 1500  # strings of random ordinary words, one voice each
    sentence_voices: int = 16  # voices per validation or test sentence
    rate: tuple[float, float] = (0.8, 1.25)
    pitch: tuple[float, float] = (-3.0, 3.0)  # semitones
    seed: int = 0
    workers: int = 2
    max_voices: int | None = None  # per split and engine (quick runs)


@dataclass(frozen=True)
class Job:
    voice: Voice
    text: str
    rate: float
    pitch: float
    path: Path


def plan(cfg: SynthConfig) -> dict[str, list[tuple[Job, str]]]:
    """Every clip to make, by manifest name → (job, label or text); seeded.

    Digits: ``takes`` per voice, except that an espeak-ng variant says each digit
    ``espeak_takes`` times, each time in a random one of its accents (otherwise its hundreds of
    accent × variant voices would outnumber every natural voice). Ordinary speech: each text in
    a few voices drawn with equal weight per engine, for the same reason; the draw is without
    replacement, so once an engine's voices are all taken the rest come from the others (with
    16 validation voices per sentence, espeak-ng speaks three quarters). Each split draws from
    its own seeded generator, so options that change the training split (``random_sentences``)
    leave validation and test as they were, and the sentences are drawn after the digits."""
    manifests: dict[str, list[tuple[Job, str]]] = {}

    def job(voice: Voice, text: str, folder: str, stem: str) -> Job:
        name = voice.identity.replace(":", "-").replace("+", "-")
        return Job(
            voice,
            text,
            float(rng.uniform(*cfg.rate)),
            float(rng.uniform(*cfg.pitch)),
            cfg.out / folder / name / f"{stem}.wav",
        )

    for split_index, split in enumerate(SPLITS):
        rng = np.random.default_rng([cfg.seed, split_index])
        voices = [
            voice
            for engine in cfg.engines
            for voice in [v for v in engine_voices(engine) if split_of(v) == split][
                : cfg.max_voices
            ]
        ]
        accents: dict[str, list[Voice]] = {}
        for voice in voices:
            if voice.engine == "espeak":
                accents.setdefault(source_of(voice), []).append(voice)
        speakers = [(v, t) for v in voices if v.engine != "espeak" for t in range(cfg.takes)]
        speakers += [(group, t) for group in accents.values() for t in range(cfg.espeak_takes)]
        manifests[split] = []
        for speaker, take in speakers:
            for digit, word in enumerate(WORDS):
                voice = (
                    speaker if isinstance(speaker, Voice) else speaker[rng.integers(len(speaker))]
                )
                manifests[split].append((job(voice, word, split, f"{digit}_{take}"), str(digit)))

        if split == "train":
            texts = [(text, cfg.other_voices) for text in OTHER_SPEECH]
            if cfg.random_sentences:
                strings = random_sentences(cfg.random_sentences, rng, ordinary_vocabulary())
                texts += [(text, 1) for text in strings]
        else:
            sentences = VALIDATION_SENTENCES if split == "val" else TEST_SENTENCES
            texts = [(text, cfg.sentence_voices) for text in sentences]
        per_engine = {v.engine: sum(u.engine == v.engine for u in voices) for v in voices}
        weights = np.array([1.0 / per_engine[v.engine] for v in voices])
        manifests[f"other-{split}"] = [
            (job(voices[i], text, f"other-{split}", f"{n:04d}"), text)
            for n, (text, n_voices) in enumerate(texts)
            for i in rng.choice(
                len(voices), min(n_voices, len(voices)), replace=False, p=weights / weights.sum()
            )
        ]
        if split == "val":  # the number words calibration must keep quiet, in every voice
            # (drawn last, so that no other clip changes)
            manifests["quiet-val"] = [
                (job(voice, word, "quiet-val", word), word)
                for voice in voices
                for word in NEVER_FIRE
            ]
    return manifests


def ordinary_vocabulary(lexicon: Path = LEXICON) -> list[str]:
    """Plain words of the CMU pronouncing dictionary (3–10 letters) that neither are a digit
    nor end in a digit's sounds (so "someone", "canine" or "into" are left out: see the policy
    above), in dictionary order."""
    if not lexicon.is_file():
        raise RuntimeError(f"no pronouncing dictionary at {lexicon} (scripts/install-voices.sh)")
    digit_endings = [tuple(p.split()) for p in DIGIT_PHONES]
    words = []
    for line in lexicon.read_text(errors="replace").splitlines():
        match = LEXICON_ENTRY.match(line)
        if not match or not 3 <= len(match[1]) <= 10 or not match[1].isalpha():
            continue
        phones = tuple(re.sub(r"[()\d]", " ", match[2]).split())
        if not any(phones[-len(end) :] == end for end in digit_endings):
            words.append(match[1])
    return sorted(set(words))


def random_sentences(count: int, rng: np.random.Generator, vocabulary: list[str]) -> list[str]:
    """``count`` strings of 2–5 random words: running speech with no digit in it."""
    return [
        " ".join(vocabulary[i] for i in rng.integers(len(vocabulary), size=rng.integers(2, 6)))
        for _ in range(count)
    ]


def make(jobs: list[Job]) -> str | None:
    """Synthesise clips of one voice to disk; the error message when the engine failed."""
    try:
        clips = synthesise_many(jobs[0].voice, [(j.text, j.rate, j.pitch) for j in jobs])
    except RuntimeError as exc:
        return str(exc)
    for job, audio in zip(jobs, clips, strict=True):
        job.path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(job.path, audio, 16000, subtype="PCM_16")
    return None


def by_voice(jobs: list[Job], size: int = 20) -> list[list[Job]]:
    """Jobs in batches of one voice each (festival then starts once per batch)."""
    grouped: dict[Voice, list[Job]] = {}
    for job in jobs:
        grouped.setdefault(job.voice, []).append(job)
    return [group[i : i + size] for group in grouped.values() for i in range(0, len(group), size)]


def synthesise_dataset(cfg: SynthConfig, log: Callable[[str], object] = print) -> dict:
    """Write every split's clips and manifests under ``cfg.out``; returns counts."""
    missing = missing_engines(cfg.engines)
    if missing:
        raise RuntimeError(
            f"TTS engines not installed: {', '.join(missing)} (run scripts/install-voices.sh, "
            "or choose others with --engines)"
        )
    manifests = plan(cfg)
    jobs = [job for rows in manifests.values() for job, _ in rows]
    started = time.monotonic()
    with Pool(cfg.workers) as pool:
        errors = [e for e in pool.imap_unordered(make, by_voice(jobs)) if e]
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(jobs)} clips failed, first: {errors[0]}")
    counts = {}
    for name, rows in manifests.items():
        column = "label" if name in SPLITS else "text"
        with (cfg.out / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", column, "speaker"])
            for job, value in rows:
                writer.writerow([job.path.relative_to(cfg.out), value, job.voice.identity])
        counts[name] = {"clips": len(rows), "voices": len({j.voice for j, _ in rows})}
    log(f"{len(jobs)} clips in {time.monotonic() - started:.0f}s under {cfg.out}")
    return counts


def load_split(folder: Path, split: str) -> tuple[list[Clip], list[Clip]]:
    """Digits and ordinary speech (label -1) of one split, as training clips."""
    digits, other = folder / f"{split}.csv", folder / f"other-{split}.csv"
    for manifest in (digits, other):
        if not manifest.is_file():
            raise FileNotFoundError(f"{manifest} not found: make it with 'spotter data synth'")
    with other.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return (
        [load_clip(c.path, c.digit, c.speaker, take) for take, c in enumerate(find_clips(digits))],
        [load_clip(folder / r["path"], -1, r["speaker"], take) for take, r in enumerate(rows)],
    )
