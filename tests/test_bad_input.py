"""One test per row of the README's bad-input table: each input gets a one-line error and its
documented exit code, or is handled; never a traceback, never garbage events, and the events
found before a problem are kept."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import FSDD, run_spotter

from spotter.api import model_path


def check(result, code: int, digits: list[int], error: str | None = None) -> None:
    stderr = result.stderr.decode()
    assert result.returncode == code, stderr
    lines = stderr.strip().splitlines()
    if error is None:
        assert lines == []
    else:
        assert len(lines) == 1 and lines[0].startswith("spotter: error: "), stderr
        assert error in lines[0]
    found = [line for line in result.stdout.decode().splitlines() if line]
    assert [int(line.split('"digit": ')[1].split(",")[0]) for line in found] == digits


@pytest.fixture
def sequence(heldout_sequence):
    """The three held-out digits at 8 kHz as float32, and the digits."""
    path, digits = heldout_sequence
    audio, rate = sf.read(path, dtype="float32")
    return audio, rate, digits


def test_missing_file(tmp_path):
    check(run_spotter("detect", str(tmp_path / "nope.wav")), 1, [], "no such file")


def test_directory(tmp_path):
    check(run_spotter("detect", str(tmp_path)), 1, [], "is a directory")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    check(run_spotter("detect", str(tmp_path / "empty.wav")), 1, [], "file is empty")


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.wav", b"this is not audio\n" * 50),
        ("notes.mp3", b"this is not audio either\n" * 500),  # mpg123 notes stay silent
        ("song.m4a", b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2" + bytes(2000)),
    ],
)
def test_not_audio_or_an_unsupported_format(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    check(run_spotter("detect", str(tmp_path / name)), 1, [], "format not recognised")


def test_header_without_samples(tmp_path, sequence):
    audio, rate, _ = sequence
    sf.write(tmp_path / "full.wav", audio, rate)
    (tmp_path / "header.wav").write_bytes((tmp_path / "full.wav").read_bytes()[:44])
    check(run_spotter("detect", str(tmp_path / "header.wav")), 1, [], "no audio samples")


def test_truncated_wav_keeps_the_digits_before_the_cut(tmp_path, sequence):
    audio, rate, digits = sequence
    sf.write(tmp_path / "full.wav", audio, rate, subtype="PCM_16")
    cut = 44 + 2 * (len(audio) * 2 // 3 + 1000)  # in the pause before the third digit
    (tmp_path / "cut.wav").write_bytes((tmp_path / "full.wav").read_bytes()[:cut])
    check(run_spotter("detect", str(tmp_path / "cut.wav")), 1, digits[:2], "truncated")


def test_truncated_flac_keeps_the_digits_before_the_cut(tmp_path, sequence):
    audio, rate, digits = sequence
    hiss = np.random.default_rng(0).normal(0, 0.003, 2 * rate).astype(np.float32)
    sf.write(tmp_path / "full.flac", np.concatenate([audio, hiss]), rate)
    data = (tmp_path / "full.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) * 95 // 100])  # inside the hiss
    check(run_spotter("detect", str(tmp_path / "cut.flac")), 1, digits, "corrupt or truncated")


def test_nan_and_inf_samples_are_silence_and_full_scale(tmp_path, sequence):
    audio, rate, digits = sequence
    broken = audio.copy()
    broken[:200] = np.nan  # in the pauses, away from the words
    broken[-400:-200] = np.inf
    broken[-200:] = -np.inf
    sf.write(tmp_path / "nan.wav", broken, rate, subtype="FLOAT")
    sf.write(tmp_path / "all-nan.wav", np.full(rate, np.nan, np.float32), rate, subtype="FLOAT")
    check(
        run_spotter("detect", str(tmp_path / "nan.wav"), str(tmp_path / "all-nan.wav")), 0, digits
    )


def test_clipped_samples(tmp_path, sequence):
    audio, rate, digits = sequence
    sf.write(tmp_path / "clipped.wav", np.clip(audio * 10, -1, 1), rate)
    check(run_spotter("detect", str(tmp_path / "clipped.wav")), 0, digits)


def test_rates_from_8_to_192_khz(tmp_path, sequence):
    audio, rate, digits = sequence
    paths = []
    for new_rate in (8000, 11025, 22050, 44100, 96000, 192000):
        paths.append(tmp_path / f"{new_rate}.wav")
        sf.write(paths[-1], soxr.resample(audio, rate, new_rate), new_rate, subtype="PCM_24")
    check(run_spotter("detect", *map(str, paths)), 0, digits * len(paths))


def test_a_rate_outside_4_to_384_khz(tmp_path, sequence):
    audio, rate, _ = sequence
    sf.write(tmp_path / "2k.wav", audio[::4], 2000)
    check(run_spotter("detect", str(tmp_path / "2k.wav")), 1, [], "unsupported sample rate")


def test_stereo_and_six_channels_are_mixed_to_mono(tmp_path, sequence):
    audio, rate, digits = sequence
    sf.write(tmp_path / "stereo.wav", np.stack([audio, 0.5 * audio], axis=1), rate)
    sf.write(tmp_path / "six.wav", np.stack([audio] + [np.zeros_like(audio)] * 5, axis=1), rate)
    paths = [str(tmp_path / "stereo.wav"), str(tmp_path / "six.wav")]
    check(run_spotter("detect", *paths), 0, digits * 2)


def test_missing_model(tmp_path, sequence, heldout_sequence):
    result = run_spotter("detect", "--model", str(tmp_path / "no.onnx"), str(heldout_sequence[0]))
    check(result, 2, [], "model file not found")


def test_corrupt_model(tmp_path, heldout_sequence):
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x01garbage")
    result = run_spotter("detect", "--model", str(tmp_path / "bad.onnx"), str(heldout_sequence[0]))
    check(result, 2, [], "cannot load model")


def test_an_onnx_model_that_is_not_a_spotter(tmp_path, heldout_sequence):
    onnx = pytest.importorskip("onnx", reason="the test extra includes onnx")
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["audio"], ["out"])],
        "identity",
        [onnx.helper.make_tensor_value_info("audio", onnx.TensorProto.FLOAT, [1, None])],
        [onnx.helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, [1, None])],
    )
    onnx.save(onnx.helper.make_model(graph), tmp_path / "other.onnx")
    result = run_spotter("detect", "-m", str(tmp_path / "other.onnx"), str(heldout_sequence[0]))
    check(result, 2, [], "not a spotter model")


def test_a_model_in_an_older_format(tmp_path, heldout_sequence):
    import onnx

    model = onnx.load(str(model_path("float")))
    for prop in model.metadata_props:
        if prop.key == "spotter_format":
            prop.value = "1"
    onnx.save(model, tmp_path / "old.onnx")
    result = run_spotter("detect", "-m", str(tmp_path / "old.onnx"), str(heldout_sequence[0]))
    check(result, 2, [], "model format 1 is not the one this spotter runs (2)")


@pytest.mark.parametrize(
    "detector",
    ['{"threshold": 0.5, "ghost_setting": 3}', '{"threshold": "high"}', "[0.5]"],
)
def test_detector_settings_this_spotter_does_not_know(tmp_path, heldout_sequence, detector):
    """A model calibrated by another version of spotter, say."""
    import onnx

    model = onnx.load(str(model_path("float")))
    for prop in model.metadata_props:
        if prop.key == "detector":
            prop.value = detector
    onnx.save(model, tmp_path / "other.onnx")
    result = run_spotter("detect", "-m", str(tmp_path / "other.onnx"), str(heldout_sequence[0]))
    check(result, 2, [], "invalid detector settings")


def test_stdin_with_no_bytes():
    check(run_spotter("listen", "--stdin", stdin=b""), 0, [])


def test_stdin_with_an_odd_byte_count_keeps_the_events(sequence):
    audio, rate, digits = sequence
    samples = (audio * 32767).astype("<i2").tobytes() + b"\x01"
    result = run_spotter("listen", "--stdin", "--rate", str(rate), stdin=samples)
    check(result, 1, digits, "odd number of bytes")


@pytest.mark.parametrize("rate", ["0", "1000000"])
def test_stdin_at_an_impossible_rate(rate):
    check(run_spotter("listen", "--stdin", "--rate", rate, stdin=b"\x00\x00"), 2, [], "--rate")


def test_no_input_device_or_an_unknown_one(tmp_path):
    # no sound server here: PortAudio finds no input device at all (with one, the same
    # command names the missing device: tests/test_listen_mic.py)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PULSE_SERVER": "unix:/nonexistent"}
    result = run_spotter("listen", "--device", "no-such-mic", env=env)
    check(result, 2, [], "device")


@pytest.mark.parametrize("command", ["calibrate", "quantize"])
def test_an_output_path_that_cannot_be_a_file_fails_before_any_work(tmp_path, command):
    (tmp_path / "notes.txt").write_text("a file, not a folder\n")
    for out, error in [
        (tmp_path / "notes.txt" / "m.onnx", "notes.txt is not a folder"),
        (tmp_path, "is a directory"),
    ]:
        check(run_spotter(command, str(model_path("float")), "--out", str(out)), 2, [], error)


def test_an_output_folder_that_does_not_exist_yet_is_made(tmp_path):
    out = tmp_path / "new" / "int8.onnx"
    result = run_spotter("quantize", str(model_path("float")), "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    "name, message", [("notes.pt", "not a spotter checkpoint"), ("notes.onnx", "not an ONNX model")]
)
def test_a_warm_restart_from_a_file_that_is_not_a_checkpoint(
    name, message, tmp_path, spoken_digits
):
    (tmp_path / name).write_text("not a checkpoint\n")
    options = ["--fsdd", str(spoken_digits), "--fsdd-only", "--out", str(tmp_path / "run")]
    result = run_spotter("train", "--init", str(tmp_path / name), *options)
    check(result, 2, [], message)


def test_a_training_or_calibration_level_above_full_scale_or_reversed_stops_before_training(
    tmp_path,
):
    options = ["--fsdd", str(FSDD.parent), "--fsdd-only", "--out", str(tmp_path / "run")]
    for level in (["-10", "-20"], ["-20", "3"]):
        result = run_spotter("train", "--level", *level, *options)
        check(result, 2, [], "--level needs MIN <= MAX <= 0")
        result = run_spotter("train", "--calibration-level", *level, *options)
        check(result, 2, [], "--calibration-level needs MIN <= MAX <= 0")
    result = run_spotter("train", "--calibration-level", "-50", "-5", *options)
    check(result, 2, [], "--calibration-level: --fsdd-only trains without a calibration")
    assert not (tmp_path / "run").exists()


def test_shifted_voices_beyond_an_octave_or_reversed_or_without_sox_stop_before_training(
    tmp_path,
):
    options = ["--fsdd", str(FSDD.parent), "--fsdd-only", "--out", str(tmp_path / "run")]
    for factors in (["1.7", "1.2"], ["1.2", "2.5"], ["0.4", "1"]):
        result = run_spotter("train", "--shifted-voices", *factors, *options)
        check(result, 2, [], "--shifted-voices needs 0.5 <= LO <= HI <= 2")
    without_sox = {"PATH": str(tmp_path)}
    result = run_spotter("train", "--shifted-voices", "1.2", "1.5", *options, env=without_sox)
    check(result, 2, [], "--shifted-voices: sox not found (scripts/install-system-deps.sh)")
    assert not (tmp_path / "run").exists()
