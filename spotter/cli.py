"""The ``spotter`` command line. Events go to stdout (one JSON line each, flushed); logs and
errors go to stderr as single lines.

Exit codes: 0 success; 1 some input could not be processed (the rest was); 2 usage error or
unusable model/device; 130 never (SIGINT/SIGTERM end ``listen`` cleanly with 0).
"""

from __future__ import annotations

import enum
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from spotter.api import Spotter
from spotter.errors import SpotterError, drop_stdout
from spotter.events import Event

APP_SETTINGS = dict(
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Streaming spoken-digit spotter: hears 'zero' … 'nine', emits JSON Lines events.",
)
app = typer.Typer(no_args_is_help=True, **APP_SETTINGS)


class Format(str, enum.Enum):
    jsonl = "jsonl"
    text = "text"


ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="ONNX model file, or a shipped model: float (the default) or int8.",
        show_default=False,
    ),
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(help="Detection threshold 0-1 (default: the model's own).", show_default=False),
]
StreamLevelOption = Annotated[
    tuple[float, float] | None,
    typer.Option(
        help="Scale each stream so that its digits' median peak lies between these levels, "
        "in dBFS, e.g. -50 -20 for quiet talkers (default: the clips' own levels).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="jsonl for programs, text for people.")
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also log details (device settings, retries).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Log errors only.")]


def configure_logging(verbose: bool, quiet: bool) -> None:
    """Logs to stderr, one line each: errors only (quiet), info (default) or debug (verbose)."""
    import logging  # only listen logs: detect does not pay for it

    class LogFormat(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
            return f"spotter: {level}{record.getMessage()}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormat())
    logger = logging.getLogger("spotter")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO)


def fail(message: str, code: int = 2) -> typer.Exit:
    print(f"spotter: error: {message}", file=sys.stderr, flush=True)
    return typer.Exit(code)


def check_level(level: tuple[float, float] | None, option: str = "--level") -> None:
    """A ``--level MIN MAX`` range of peak levels in dBFS, or a one-line error."""
    if level is not None and not level[0] <= level[1] <= 0:
        raise fail(f"{option} needs MIN <= MAX <= 0 (dBFS), got {level[0]} {level[1]}")


def output_file(path: Path) -> Path:
    """``path`` with its folder made now: a one-line error before any long work, instead of a
    traceback after it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise fail(f"cannot write {path}: {exc.filename} is not a folder") from None
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise fail(f"cannot write {path}: is a directory")
    return path


def emit(events: Iterable[Event], fmt: Format) -> None:
    for event in events:
        line = event.to_json() if fmt is Format.jsonl else event.to_text()
        try:
            print(line, flush=True)
        except BrokenPipeError:  # e.g. `spotter listen | head -1`: the reader is gone, end quietly
            drop_stdout()
            raise typer.Exit(0) from None


def load(model: Path | None, threshold: float | None, source: str) -> Spotter:
    try:
        return Spotter.load(model, threshold=threshold, source=source)
    except SpotterError as exc:
        raise fail(str(exc)) from None


@app.command()
def detect(
    files: Annotated[
        list[Path],
        typer.Argument(help="Audio files (WAV, FLAC, OGG, …; any rate, mono or stereo)."),
    ],
    model: ModelOption = None,
    threshold: ThresholdOption = None,
    fmt: FormatOption = Format.jsonl,
) -> None:
    """Stream each file through the spotter as if live and print its events."""
    spotter = load(model, threshold, "")
    failed = 0
    for path in files:
        try:
            emit(spotter.stream_file(path), fmt)
        except SpotterError as exc:
            print(f"spotter: error: {path}: {exc}", file=sys.stderr, flush=True)
            failed += 1
            emit(spotter.flush(), fmt)  # a word heard before a read error is still reported
    if failed:
        raise typer.Exit(1)


@app.command(
    short_help="Listen live (microphone, or --stdin) and print events until SIGINT/SIGTERM."
)
def listen(
    device: Annotated[
        str | None,
        typer.Option(help="Input device: index or name substring (see 'spotter devices')."),
    ] = None,
    stdin: Annotated[
        bool,
        typer.Option(
            "--stdin", help="Read raw s16le mono audio from stdin instead of a microphone."
        ),
    ] = False,
    rate: Annotated[
        int | None,
        typer.Option(
            help="Sample rate: of --stdin audio (default 16000), or to capture at "
            "(default: 16000 if the device takes it, else its own rate).",
            show_default=False,
        ),
    ] = None,
    channel: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Microphone channel to use, 1 = first (default: mono from the device, else "
            "the mean of its channels).",
            show_default=False,
        ),
    ] = None,
    buffer: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="Seconds of microphone audio held while processing catches up (64 KB per "
            "second at 16 kHz); audio beyond it is dropped and reported.",
        ),
    ] = 10.0,
    list_devices: Annotated[
        bool, typer.Option("--list-devices", help="List input devices and exit.")
    ] = False,
    model: ModelOption = None,
    threshold: ThresholdOption = None,
    fmt: FormatOption = Format.jsonl,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Listen live (microphone, or --stdin) and print events until SIGINT/SIGTERM (exit 0). A
    microphone that goes away (unplugged, sound server restarted) is waited for and reopened;
    audio lost meanwhile counts as time in the event clock."""
    if list_devices:
        devices()
        return
    from spotter.listener import MicrophoneSettings, listen_pipe, microphone_session
    from spotter.resample import MAX_RATE, MIN_RATE

    if rate is not None and not MIN_RATE <= rate <= MAX_RATE:
        raise fail(f"--rate must be {MIN_RATE}-{MAX_RATE} Hz, got {rate}")
    if stdin and (device is not None or channel is not None):
        raise fail("--device and --channel are for a microphone, not --stdin")
    configure_logging(verbose, quiet)
    spotter = load(model, threshold, "stdin" if stdin else "mic")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if stdin:
        events = listen_pipe(spotter, sys.stdin.buffer, rate or spotter.sample_rate, stop)
    else:
        settings = MicrophoneSettings(device, rate, channel, buffer)
        try:
            mic = settings.open()
        except SpotterError as exc:
            raise fail(str(exc)) from None
        events = microphone_session(spotter, mic, settings, stop)
    try:
        emit(events, fmt)
    except SpotterError as exc:
        raise fail(str(exc), 1) from None


@app.command()
def devices() -> None:
    """List audio input devices (index, name, host API, channels, default rate)."""
    from spotter.capture import input_devices

    try:
        found = input_devices()
    except SpotterError as exc:
        raise fail(str(exc)) from None
    if not found:
        print("spotter: no input devices found", file=sys.stderr)
    for d in found:
        print(
            f"{d['index']:3d}  {d['name']}  [{d['hostapi']}]  {d['channels']} ch  "
            f"{d['default_samplerate']:.0f} Hz"
        )


eval_app = typer.Typer(
    no_args_is_help=True,
    help="Score the spotter on labelled audio, through the same engine and detector as detect.",
)
app.add_typer(eval_app, name="eval")


@eval_app.command("clips")
def eval_clips(
    source: Annotated[
        Path,
        typer.Argument(
            help="A folder of {digit}_{speaker}_{take}.wav clips, or a CSV manifest with the "
            "columns path,label,speaker."
        ),
    ],
    pad: Annotated[
        float, typer.Option(help="Seconds of silence before and after each clip.")
    ] = 0.5,
    speakers: Annotated[
        str, typer.Option(help="Only these speakers (comma-separated), e.g. theo,yweweler.")
    ] = "",
    out: Annotated[Path, typer.Option(help="Folder for report.json and confusion.png.")] = Path(
        "runs/eval"
    ),
    model: ModelOption = None,
    threshold: ThresholdOption = None,
) -> None:
    """Isolated digits: accuracy overall, per digit and per speaker; event counts; latency."""
    from spotter.evaluate import clips_table, evaluate_clips, find_clips

    if pad < 0:
        raise fail("--pad must be >= 0")
    spotter = load(model, threshold, "")
    try:
        clips = find_clips(source, tuple(s for s in speakers.split(",") if s))
        report, _ = evaluate_clips(
            spotter, clips, pad, warn=lambda m: print(f"spotter: error: {m}", file=sys.stderr)
        )
    except SpotterError as exc:
        raise fail(str(exc), 1) from None
    save_report(
        report,
        model,
        source,
        out,
        clips_table(report),
        "confusion.png",
        lambda plots, path: plots.confusion_png(
            report["confusion"], path, f"{source} ({report['clips']} clips)"
        ),
    )
    if report["unreadable"]:
        raise typer.Exit(1)


@eval_app.command(
    "streams", short_help="Continuous streams: recall, false alarms per hour, latency, DET curve."
)
def eval_streams(
    source: Annotated[
        Path, typer.Argument(help="Labelled digit clips (a folder in FSDD naming, or a CSV).")
    ],
    speakers: Annotated[
        str, typer.Option(help="Only these speakers (comma-separated), e.g. theo,yweweler.")
    ] = "",
    negatives: Annotated[
        Path | None,
        typer.Option(help="Folder of non-digit speech WAVs (default: test sentences, espeak-ng)."),
    ] = None,
    noise: Annotated[Path, typer.Option(help="Folder of background-noise WAVs.")] = Path(
        "../shared/data/noise"
    ),
    streams: Annotated[int, typer.Option(min=1, help="Number of streams.")] = 4,
    seconds: Annotated[float, typer.Option(min=5, help="Length of each stream.")] = 150.0,
    seed: Annotated[int, typer.Option(help="Seed for building the streams.")] = 0,
    digits_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of utterances that are digit strings (the rest is ordinary speech).",
        ),
    ] = 0.55,
    string_gap: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Least and most silence added between the clips of a digit string, in seconds "
            "(each clip is first trimmed to its word and 0.05 s of its own silence a side); "
            "e.g. 0 0.1 for PINs said fast (default: 0.05 0.3).",
            show_default=False,
        ),
    ] = None,
    level: StreamLevelOption = None,
    out: Annotated[Path, typer.Option(help="Folder for report.json and det.png.")] = Path(
        "runs/eval-streams"
    ),
    model: ModelOption = None,
    threshold: ThresholdOption = None,
) -> None:
    """Continuous streams of digit strings, ordinary speech and noise: recall, substitutions,
    false alarms per hour, latency, and a threshold sweep (DET curve)."""
    import tempfile

    from spotter.evaluate import (
        StreamConfig,
        evaluate_streams,
        find_clips,
        streams_table,
        synthesise_negatives,
    )

    if string_gap is not None and not 0 <= string_gap[0] <= string_gap[1]:
        raise fail(f"--string-gap needs 0 <= MIN <= MAX, got {string_gap[0]} {string_gap[1]}")
    check_level(level)
    spotter = load(model, threshold, "stream")
    try:
        clips = find_clips(source, tuple(s for s in speakers.split(",") if s))
        with tempfile.TemporaryDirectory(prefix="spotter-negatives.") as scratch:
            if negatives is None:
                speech = synthesise_negatives(Path(scratch))
            else:
                speech = wav_files(negatives)
            cfg = StreamConfig(
                streams=streams,
                seconds=seconds,
                seed=seed,
                digits_p=digits_share,
                string_gap_s=string_gap or StreamConfig.string_gap_s,
                level_dbfs=level,
            )
            sweep = (*(round(0.05 * i, 2) for i in range(2, 20)), 0.97, 0.98, 0.99)
            report = evaluate_streams(
                spotter, clips, speech, noise if noise.is_dir() else None, cfg, sweep
            )
    except SpotterError as exc:
        raise fail(str(exc), 1) from None
    save_report(
        report,
        model,
        source,
        out,
        streams_table(report),
        "det.png",
        lambda plots, path: plots.det_png(
            report["sweep"],
            report["threshold"],
            path,
            f"{report['audio_seconds'] / 60:.0f} min of streams from {source}"
            + (f", digits peaking at {level[0]:g} to {level[1]:g} dBFS" if level else ""),
        ),
    )


def wav_files(folder: Path) -> list[Path]:
    """Every .wav under ``folder`` (subfolders too), in a stable order."""
    found = sorted(folder.rglob("*.wav")) if folder.is_dir() else []
    if not found:
        raise SpotterError(f"{folder}: no .wav files")
    return found


@app.command(short_help="Choose the detector's settings on validation voices; store them.")
def calibrate(
    model: Annotated[Path, typer.Argument(help="ONNX model to calibrate.")],
    clips: Annotated[
        Path, typer.Option(help="Validation digit clips (FSDD-named folder or CSV).")
    ] = Path("data/synth/val.csv"),
    negatives: Annotated[
        Path, typer.Option(help="Folder of validation non-digit speech WAVs.")
    ] = Path("data/synth/other-val"),
    quiet: Annotated[
        Path, typer.Option(help="Folder of validation number words that must not fire.")
    ] = Path("data/synth/quiet-val"),
    noise: Annotated[Path, typer.Option(help="Folder of background-noise WAVs.")] = Path(
        "../shared/data/noise"
    ),
    target_fa: Annotated[
        float, typer.Option(min=0.0, help="False alarms per hour of non-digit audio to stay under.")
    ] = 20.0,
    max_quiet: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of the --quiet recordings that may fire.")
    ] = 0.1,  # spotter.calibrate.MAX_QUIET (that module is imported only when the command runs)
    max_latency: Annotated[
        float,
        typer.Option(
            min=0.0, help="Median latency (s) on isolated validation digits to stay under."
        ),
    ] = 0.15,  # spotter.calibrate.MAX_LATENCY_S
    min_recall: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="When the target is out of reach: keep this recall."),
    ] = 0.9,
    streams: Annotated[int, typer.Option(min=1, help="Validation streams of 5 minutes.")] = 48,
    level: StreamLevelOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that replay the settings (default: one per core).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the calibrated model here (default: in place).")
    ] = None,
) -> None:
    """Choose the detector's threshold, smoothing, minimum frames and blip merging for the best
    mean of stream recall and isolated-word accuracy on validation voices, within a false-alarm
    target and a latency bound and keeping number words quiet, and store them in the model's
    metadata (the look-ahead stays 0: it would only delay events; the refractory period stays
    25 frames)."""
    from spotter.calibrate import available_cores, write_detector
    from spotter.calibrate import calibrate as run_calibration
    from spotter.evaluate import StreamConfig, find_clips

    check_level(level)
    spotter = load(model, None, "calibration")
    out = output_file(out or model)
    try:
        report = run_calibration(
            spotter,
            find_clips(clips),
            wav_files(negatives),
            noise if noise.is_dir() else None,
            target_fa,
            min_recall,
            StreamConfig(streams=streams, seconds=300.0, seed=1, level_dbfs=level),
            workers=workers or available_cores(),
            quiet=wav_files(quiet),
            max_quiet=max_quiet,
            max_latency_s=max_latency,
            log=lambda message: print(f"spotter: {message}", file=sys.stderr, flush=True),
        )
        chosen = report["chosen"]
        write_detector(model, out, chosen["detector"], report)
    except SpotterError as exc:
        raise fail(str(exc), 1) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", 1) from None
    report_path = out.with_suffix(".calibration.json")
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                "model": str(out),
                "target_met": report["target_met"],
                "detector": chosen["detector"],
                "recall": chosen["recall"],
                "false_alarms_per_hour": chosen["false_alarms_per_hour"],
                "isolated_accuracy": chosen["isolated_accuracy"],
                "isolated_latency_s": chosen["isolated_latency_s"],
                "report": str(report_path),
            }
        )
    )


data_app = typer.Typer(no_args_is_help=True, help="Make training and evaluation data.")
app.add_typer(data_app, name="data")


@data_app.command(
    "synth", short_help="Synthesise digits and ordinary speech in offline TTS voices."
)
def data_synth(
    out: Annotated[Path, typer.Option(help="Folder for the WAVs and manifests.")] = Path(
        "data/synth"
    ),
    engines: Annotated[
        str, typer.Option(help="Comma-separated TTS engines (default: all).")
    ] = "espeak,mbrola,festival,flite,pico,rhvoice,piper",
    takes: Annotated[int, typer.Option(min=1, help="Takes per digit and voice.")] = 8,
    random_sentences: Annotated[
        int, typer.Option(min=0, help="Strings of random dictionary words (needs festival).")
    ] = 1500,
    sentence_voices: Annotated[
        int,
        typer.Option(
            min=1, help="Voices that speak each validation or test sentence (ordinary speech)."
        ),
    ] = 16,
    seed: Annotated[int, typer.Option(help="Seed for rates, pitches and voice choices.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Parallel synthesis processes.")] = 2,
    max_voices: Annotated[
        int | None, typer.Option(min=1, help="At most this many voices per engine and split.")
    ] = None,
) -> None:
    """Synthesise the ten digits and ordinary speech in every voice of the chosen offline TTS
    engines, split into train/val/test by voice source (see models/synth.py)."""
    training_extra()
    from models.synth import SynthConfig, synthesise_dataset
    from models.voices import ENGINES

    chosen = tuple(e for e in engines.split(",") if e)
    unknown = set(chosen) - set(ENGINES)
    if unknown:
        raise fail(f"unknown engines: {', '.join(sorted(unknown))} (known: {', '.join(ENGINES)})")
    cfg = SynthConfig(
        out=out,
        engines=chosen,
        takes=takes,
        random_sentences=random_sentences,
        sentence_voices=sentence_voices,
        seed=seed,
        workers=workers,
        max_voices=max_voices,
    )
    try:
        counts = synthesise_dataset(cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
    except RuntimeError as exc:
        raise fail(str(exc), 1) from None
    print(json.dumps({"out": str(out), **counts}))


def save_report(
    report: dict,
    model: Path | None,
    source: Path,
    out: Path,
    table: str,
    figure: str,
    plot: Callable,
) -> None:
    """report.json and a figure under ``out``; the table on stdout. No matplotlib: no figure."""
    report["model"] = str(model or "shipped")
    report["source"] = str(source)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table)
    print(f"spotter: wrote {out / 'report.json'}", file=sys.stderr)
    try:
        from spotter import plots

        plot(plots, out / figure)
        print(f"spotter: wrote {out / figure}", file=sys.stderr)
    except SpotterError as exc:
        print(f"spotter: warning: {exc}", file=sys.stderr)


@app.command()
def bench(
    model: ModelOption = None,
    threads: Annotated[int, typer.Option(min=1, help="onnxruntime threads for the step.")] = 1,
    seconds: Annotated[float, typer.Option(min=10, help="Length of the long file.")] = 600.0,
    calls: Annotated[int, typer.Option(min=100, help="Calls per step measurement.")] = 2000,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON report here.")] = None,
) -> None:
    """Measure the cost: step latency, real-time factor, start-up, peak RSS, model size."""
    from spotter.api import model_path
    from spotter.bench import bench_table, run_bench

    path = model_path(model)
    try:
        report = run_bench(path, threads=threads, seconds=seconds, calls=calls)
    except SpotterError as exc:
        raise fail(str(exc), 1) from None
    print(bench_table(report))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"spotter: wrote {out}", file=sys.stderr)


def training_extra() -> None:
    try:
        import torch  # noqa: F401
        import torchaudio  # noqa: F401
    except ImportError:
        raise fail("this command needs the training extra: pip install 'spotter[train]'") from None


@app.command(short_help="Train a model, export it to ONNX and calibrate its detector.")
def train(
    fsdd: Annotated[Path, typer.Option(help="Free Spoken Digit Dataset folder.")] = Path(
        "../shared/data/fsdd"
    ),
    noise: Annotated[Path, typer.Option(help="Folder of background-noise WAVs.")] = Path(
        "../shared/data/noise"
    ),
    out: Annotated[
        Path, typer.Option(help="Output folder (checkpoint, metrics, model.onnx).")
    ] = Path("runs/default"),
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 50000,
    batch_size: Annotated[int, typer.Option(help="Windows per step.")] = 32,
    channels: Annotated[int, typer.Option(help="CNN width.")] = 56,
    separable: Annotated[
        bool,
        typer.Option(
            "--separable", help="Factor each k-tap convolution into per-channel k taps + 1×1."
        ),
    ] = False,
    heldout: Annotated[
        str, typer.Option(help="Comma-separated speakers never trained on.")
    ] = "theo,yweweler",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for torch.")] = 2,
    synth: Annotated[
        Path, typer.Option(help="Synthetic voices from 'spotter data synth' (train/val splits).")
    ] = Path("data/synth"),
    fsdd_only: Annotated[
        bool, typer.Option("--fsdd-only", help="Train on FSDD alone, without synthetic voices.")
    ] = False,
    target_fa: Annotated[
        float, typer.Option(help="Calibrate the detector on --synth's validation voices for this.")
    ] = 20.0,
    calibration_level: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Peak levels of the calibration's validation streams, in dBFS, as 'spotter "
            "calibrate --level' (default: the clips' own levels).",
            show_default=False,
        ),
    ] = None,
    max_clips: Annotated[
        int | None, typer.Option(help="Use at most this many clips (quick runs).")
    ] = None,
    lr: Annotated[float, typer.Option(min=0.0, help="Peak of the one-cycle learning rate.")] = 3e-3,
    gap: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Least and most silence between the words of a training window, in seconds "
            "(on top of the clips' own; default: 0.05 0.8).",
            show_default=False,
        ),
    ] = None,
    level: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Least and most peak level of a training word, in dBFS (default: -35.0 -1.0).",
            show_default=False,
        ),
    ] = None,
    burst_drop_weight: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Weight of a loss on falls of a digit's margin inside its burst (0: off).",
        ),
    ] = 0.0,
    hard_background_weight: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Weight of a loss on the worst frames of windows without a digit (0: off).",
        ),
    ] = 0.0,
    shifted_voices: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Also train on a copy of every FSDD training clip with every frequency "
            "(pitch and formants) times a random factor from LO to HI, made with sox: voices "
            "higher than FSDD's men (1.15 1.7, say).",
            show_default=False,
        ),
    ] = None,
    synthetic_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of the training digit words drawn from the synthetic voices and "
            "--shifted-voices' copies; the rest are FSDD's training clips.",
        ),
    ] = 0.5,
    init: Annotated[
        Path | None,
        typer.Option(
            help="Warm restart: start from the weights and normalisation of this checkpoint.pt "
            "or float model.onnx (the shipped digits.onnx, say; its network replaces "
            "--channels/--separable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a model on FSDD (speaker-disjoint split) and --synth's voices, export it to
    OUT/model.onnx and calibrate its detector as 'spotter calibrate' does, on --synth's
    validation voices (no calibration with --fsdd-only)."""
    training_extra()
    from models.data import MixConfig
    from models.network import NetworkConfig
    from models.pitch import FACTOR_BOUNDS, SOX_MISSING, have_sox
    from models.train import TrainConfig
    from models.train import train as run_training

    if not fsdd.is_dir():
        raise fail(f"FSDD folder not found: {fsdd} (set --fsdd)")
    if gap is not None and not 0 <= gap[0] <= gap[1]:
        raise fail(f"--gap needs 0 <= MIN <= MAX, got {gap[0]} {gap[1]}")
    check_level(level)
    check_level(calibration_level, "--calibration-level")
    if fsdd_only and calibration_level is not None:
        raise fail("--calibration-level: --fsdd-only trains without a calibration")
    if shifted_voices is not None:
        low, high = FACTOR_BOUNDS
        if not low <= shifted_voices[0] <= shifted_voices[1] <= high:
            raise fail(
                f"--shifted-voices needs {low:g} <= LO <= HI <= {high:g}, "
                f"got {shifted_voices[0]} {shifted_voices[1]}"
            )
        if not have_sox():
            raise fail(f"--shifted-voices: {SOX_MISSING}")
    if init is not None and not init.is_file():
        raise fail(f"--init not found: {init}")
    quiet = synth / "quiet-val"  # the number words the final calibration keeps quiet
    if not fsdd_only and not quiet.is_dir():
        raise fail(f"{quiet} not found: calibration needs it ('spotter data synth')")
    cfg = TrainConfig(
        fsdd=fsdd,
        noise=noise if noise.is_dir() else None,
        out=out,
        steps=steps,
        batch_size=batch_size,
        heldout_speakers=tuple(s for s in heldout.split(",") if s),
        seed=seed,
        threads=threads,
        synth=synth if synth.is_dir() or not fsdd_only else None,
        synthetic_train=not fsdd_only,
        max_clips=max_clips,
        net=NetworkConfig(channels=channels, separable=separable),
        lr=lr,
        burst_drop_weight=burst_drop_weight,
        hard_background_weight=hard_background_weight,
        mix=MixConfig(
            gap_s=gap or MixConfig.gap_s,
            peak_dbfs=level or MixConfig.peak_dbfs,
            synthetic_p=synthetic_share,
        ),
        init=init,
        shifted_voices=shifted_voices,
    )
    cfg.eval_every = min(cfg.eval_every, steps)
    try:
        run_training(cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    export_checked(out / "checkpoint.pt", out / "model.onnx")
    if not fsdd_only:
        calibrate(
            out / "model.onnx",
            clips=synth / "val.csv",
            negatives=synth / "other-val",
            quiet=quiet,
            noise=noise,
            target_fa=target_fa,
            level=calibration_level,
        )


@app.command("export")
def export_command(
    checkpoint: Annotated[Path, typer.Argument(help="checkpoint.pt written by 'spotter train'.")],
    out: Annotated[Path, typer.Option(help="ONNX file to write.")] = Path("model.onnx"),
    detector_from: Annotated[
        Path | None,
        typer.Option(
            help="Keep the calibrated detector of this model: the same checkpoint exported "
            "before (by an older spotter, say).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export a checkpoint to a streaming ONNX model and check it against the torch model."""
    from spotter.calibrate import detector_metadata, update_metadata

    training_extra()
    if not checkpoint.is_file():
        raise fail(f"checkpoint not found: {checkpoint}")
    try:
        kept = detector_metadata(detector_from) if detector_from is not None else None
    except SpotterError as exc:
        raise fail(str(exc)) from None
    export_checked(checkpoint, out)
    if kept is not None:
        update_metadata(out, out, kept)


@app.command("quantize", short_help="Write the int8 version of a model (training extra).")
def quantize_command(
    model: Annotated[Path, typer.Argument(help="Float ONNX spotter model.")],
    out: Annotated[Path, typer.Option(help="ONNX file to write.")] = Path("model-int8.onnx"),
) -> None:
    """Write the int8 version of a model: convolution weights in int8, front end in float
    (needs the onnx package of the training extra)."""
    try:
        from export.quantize import quantize
    except ImportError:
        raise fail("this command needs the training extra: pip install 'spotter[train]'") from None
    load(model, None, "")  # a one-line error for a missing file or one that is not a spotter
    try:
        quantize(model, output_file(out))
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", 1) from None
    print(json.dumps({"model": str(out), "bytes": out.stat().st_size}))


def export_checked(checkpoint: Path, out: Path) -> None:
    """Checkpoint → streaming ONNX at ``out``; fails if streaming differs from offline torch."""
    from export.onnx_export import export, parity
    from models.train import load_checkpoint

    try:
        model, summary = load_checkpoint(checkpoint)
    except ValueError as exc:
        raise fail(str(exc)) from None
    export(model, out, summary)
    diff = parity(model, out)
    print(json.dumps({"model": str(out), "max_abs_diff_streaming_vs_offline": diff}))
    if diff > 1e-4:
        raise fail(f"streaming ONNX output differs from torch by {diff:.2e}", 1)


def main() -> None:
    app_for(sys.argv[1:])()


def app_for(args: list[str]) -> typer.Typer:
    """The app reduced to the one command that ``args`` name, or the whole app.

    typer turns every registered command into a click command on each run; building only the
    one in use takes about 15 ms off the start-up of ``detect`` (measured with ``spotter bench``).
    """
    name = args[0] if args else None
    wanted = [
        info
        for info in app.registered_commands
        if (info.name or info.callback.__name__.replace("_", "-")) == name
    ]
    if not wanted:
        return app
    reduced = typer.Typer(**APP_SETTINGS)
    reduced.registered_commands = wanted
    reduced.callback()(lambda: None)  # a group, so that args[0] still names the command
    return reduced
