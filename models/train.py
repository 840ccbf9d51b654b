"""Train the digit spotter on FSDD with a speaker-disjoint split; CPU, seeded.

Split (``split="speakers"``, the default): the clips of ``heldout_speakers`` are never trained
on and measure new voices; of the training speakers, takes 0–4 (FSDD's official test takes) are
held back too and measure the official, speaker-dependent split. Both are scored exactly as the
runtime scores them: each clip padded with silence, streamed through the detector, the
highest-scoring detection taken as the prediction.
"""

from __future__ import annotations

import json
import math
import pickle
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from export.onnx_import import fit_statistics, load_onnx_model
from models.data import IGNORE, Clip, MixConfig, Mixer, load_fsdd, shifted_copies
from models.features import FrontEndConfig, LogMel
from models.model import SpotterModel
from models.network import NetworkConfig
from models.synth import load_split
from spotter.detector import Detector, DetectorConfig
from spotter.errors import first_line
from spotter.sources import load_noises

OFFICIAL_TEST_TAKES = range(5)
CLIP_PAD_S = 0.5
HARD_FRAMES = 8  # frames per window that ``hard_background`` weighs: about half the hold
END_OF_STREAM_S = 0.5  # silence the runtime appends at the end of a file (see spotter.api)


@dataclass
class TrainConfig:
    fsdd: Path = Path("../shared/data/fsdd")
    noise: Path | None = Path("../shared/data/noise")
    out: Path = Path("runs/default")
    heldout_speakers: tuple[str, ...] = ("theo", "yweweler")
    steps: int = 50000
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    eval_every: int = 2000
    seed: int = 0
    threads: int = 2
    max_clips: int | None = None  # cap on FSDD clips (tests use a few)
    spec_augment: bool = True
    burst_drop_weight: float = 0.0  # weight of ``burst_drop`` beside the cross-entropy
    hard_background_weight: float = 0.0  # weight of ``hard_background`` beside it
    synth: Path | None = Path("data/synth")  # `spotter data synth` output: validation voices
    synthetic_train: bool = True  # and train on its voices too (else FSDD alone)
    engines: tuple[str, ...] = ()  # synthetic voices of these engines only; () = all
    other_speech: bool = True  # ordinary speech from the synthetic voices as background
    # Higher voices: a copy of every FSDD training clip with every frequency times a factor
    # drawn from these bounds (sox pitch) joins the synthetic voices' pool of digit words
    shifted_voices: tuple[float, float] | None = None
    channel_p: float = 0.5  # share of windows heard through a random microphone response
    highpass_hz: tuple[float, float] = (30.0, 300.0)
    lowpass_hz: tuple[float, float] = (3000.0, 8000.0)  # band limits of engines, microphones
    tilt_db_per_octave: tuple[float, float] = (-3.0, 3.0)
    net: NetworkConfig = field(default_factory=NetworkConfig)
    mix: MixConfig = field(default_factory=MixConfig)
    # A warm restart: start from this checkpoint's (or float model.onnx's) weights and input
    # normalisation (its network replaces ``net``) and run a new one-cycle schedule over them.
    init: Path | None = None


def split_clips(clips: list[Clip], heldout: tuple[str, ...]) -> dict[str, list[Clip]]:
    unknown = set(heldout) - {c.speaker for c in clips}
    if unknown:
        raise ValueError(f"held-out speakers not in the data: {sorted(unknown)}")
    return {
        "train": [
            c for c in clips if c.speaker not in heldout and c.take not in OFFICIAL_TEST_TAKES
        ],
        "official": [
            c for c in clips if c.speaker not in heldout and c.take in OFFICIAL_TEST_TAKES
        ],
        "heldout": [c for c in clips if c.speaker in heldout],
    }


def spec_augment(logmel: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One frequency mask (≤ 6 bins) and two time masks (≤ 6 frames) per example, set to 0
    (the normalised mean)."""
    batch, n_mels, n_frames = logmel.shape
    bins = torch.arange(n_mels)[None, :, None]
    frames = torch.arange(n_frames)[None, None, :]
    mask = torch.zeros_like(logmel, dtype=torch.bool)
    width = torch.randint(0, 7, (batch, 1, 1), generator=gen)
    start = torch.randint(0, n_mels - 6, (batch, 1, 1), generator=gen)
    mask |= (bins >= start) & (bins < start + width)
    for _ in range(2):
        width = torch.randint(0, 7, (batch, 1, 1), generator=gen)
        start = torch.randint(0, n_frames - 6, (batch, 1, 1), generator=gen)
        mask |= (frames >= start) & (frames < start + width)
    return logmel.masked_fill(mask, 0.0)


def burst_drop(logits: torch.Tensor, targets: torch.Tensor, silence: int) -> torch.Tensor:
    """How far the target digit's margin (its logit minus the best other class's) falls from one
    frame to the next inside a digit's burst, averaged over the burst's pairs of frames.

    A burst that only rises or holds costs nothing; one that dips between two frames does. On
    voices it never heard the model's bursts dip for a few frames at the spacings of its
    dilations, and the detector's hold then sees blips instead of a word ("Why bursts split" in
    models/EXPERIMENTS.md: the term cuts those dips by about 40 % and costs false alarms).

    logits (B, C, T), targets (B, T) → a scalar."""
    burst = (targets >= 0) & (targets != silence)
    pairs = burst[:, 1:] & (targets[:, 1:] == targets[:, :-1])
    if not pairs.any():
        return logits.new_zeros(())
    label = targets.clamp(min=0)[:, None, :]
    own = logits.gather(1, label)[:, 0]
    others = logits.scatter(1, label, float("-inf")).amax(dim=1)
    margin = own - others
    return torch.relu(margin[:, :-1] - margin[:, 1:])[pairs].mean()


def hard_background(
    logits: torch.Tensor, targets: torch.Tensor, silence: int, worst: int = HARD_FRAMES
) -> torch.Tensor:
    """The cross-entropy of the ``worst`` frames of each window that holds no digit (ordinary
    speech, noise, silence), averaged over those windows.

    The mean cross-entropy spreads over thousands of easy background frames; a false alarm is a
    few frames of ordinary speech that look like a digit for as long as the detector's hold.
    This term weighs those frames alone (a max-pooling loss over each window's negatives). A
    window whose last frames hear a digit that has not ended yet counts as background, as its
    targets say (3 % of training windows). Tried in session 23 ("Hard background frames" in
    models/EXPERIMENTS.md): it moves the operating point to fewer false alarms and fewer
    words, not past the frontier.

    logits (B, C, T), targets (B, T) → a scalar."""
    negative = (targets == silence).all(dim=1)
    if not negative.any():
        return logits.new_zeros(())
    frame_loss = F.cross_entropy(logits[negative], targets[negative], reduction="none")
    return frame_loss.topk(min(worst, frame_loss.shape[1]), dim=1).values.mean()


def random_channel(
    logmel: torch.Tensor, front_end: LogMel, cfg: TrainConfig, gen: torch.Generator
) -> torch.Tensor:
    """A random microphone per window: soft high-pass, low-pass and spectral tilt. A linear
    filter is an additive per-bin offset on log-mel frames, so it costs nothing to apply here.

    logmel: normalised (B, n_mels, T) → the same shape."""
    batch = logmel.shape[0]

    def uniform(bounds: tuple[float, float]) -> torch.Tensor:
        return bounds[0] + (bounds[1] - bounds[0]) * torch.rand(batch, 1, generator=gen)

    centres = front_end.mel_centres_hz[None, :]
    tilt_db = uniform(cfg.tilt_db_per_octave) * torch.log2(centres / 1000.0)
    power_gain = (
        1.0
        / (1.0 + (uniform(cfg.highpass_hz) / centres) ** 4)
        / (1.0 + (centres / uniform(cfg.lowpass_hz)) ** 8)
        * 10 ** (tilt_db.clamp(-20.0, 20.0) / 10)
    )
    offset = torch.log(power_gain) * front_end.inv_std[:, 0]
    chosen = torch.rand(batch, 1, generator=gen) < cfg.channel_p
    return logmel + (offset * chosen)[:, :, None]


def score_clips(
    model: SpotterModel, clips: list[Clip], detector_cfg: DetectorConfig
) -> dict[str, float]:
    """Stream each clip (padded with silence) through model and detector as ``spotter detect``
    does."""
    labels = model.labels
    digits = [i for i, name in enumerate(labels) if not name.startswith("_")]
    detector = Detector(len(labels), digits, detector_cfg)
    pad = np.zeros(int(CLIP_PAD_S * 16000), np.float32)
    tail = np.zeros(int(END_OF_STREAM_S * 16000), np.float32)
    correct = single = 0
    model.eval()
    for clip in clips:
        audio = torch.from_numpy(np.concatenate([pad, clip.audio, pad, tail]))
        probs, energy = model.posteriors(audio[None])
        detector.reset()
        found = detector.process(probs[0].numpy(), energy[0].numpy()) + detector.flush()
        single += len(found) == 1
        if found and max(found, key=lambda d: d.score).label == clip.label:
            correct += 1
    model.train()
    return {"accuracy": correct / len(clips), "one_event": single / len(clips), "clips": len(clips)}


def fit_normalisation(model: SpotterModel, mixer: Mixer) -> None:
    audio, _ = mixer.batch(64)
    with torch.no_grad():
        logmel, _ = model.front_end.frames(audio)
    model.front_end.set_normalisation(logmel.mean(dim=(0, 2)), logmel.std(dim=(0, 2)))


def train(cfg: TrainConfig, log=print) -> dict:
    """Train, evaluate, save ``checkpoint.pt`` and ``metrics.json`` under ``cfg.out``."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    restarted = load_init(Path(cfg.init)) if cfg.init else None  # bad file: fail now
    clips = load_fsdd(Path(cfg.fsdd))
    if cfg.max_clips:
        clips = [
            clips[i]
            for i in np.random.default_rng(cfg.seed).permutation(len(clips))[: cfg.max_clips]
        ]
    splits = split_clips(clips, cfg.heldout_speakers)
    if not splits["train"]:
        raise ValueError(
            "no training clips left after the split (need takes >= 5 of other speakers)"
        )
    log(
        f"clips: train {len(splits['train'])}, official test takes {len(splits['official'])}, "
        f"held-out speakers {', '.join(cfg.heldout_speakers)}: {len(splits['heldout'])}"
    )
    noises = load_noises(Path(cfg.noise) if cfg.noise else None)
    other_speech, synthetic = [], []
    if cfg.synth:
        splits["synthetic val"] = load_split(Path(cfg.synth), "val")[0]
    if cfg.synth and cfg.synthetic_train:
        started = time.monotonic()
        synthetic, other_speech = load_split(Path(cfg.synth), "train")
        if cfg.engines:
            synthetic = [c for c in synthetic if c.speaker.split(":")[0] in cfg.engines]
            other_speech = [c for c in other_speech if c.speaker.split(":")[0] in cfg.engines]
        if not cfg.other_speech:
            other_speech = []
        log(
            f"synthetic: {len(synthetic)} digit clips from {len({c.speaker for c in synthetic})} "
            f"voices, {len(other_speech)} clips of ordinary speech, "
            f"{len(splits['synthetic val'])} validation clips ({time.monotonic() - started:.0f}s)"
        )

    if cfg.shifted_voices:
        started = time.monotonic()
        shifted = shifted_copies(
            splits["train"], cfg.shifted_voices, np.random.default_rng([cfg.seed, 1])
        )
        synthetic = synthetic + shifted
        low, high = cfg.shifted_voices
        log(
            f"shifted voices: {len(shifted)} FSDD training clips, every frequency times "
            f"{low:g}-{high:g} ({time.monotonic() - started:.0f}s)"
        )

    if restarted is not None:
        model = restarted
        cfg.net = model.net.cfg
    else:
        model = SpotterModel(FrontEndConfig(), cfg.net)
    rf = model.net.receptive_field
    silence = model.labels.index("_silence_")
    mixer = Mixer(
        splits["train"],
        noises,
        rf,
        silence,
        cfg.mix,
        seed=cfg.seed,
        other_speech=other_speech,
        synthetic=synthetic,
    )
    if restarted is None:
        fit_normalisation(model, mixer)
    elif Path(cfg.init).suffix == ".onnx":
        fit_statistics(model, mixer.batch(64)[0])
    model.train()
    n_params = sum(p.numel() for p in model.net.parameters())
    log(
        f"model: {n_params:,} parameters, receptive field {rf} frames "
        f"({((rf - 1) * 160 + 400) / 16:.0f} ms)"
    )

    optimiser = torch.optim.AdamW(model.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    # torch's OneCycleLR divides by zero when the warm-up is exactly one step (10 steps at 0.1)
    warmup = 0.2 if cfg.steps == 10 else 0.1
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, cfg.lr, total_steps=cfg.steps, pct_start=warmup
    )
    gen = torch.Generator().manual_seed(cfg.seed)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
    history = []
    started = time.monotonic()
    running = 0.0
    for step in range(1, cfg.steps + 1):
        audio, targets = mixer.batch(cfg.batch_size)
        with torch.no_grad():
            logmel, _ = model.front_end.frames(audio)
            logmel = random_channel(logmel, model.front_end, cfg, gen)
            if cfg.spec_augment:
                logmel = spec_augment(logmel, gen)
        logits = model.net(logmel)
        loss = loss_fn(logits, targets)
        if cfg.burst_drop_weight:
            loss = loss + cfg.burst_drop_weight * burst_drop(logits, targets, silence)
        if cfg.hard_background_weight:
            loss = loss + cfg.hard_background_weight * hard_background(logits, targets, silence)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running += loss.item()
        if step % 50 == 0 or step == cfg.steps:
            elapsed = time.monotonic() - started
            log(
                f"step {step}/{cfg.steps}  loss {running / min(50, step):.3f}  "
                f"{elapsed:.0f}s elapsed, ~{elapsed / step * (cfg.steps - step):.0f}s left"
            )
            running = 0.0
        if step % cfg.eval_every == 0 or step == cfg.steps:
            scores = {
                name: score_clips(model, splits[name], DetectorConfig())
                for name in ("official", "heldout", "synthetic val")
                if splits.get(name)
            }
            history.append({"step": step, **scores})
            log(
                f"  eval step {step}: "
                + ", ".join(
                    f"{name} acc {s['accuracy']:.3f} one-event {s['one_event']:.3f}"
                    for name, s in scores.items()
                )
            )
            if not math.isfinite(loss.item()):
                raise RuntimeError("training diverged (loss is not finite)")

    cfg.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "parameters": n_params,
        "receptive_field_frames": rf,
        "train_seconds": round(time.monotonic() - started, 1),
        "final": history[-1] if history else {},
        "history": history,
        "train_speakers": sorted({c.speaker for c in splits["train"]}),
        "synthetic_voices": dict(
            Counter(speaker.split(":")[0] for speaker in {c.speaker for c in synthetic})
        ),
    }
    torch.save(
        {
            "front": asdict(model.front_end.cfg),
            "net": asdict(cfg.net),
            "state_dict": model.state_dict(),
            "summary": summary,
        },
        cfg.out / "checkpoint.pt",
    )
    (cfg.out / "metrics.json").write_text(json.dumps(summary, indent=2))
    log(f"saved {cfg.out / 'checkpoint.pt'}")
    return summary


def load_init(path: Path) -> SpotterModel:
    """A warm restart's starting point: a ``checkpoint.pt`` or a float streaming model."""
    return load_onnx_model(path) if path.suffix == ".onnx" else load_checkpoint(path)[0]


def load_checkpoint(path: Path) -> tuple[SpotterModel, dict]:
    """A checkpoint written by ``train`` → (model in eval mode, summary); ValueError with a
    one-line reason for a file that is not one."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
        model = SpotterModel(FrontEndConfig(**blob["front"]), NetworkConfig.from_dict(blob["net"]))
        model.load_state_dict(blob["state_dict"])
        summary = blob["summary"]
    except (
        OSError,
        EOFError,
        RuntimeError,
        KeyError,
        IndexError,
        TypeError,
        pickle.UnpicklingError,
    ) as exc:
        raise ValueError(f"{path}: not a spotter checkpoint ({first_line(exc)})") from exc
    model.eval()
    return model, summary


if __name__ == "__main__":
    train(TrainConfig(), log=lambda m: print(m, file=sys.stderr, flush=True))
