"""scripts/level-sweep.py: accuracy with every clip scaled to one peak level."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf
import soxr
from conftest import FSDD, REPO, run_spotter

SCRIPT = [sys.executable, str(REPO / "scripts" / "level-sweep.py")]
NAMES = ["3_theo_0.wav", "7_yweweler_1.wav", "6_yweweler_0.wav", "5_theo_8.wav"]


def test_a_level_scores_as_spotter_eval_clips_scores_the_clips_scaled_to_it(tmp_path):
    (tmp_path / "own").mkdir()
    (tmp_path / "scaled").mkdir()
    for name in NAMES:  # 16 kHz float copies, so that both read the same samples
        audio = soxr.resample(*sf.read(FSDD / name, dtype="float32"), 16000)
        sf.write(tmp_path / "own" / name, audio, 16000, subtype="FLOAT")
        scaled = audio * 10 ** (-50 / 20) / np.abs(audio).max()
        sf.write(tmp_path / "scaled" / name, scaled, 16000, subtype="FLOAT")
    shown = subprocess.run(
        [*SCRIPT, str(tmp_path / "own"), "--levels", "-50"], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    scored = run_spotter("eval", "clips", str(tmp_path / "scaled"), "--out", str(tmp_path / "r"))
    assert scored.returncode == 0, scored.stderr.decode()
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    level, accuracy, _ = shown.stdout.splitlines()[-1].split()
    assert level == "-50" and float(accuracy) == round(100 * report["accuracy"], 1)


def test_a_level_above_full_scale_is_a_one_line_error(tmp_path):
    refused = subprocess.run(
        [*SCRIPT, str(FSDD), "--levels", "-20", "6"], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert refused.stderr == "level-sweep: error: levels are dBFS, at most 0\n"
    assert refused.stdout == ""


def test_a_silent_clip_has_no_level_and_is_a_one_line_error(tmp_path):
    sf.write(tmp_path / "4_nobody_0.wav", np.zeros(8000, np.float32), 16000)
    refused = subprocess.run([*SCRIPT, str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith("level-sweep: error: ") and refused.stderr.count("\n") == 1
    assert "4_nobody_0.wav is silent" in refused.stderr
