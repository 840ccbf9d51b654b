"""`spotter bench`: what the spotter costs on this machine, measured, never assumed.

- the streaming step: wall time of one ONNX call for 1 hop and for k hops (p50, p99, per hop),
  with ``threads`` onnxruntime threads;
- `spotter detect` (one thread, as shipped) on a long file in a fresh process: CPU seconds
  per audio second (start-up excluded: the same command on a 1 s file is subtracted), and its
  peak RSS;
- start-up: wall time of `spotter detect` on a 1 s file, and of the floor (Python + numpy +
  onnxruntime + one InferenceSession of the same model) measured the same way;
- the model: load time, trained parameters, multiply-accumulates per hop, receptive field.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from spotter.engine import Engine
from spotter.errors import SpotterError

# Each measured child reports its own peak RSS (VmHWM) at exit: the rusage that wait4 gives a
# parent also counts the pre-exec copy of the parent, so it is useless for small programs.
REPORT_PEAK = (
    "import atexit, sys\n"
    "def report_peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            print('PEAK_RSS_KB', line.split()[1], file=sys.stderr)\n"
    "atexit.register(report_peak)\n"
)
FLOOR = (
    "import numpy, onnxruntime as ort\n"
    "options = ort.SessionOptions(); options.intra_op_num_threads = 1\n"
    "ort.InferenceSession(sys.argv[1], options, providers=['CPUExecutionProvider'])\n"
)
DETECT = "import runpy\nsys.argv[0] = 'spotter'\nrunpy.run_module('spotter', run_name='__main__')\n"
# Children cache bytecode as an installed Python does, even where the environment turns that
# off (PYTHONDONTWRITEBYTECODE): else each start-up compiles every changed module again.
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def step_latency(engine: Engine, hops: int, calls: int) -> dict:
    """Wall time of one streaming call that takes ``hops`` new hops, over ``calls`` calls."""
    rng = np.random.default_rng(0)
    chunk = (rng.standard_normal(hops * engine.info.hop_length) * 0.1).astype(np.float32)
    for _ in range(min(50, calls)):
        engine.run(chunk)
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        engine.run(chunk)
        times[i] = time.perf_counter_ns() - start
    p50, p99 = np.percentile(times, [50, 99]) / 1000
    return {
        "hops": hops,
        "calls": calls,
        "p50_us": round(p50, 1),
        "p99_us": round(p99, 1),
        "p50_us_per_hop": round(p50 / hops, 1),
    }


def timed_child(code: str, *args: str) -> tuple[float, float, float]:
    """Run Python ``code`` with ``args`` in a fresh interpreter: its wall seconds, CPU seconds
    and peak RSS in MB."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", REPORT_PEAK + code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=CHILD_ENV,
    )
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SpotterError(f"benchmark child failed: {stderr.strip().splitlines()[-1:]}")
    peak_kb = next(
        int(line.split()[1]) for line in stderr.splitlines() if line.startswith("PEAK_RSS_KB")
    )
    return wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def write_test_audio(path: Path, seconds: float) -> Path:
    """Seconds of quiet pink-ish noise with tone bursts, 16 kHz int16 (content barely matters
    for the cost: every hop runs the same network)."""
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", 16000, 1, "PCM_16") as out:
        for _ in range(int(seconds)):
            block = np.cumsum(rng.standard_normal(16000)) * 0.002
            block += 0.2 * np.sin(np.arange(16000) * 0.05) * (rng.random() < 0.3)
            out.write(np.clip(block - block.mean(), -1, 1))
    return path


def run_bench(
    model: Path, threads: int = 1, seconds: float = 600.0, calls: int = 2000, repeats: int = 11
) -> dict:
    started = time.perf_counter()
    engine = Engine(model, threads=threads)  # session, metadata and the warm-up run
    load_s = time.perf_counter() - started
    meta = engine.info.metadata
    rf = engine.info.receptive_field_frames
    report = {
        "model": str(model),
        "threads": threads,
        "parameters": int(meta.get("parameters", 0)) or None,
        "macs_per_hop": int(meta.get("macs_per_hop", 0)) or None,
        "receptive_field_frames": rf,
        "receptive_field_ms": int(meta["receptive_field_ms"]),
        "model_file_bytes": os.path.getsize(model),
        "model_load_s": round(load_s, 4),
        "step": [step_latency(engine, hops, calls) for hops in (1, 10, 100)],
    }
    detect = (DETECT, "detect", "--model", str(model))
    with tempfile.TemporaryDirectory(prefix="spotter-bench.") as scratch:
        short = write_test_audio(Path(scratch) / "one_second.wav", 1)
        long = write_test_audio(Path(scratch) / "long.wav", seconds)
        floor, startup = [], []
        timed_child(FLOOR, str(model))  # unmeasured first runs: bytecode gets cached
        timed_child(*detect, str(short))
        for _ in range(repeats):  # alternated, so a change of machine speed hits both alike
            floor.append(timed_child(FLOOR, str(model)))
            startup.append(timed_child(*detect, str(short)))
        whole = timed_child(*detect, str(long))
    startup_cpu = min(cpu for _, cpu, _ in startup)
    paired = [run[0] - base[0] for run, base in zip(startup, floor, strict=True)]
    report["startup_s"] = {
        "over_floor_median": round(float(np.median(paired)), 3),
        "detect_1s_file_wall": round(min(wall for wall, _, _ in startup), 3),
        "floor_wall": round(min(wall for wall, _, _ in floor), 3),
        "detect_1s_file_wall_median": round(float(np.median([w for w, _, _ in startup])), 3),
        "floor_wall_median": round(float(np.median([w for w, _, _ in floor])), 3),
        "repeats": repeats,
    }
    report["detect_long_file"] = {
        "audio_seconds": seconds,
        "wall_s": round(whole[0], 2),
        "cpu_s": round(whole[1], 2),
        "real_time_factor": round(max(whole[1] - startup_cpu, 0.0) / seconds, 5),
        "peak_rss_mb": round(whole[2], 1),
    }
    report["peak_rss_mb"] = {
        "detect_1s_file": round(max(rss for _, _, rss in startup), 1),
        "floor": round(max(rss for _, _, rss in floor), 1),
    }
    return report


def bench_table(report: dict) -> str:
    lines = [
        f"model {report['model']}: {report['parameters']:,} parameters, "
        f"{report['macs_per_hop']:,} MAC per 10 ms hop, receptive field "
        f"{report['receptive_field_frames']} frames ({report['receptive_field_ms']} ms), "
        f"{report['model_file_bytes'] / 1024:.0f} KB; {report['threads']} thread(s)",
        f"model load (session + warm-up), in process: {report['model_load_s'] * 1000:.1f} ms",
    ]
    for step in report["step"]:
        lines.append(
            f"step, {step['hops']:3d} hop(s) per call: p50 {step['p50_us']} us, "
            f"p99 {step['p99_us']} us, {step['p50_us_per_hop']} us per hop"
        )
    long, start, rss = report["detect_long_file"], report["startup_s"], report["peak_rss_mb"]
    lines += [
        f"detect on {long['audio_seconds'] / 60:.0f} min of audio: {long['cpu_s']} CPU s, "
        f"real-time factor {long['real_time_factor']} (start-up excluded), "
        f"peak RSS {long['peak_rss_mb']} MB",
        f"start-up (detect on a 1 s file, wall, best / median of {start['repeats']}): "
        f"{start['detect_1s_file_wall']} / {start['detect_1s_file_wall_median']} s; floor "
        f"(python + numpy + onnxruntime + session): {start['floor_wall']} / "
        f"{start['floor_wall_median']} s; over the floor, median of the alternated pairs: "
        f"{start['over_floor_median']} s",
        f"peak RSS: detect 1 s file {rss['detect_1s_file']} MB; floor {rss['floor']} MB",
    ]
    return "\n".join(lines)
