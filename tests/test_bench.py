"""`spotter bench` runs end to end and reports measured, self-consistent numbers (no timing
thresholds here: speed goals live in the benchmark's output, not in tests)."""

from __future__ import annotations

import json

from conftest import run_spotter


def test_bench_measures_step_file_startup_and_memory(tmp_path):
    out = tmp_path / "bench.json"
    result = run_spotter("bench", "--seconds", "20", "--calls", "200", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(out.read_text())
    assert [s["hops"] for s in report["step"]] == [1, 10, 100]
    for step in report["step"]:
        assert 0 < step["p50_us"] <= step["p99_us"]
    assert report["macs_per_hop"] > report["parameters"] > 0
    assert report["receptive_field_frames"] == 99
    long = report["detect_long_file"]
    assert long["audio_seconds"] == 20 and long["cpu_s"] > 0 and long["real_time_factor"] >= 0
    assert long["peak_rss_mb"] >= report["peak_rss_mb"]["floor"] > 10
    start = report["startup_s"]
    assert 0 < start["detect_1s_file_wall"] <= start["detect_1s_file_wall_median"]
    assert 0 < start["floor_wall"] <= start["floor_wall_median"] and report["model_load_s"] > 0
    assert abs(start["over_floor_median"]) < start["detect_1s_file_wall_median"]
    assert "real-time factor" in result.stdout.decode()
