"""scripts/reversed.py: how often time-reversed digits fire, as `spotter eval clips` hears them."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO, copy_at_16k, eval_clips_report

from spotter.events import WORDS

SCRIPT = [sys.executable, str(REPO / "scripts" / "reversed.py")]


def test_the_reversed_column_is_what_spotter_eval_clips_hears_in_reversed_copies(tmp_path):
    # With the shipped model 0_theo_1 and 9_yweweler_4 reversed fire (as "three" and "zero") and
    # 3_theo_0 reversed does not.
    names = ["3_theo_0.wav", "0_theo_1.wav", "7_yweweler_0.wav", "9_yweweler_4.wav"]
    copy_at_16k(names, tmp_path / "forwards")
    copy_at_16k(names, tmp_path / "backwards", reverse=True)
    shown = subprocess.run([*SCRIPT, str(tmp_path / "forwards")], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    report = eval_clips_report(tmp_path / "backwards", tmp_path / "report")

    head = shown.stdout.splitlines()[0].split()
    assert head[:2] == ["clips", "4"]
    assert 0 < report["no_event"] < 1  # some reversed clips fire and some do not
    assert float(head[8]) == round(100 * (1 - report["no_event"]), 1)
    per_digit = {}
    for line in shown.stdout.splitlines()[1:]:
        digit, rest = line.strip().split(": ", 1)
        heard = rest.split(": ", 1)[1].split(", ") if ": " in rest else []
        per_digit[int(digit)] = {word: int(n) for word, n in (h.split() for h in heard)}
    for digit, row in enumerate(report["confusion"]):
        assert per_digit.get(digit, {}) == {WORDS[d]: n for d, n in enumerate(row[:10]) if n}


def test_a_folder_without_labelled_clips_is_a_one_line_error(tmp_path):
    refused = subprocess.run([*SCRIPT, str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith("reversed: error: ") and refused.stderr.count("\n") == 1
    assert refused.stdout == ""
