"""The command line as a user meets it, on the shipped model and real held-out voices."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, fsdd_clip, pad, run_spotter

from spotter import Spotter

KEYS = ["type", "digit", "word", "score", "start", "end", "time", "source"]


def events_of(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


def test_import_spotter_leaves_torch_unimported():
    code = "import sys, spotter, spotter.cli, spotter.listener; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_detect_runs_without_the_heavy_packages(heldout_sequence):
    """Start-up pays only for what detect uses: no torch, no matplotlib, no pydantic (typer
    0.29 would import it for every command; pyproject keeps typer below it), no numpy.ma (16 ms;
    np.percentile and np.unique import it)."""
    path, digits = heldout_sequence
    blocked = ("torch", "torchaudio", "matplotlib", "pydantic", "scipy", "numpy.ma")
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({blocked!r}))\n"
        "from spotter.cli import app; app()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "detect", str(path)], capture_output=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert [e["digit"] for e in events_of(result.stdout)] == digits


def test_detect_prints_the_json_lines_contract(heldout_sequence):
    path, digits = heldout_sequence
    result = run_spotter("detect", str(path))
    assert result.returncode == 0
    events = events_of(result.stdout)
    assert [e["digit"] for e in events] == digits
    for event in events:
        assert list(event) == KEYS
        assert event["type"] == "digit" and event["source"] == str(path)
        assert (
            event["word"]
            == ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][
                event["digit"]
            ]
        )
        assert 0 < event["score"] <= 1
        assert 0 <= event["start"] < event["end"] <= event["time"]
    times = [e["time"] for e in events]
    assert times == sorted(times)


def test_detect_many_files_and_bad_ones(heldout_sequence, tmp_path):
    good, digits = heldout_sequence
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    missing = tmp_path / "missing.wav"
    result = run_spotter("detect", str(empty), str(good), str(text), str(missing), str(good))
    assert result.returncode == 1
    errors = result.stderr.decode().strip().splitlines()
    assert len(errors) == 3
    assert all(line.startswith("spotter: error: ") for line in errors)
    assert "Traceback" not in result.stderr.decode()
    events = events_of(result.stdout)
    assert [e["digit"] for e in events] == digits * 2
    assert {e["source"] for e in events} == {str(good)}


def test_events_do_not_depend_on_chunk_size(heldout_sequence):
    path, digits = heldout_sequence
    audio, rate = sf.read(path, dtype="float32")
    spotter = Spotter.load()
    runs = []
    for chunk in (1, 37, 160, 1000, 16000):
        spotter.reset()
        events = []
        for i in range(0, len(audio), chunk):
            events += spotter.feed(audio[i : i + chunk], rate)
        events += spotter.flush()
        runs.append(events)
    assert [e.digit for e in runs[0]] == digits
    for events in runs[1:]:
        assert [(e.digit, e.start, e.end, e.time) for e in events] == [
            (e.digit, e.start, e.end, e.time) for e in runs[0]
        ]
        assert np.allclose([e.score for e in events], [e.score for e in runs[0]], atol=1e-4)


def test_stream_file_takes_a_path_given_as_a_string(heldout_sequence):
    path, digits = heldout_sequence
    events = list(Spotter.load().stream_file(str(path)))
    assert [e.digit for e in events] == digits
    assert {e.source for e in events} == {str(path)}


def test_rate_and_channels_do_not_matter(tmp_path):
    audio, rate = fsdd_clip("7_theo_4.wav")
    audio = pad(audio, rate)
    stereo_44k = tmp_path / "stereo44k.wav"
    t = np.arange(int(len(audio) * 44100 / rate)) * rate / 44100
    up = np.interp(t, np.arange(len(audio)), audio).astype(np.float32)
    sf.write(stereo_44k, np.stack([up, up * 0.5], axis=1), 44100)
    mono_8k = tmp_path / "mono8k.flac"
    sf.write(mono_8k, audio, rate)
    result = run_spotter("detect", str(stereo_44k), str(mono_8k))
    assert result.returncode == 0
    assert [e["digit"] for e in events_of(result.stdout)] == [7, 7]


def test_listen_stdin_reads_raw_s16le(heldout_sequence):
    path, digits = heldout_sequence
    audio, rate = sf.read(path, dtype="int16")
    result = run_spotter("listen", "--stdin", "--rate", str(rate), stdin=audio.tobytes())
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    assert [e["digit"] for e in events] == digits
    assert {e["source"] for e in events} == {"stdin"}


def test_sigterm_ends_listen_cleanly_and_keeps_events(heldout_sequence):
    path, digits = heldout_sequence
    audio, rate = sf.read(path, dtype="int16")
    proc = subprocess.Popen(
        [sys.executable, "-m", "spotter", "listen", "--stdin", "--rate", str(rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    proc.stdin.write(audio.tobytes())  # the pipe stays open: only the signal can end it
    proc.stdin.flush()
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    proc.stdin.close() if not proc.stdin.closed else None
    assert proc.returncode == 0, stderr
    assert [e["digit"] for e in events_of(stdout)] == digits


@pytest.mark.parametrize("command", ["detect", "listen"])
def test_a_closed_stdout_ends_quietly_with_exit_0(heldout_sequence, command):
    """`spotter listen | head -1`: the reader goes away after the first event."""
    path, digits = heldout_sequence
    audio, rate = sf.read(path, dtype="int16")
    args = [str(path)] * 20 if command == "detect" else ["--stdin", "--rate", str(rate)]
    shell = f"{sys.executable} -m spotter {command} {' '.join(args)} | head -1"
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell],
        input=audio.tobytes() * 20,
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert [e["digit"] for e in events_of(proc.stdout)] == digits[:1]


def test_help_lists_the_commands():
    result = run_spotter("--help")
    assert result.returncode == 0
    for command in ("detect", "listen", "devices", "train", "export", "eval"):
        assert command in result.stdout.decode()


def test_only_the_command_in_use_is_built_and_its_name_still_comes_first():
    from spotter.cli import app, app_for

    assert [c.callback.__name__ for c in app_for(["detect", "a.wav"]).registered_commands] == [
        "detect"
    ]
    assert [c.callback.__name__ for c in app_for(["export"]).registered_commands] == [
        "export_command"
    ]
    for args in ([], ["--help"], ["eval", "clips"], ["no-such-command"]):
        assert app_for(args) is app
    result = run_spotter("detect", "--help")
    assert result.returncode == 0 and "spotter detect [OPTIONS]" in result.stdout.decode()


def test_every_help_text_wraps_to_the_terminal():
    """Typer keeps a docstring's line breaks in the list of commands and in the paragraphs after
    the first on a command's page: so each command is listed by one line and described in one
    paragraph, which its page wraps to the terminal."""
    import inspect

    import typer

    from spotter.cli import app

    def commands(group):
        for command in group.commands.values():
            yield command
            if hasattr(command, "commands"):
                yield from commands(command)

    found = list(commands(typer.main.get_command(app)))
    assert {"listen", "calibrate", "train", "streams", "synth"} <= {c.name for c in found}
    for command in found:
        listed = command.short_help or inspect.cleandoc(command.help or "")
        assert "\n" not in listed, command.name
        assert "\n\n" not in inspect.cleandoc(command.help or ""), command.name


def test_bad_threshold_is_rejected(heldout_sequence):
    result = run_spotter("detect", "--threshold", "1.5", str(heldout_sequence[0]))
    assert result.returncode == 2
    assert "threshold" in result.stderr.decode()


def test_train_without_the_extra_says_so():
    code = "import sys; sys.modules['torch'] = None\nfrom spotter.cli import app; app()"
    result = subprocess.run(
        [sys.executable, "-c", code, "train"],
        capture_output=True,
        text=True,
        env={**os.environ},
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    assert "pip install 'spotter[train]'" in result.stderr


def test_train_on_synthetic_data_without_the_number_words_stops_before_training(tmp_path):
    """Calibration needs quiet-val at the end; a folder from an older 'spotter data synth' must
    not cost a whole training run first."""
    (tmp_path / "fsdd").mkdir()
    (tmp_path / "synth").mkdir()
    result = run_spotter(
        "train", "--fsdd", str(tmp_path / "fsdd"), "--synth", str(tmp_path / "synth"),
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.decode().strip().count("\n") == 0
    assert "quiet-val not found" in result.stderr.decode()
    assert not (tmp_path / "run").exists()


def test_model_int8_selects_the_shipped_int8_model(heldout_sequence):
    path, digits = heldout_sequence
    result = run_spotter("detect", "--model", "int8", str(path))
    assert result.returncode == 0, result.stderr
    assert [e["digit"] for e in events_of(result.stdout)] == digits
