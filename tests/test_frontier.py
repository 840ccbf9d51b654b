"""scripts/frontier.py: the best validation recall per false-alarm rate that the model card's
tables quote, read from a calibration report's grid."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

from frontier import frontier  # noqa: E402


def row(recall: float, per_hour: float, quiet_fired: int) -> dict:
    return {"recall": recall, "false_alarms_per_hour": per_hour, "quiet_fired": quiet_fired}


# Rows as reports before session 21 wrote them (no isolated-digit scores): those are read too.
REPORT = {
    "quiet": {"recordings": 100, "max_share_fired": 0.1},
    "grid": [
        row(0.95, 30.0, 0),  # above every rate
        row(0.90, 18.0, 20),  # too many number words fire under the report's bound
        row(0.85, 19.0, 10),
        row(0.70, 4.0, 2),
        row(0.60, 0.5, 0),
    ],
}


def test_the_best_recall_at_each_rate_among_settings_that_keep_number_words_quiet():
    assert frontier(REPORT, (1.0, 5.0, 20.0), None) == [0.60, 0.70, 0.85]


def test_a_stricter_number_word_bound_and_a_rate_no_setting_reaches():
    assert frontier(REPORT, (0.1, 5.0, 20.0), 0.0) == [None, 0.60, 0.60]


def test_the_script_prints_a_row_per_report_and_rejects_other_json(tmp_path):
    good, bad = tmp_path / "model.calibration.json", tmp_path / "metrics.json"
    good.write_text(json.dumps(REPORT))
    bad.write_text(json.dumps({"final": {}}))
    script = [sys.executable, str(REPO / "scripts" / "frontier.py")]
    shown = subprocess.run([*script, str(good)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == f"| {good} | 60.00 % | 70.00 % | 70.00 % | 85.00 % |"
    refused = subprocess.run([*script, str(good), str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"frontier: error: {bad} is not a calibration report")
    assert refused.stdout == ""


def test_the_script_ends_quietly_when_the_reader_of_its_output_is_gone(tmp_path):
    report = tmp_path / "model.calibration.json"
    report.write_text(json.dumps(REPORT))
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `frontier.py ... | head -0`, without the race
    try:
        ended = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "frontier.py"), str(report)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    assert (ended.returncode, ended.stderr) == (0, "")
