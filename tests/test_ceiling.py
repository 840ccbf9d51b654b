"""scripts/ceiling.py: the detector's and the peak posterior's accuracy on the same clips."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO, copy_at_16k, eval_clips_report

SCRIPT = [sys.executable, str(REPO / "scripts" / "ceiling.py")]


def test_the_detector_column_is_what_spotter_eval_clips_scores(tmp_path):
    # With the shipped model 5_yweweler_8 gives no event while its peak is "five".
    clips = tmp_path / "clips"
    copy_at_16k(["3_theo_0.wav", "7_yweweler_1.wav", "6_yweweler_0.wav", "5_yweweler_8.wav"], clips)
    shown = subprocess.run([*SCRIPT, str(clips)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    report = eval_clips_report(clips, tmp_path / "report")
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
