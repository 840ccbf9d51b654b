"""A short soak (scripts/soak.py; the hour-long one is in the README): every event of a long
stream lands exactly where its digit is, through `spotter detect` and through the library."""

from __future__ import annotations

import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import soak  # noqa: E402


def test_events_of_a_long_stream_are_exactly_where_the_digits_are(tmp_path):
    path = tmp_path / "soak.wav"
    expected = soak.build(path, minutes=2, every_s=3)
    assert len(expected) == 40
    for run in (soak.soak_detect, soak.soak_library):
        assert run(path, soak.Check(expected))["mismatches"] == 0


def test_a_shifted_event_is_a_mismatch():
    check = soak.Check([(3, 1.27, 1.49)])
    check.see({"digit": 3, "end": 1.27, "time": 1.5})
    assert check.result() == {"events": 1, "mismatches": 2}
