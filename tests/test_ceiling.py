"""scripts/ceiling.py: the detector's and the peak posterior's accuracy on the same clips."""

from __future__ import annotations

import json
import subprocess
import sys

import soundfile as sf
import soxr
from conftest import FSDD, REPO, run_spotter

SCRIPT = [sys.executable, str(REPO / "scripts" / "ceiling.py")]


def test_the_detector_column_is_what_spotter_eval_clips_scores(tmp_path):
    # 16 kHz copies, so both read the same samples (no resampling in blocks or whole). With
    # the shipped model 5_yweweler_8 gives no event while its peak is "five".
    for name in ["3_theo_0.wav", "7_yweweler_1.wav", "6_yweweler_0.wav", "5_yweweler_8.wav"]:
        audio, rate = sf.read(FSDD / name, dtype="float32")
        sf.write(tmp_path / name, soxr.resample(audio, rate, 16000), 16000)
    shown = subprocess.run([*SCRIPT, str(tmp_path)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    scored = run_spotter("eval", "clips", str(tmp_path), "--out", str(tmp_path / "report"))
    assert scored.returncode == 0, scored.stderr.decode()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    head = shown.stdout.splitlines()[0].split()
    assert head[:2] == ["clips", "4"]
    assert float(head[3]) == 100 * report["accuracy"]
    peak = float(head[6])
    misses = shown.stdout.splitlines()[1:]
    assert peak == 100 * (4 - sum(int(line.split()[0]) for line in misses)) / 4


def test_a_folder_without_labelled_clips_is_a_one_line_error(tmp_path):
    refused = subprocess.run([*SCRIPT, str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith("ceiling: error: ") and refused.stderr.count("\n") == 1
    assert refused.stdout == ""
