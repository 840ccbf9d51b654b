"""scripts/pitch-sweep.py: accuracy with every clip's frequencies scaled by one factor."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from conftest import FSDD, REPO, copy_at_16k, eval_clips_report

SCRIPT = [sys.executable, str(REPO / "scripts" / "pitch-sweep.py")]
NAMES = ["3_theo_0.wav", "7_yweweler_1.wav", "6_yweweler_0.wav", "5_theo_8.wav", "0_theo_3.wav"]


@pytest.mark.parametrize("factor", [1.3, 1.6])
def test_a_factor_scores_as_spotter_eval_clips_scores_copies_shifted_by_sox(tmp_path, factor):
    copy_at_16k(NAMES, tmp_path / "own")
    (tmp_path / "shifted").mkdir()
    cents = f"{1200 * math.log2(factor):.2f}"
    for name in NAMES:  # sox's command line on files: another path to the same effect
        own, shifted = tmp_path / "own" / name, tmp_path / "shifted" / name
        subprocess.run(["sox", own, "-e", "floating-point", shifted, "pitch", cents], check=True)
    shown = subprocess.run(
        [*SCRIPT, str(tmp_path / "own"), "--factors", str(factor)], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    report = eval_clips_report(tmp_path / "shifted", tmp_path / "report")
    shown_factor, _, accuracy, _ = shown.stdout.splitlines()[-1].split()
    assert float(shown_factor) == factor
    assert float(accuracy) == round(100 * report["accuracy"], 1)


def test_a_factor_beyond_an_octave_is_a_one_line_error():
    refused = subprocess.run(
        [*SCRIPT, str(FSDD), "--factors", "1.2", "3"], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert refused.stderr == "pitch-sweep: error: factors must be between 0.5 and 2 (an octave)\n"
    assert refused.stdout == ""


def test_without_sox_it_says_so_in_one_line(tmp_path):
    refused = subprocess.run(
        [*SCRIPT, str(FSDD)], capture_output=True, text=True, env={"PATH": str(tmp_path)}
    )
    assert refused.returncode == 2
    assert refused.stderr == "pitch-sweep: error: sox not found (scripts/install-system-deps.sh)\n"
