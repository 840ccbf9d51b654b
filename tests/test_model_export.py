"""The exported streaming graph against the torch model it came from."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from export.onnx_export import export, parity
from models.features import FrontEndConfig
from models.model import SpotterModel
from models.network import NetworkConfig
from models.train import load_checkpoint
from spotter.engine import Engine
from spotter.events import WORDS
from spotter.sources import read_whole


@pytest.fixture(scope="module")
def tiny(tiny_model):
    model, _ = load_checkpoint(tiny_model / "checkpoint.pt")
    return model, tiny_model / "model.onnx"


def utterance(spoken_digits) -> np.ndarray:
    clips = [read_whole(p) for p in sorted(spoken_digits.glob("*_bravo_6.wav"))[:4]]
    return np.concatenate([np.concatenate([c, np.zeros(3000, np.float32)]) for c in clips])


@pytest.mark.parametrize("chunk", [160, 160 * 7, 16000])
def test_streaming_onnx_equals_offline_torch(tiny, spoken_digits, chunk):
    model, path = tiny
    audio = utterance(spoken_digits)
    offline, offline_energy = model.posteriors(torch.from_numpy(audio)[None])
    engine = Engine(path)
    pieces = [engine.process(audio[i : i + chunk]) for i in range(0, len(audio), chunk)]
    streamed = np.concatenate([p for p, _ in pieces])
    energy = np.concatenate([e for _, e in pieces])
    assert streamed.shape == offline[0].shape
    assert np.abs(streamed - offline[0].numpy()).max() <= 1e-4
    assert np.abs(energy - offline_energy[0].numpy()).max() <= 1e-3


def test_export_parity_check_reports_small_difference(tiny):
    model, path = tiny
    assert parity(model, path) <= 1e-4


@pytest.mark.parametrize("separable", [False, True])
def test_every_folded_layer_streams_like_the_torch_model(separable, spoken_digits, tmp_path):
    """Batch norms and the input normalisation far from identity, so that a wrong fold shows;
    the separable network folds them through its per-channel convolutions."""
    torch.manual_seed(0)
    model = SpotterModel(FrontEndConfig(), NetworkConfig(channels=12, separable=separable))
    model.front_end.set_normalisation(torch.randn(40) * 3, torch.rand(40) + 0.5)
    for norm in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)):
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.5, 2.0)
        norm.weight.data.normal_()
        norm.bias.data.normal_()
    model.eval()
    path = export(model, tmp_path / "model.onnx", {})
    audio = utterance(spoken_digits)
    offline, _ = model.posteriors(torch.from_numpy(audio)[None])
    streamed, _ = Engine(path).process(audio)
    assert np.abs(streamed - offline[0].numpy()).max() <= 1e-4


def test_receptive_field_in_metadata_matches_perturbation(tiny):
    """Change one sample; exactly the output frames whose field covers it must change."""
    _, path = tiny
    engine = Engine(path)
    rf = engine.info.receptive_field_frames
    hop, win = engine.info.hop_length, int(engine.info.metadata["win_length"])
    audio = np.random.default_rng(3).standard_normal(16000 * 3).astype(np.float32) * 0.1
    # inside every frame that covers it, away from the window's ends (the Hann window is 0 at
    # its first tap and about 1e-4 next to it, a change that float rounding can swallow)
    position = 150 * hop + 40
    perturbed = audio.copy()
    perturbed[position] += 0.9
    base = engine.process(audio)[0]
    engine.reset()
    changed = np.flatnonzero((engine.process(perturbed)[0] != base).any(axis=1))
    # frame j covers samples [hop*j - (win - hop), hop*j + hop)
    first_frame = position // hop
    last_frame = (position + win - hop) // hop
    assert changed[0] == first_frame
    assert changed[-1] == last_frame + rf - 1
    assert int(engine.info.metadata["receptive_field_ms"]) == ((rf - 1) * hop + win) * 1000 // 16000


def test_metadata_describes_the_model(tiny):
    _, path = tiny
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["labels"])[:10] == list(WORDS)
    assert meta["sample_rate"] == "16000" and meta["hop_length"] == "160"
    assert 0 < json.loads(meta["detector"])["threshold"] < 1
    training = json.loads(meta["training"])
    assert training["receptive_field_frames"] == int(meta["receptive_field_frames"])
    run = json.loads((path.parent / "metrics.json").read_text())
    assert training["final"] == run["final"] == run["history"][-1]
    assert "history" not in training  # it stays in metrics.json, out of the shipped files
    # the tiny model: 16 channels, 40 mels, a 5-tap stem, six blocks of 3-tap + 1x1, 11 classes
    c = 16
    assert int(meta["parameters"]) > 16 * 40 * 5 + 6 * (16 * 16 * 4) + 11 * 16  # weights + biases
    dft, mel = 200 * 400, 40 * 100  # windowed DFT of the 100 bins below 4 kHz, mel projection
    assert int(meta["macs_per_hop"]) == dft + mel + c * 40 * 5 + 6 * (c * c * 3 + c * c) + 11 * c


def test_the_dft_is_rebuilt_in_the_graph_not_stored(tiny):
    _, path = tiny
    graph = onnx.load(str(path)).graph
    stored = [list(t.dims) for t in graph.initializer] + [
        list(n.attribute[0].t.dims) for n in graph.node if n.op_type == "Constant"
    ]
    assert not [dims for dims in stored if dims and dims[-1] == 400]
    assert {"Cos", "Sin", "Range"} <= {n.op_type for n in graph.node}


def test_the_optimised_step_has_no_shape_arithmetic(tiny, tmp_path):
    """Shapes are constants of the graph, so a 1-hop call runs only the model's own nodes."""
    import onnxruntime as ort

    _, path = tiny
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node]
    assert not {"Shape", "Gather", "Cos", "Sin"} & set(ops)
    # the DFT, the mel projection, the stem, 6 blocks × 2 and the head
    assert ops.count("Conv") + ops.count("FusedConv") == 16


def test_one_call_serves_several_streams(tiny):
    """The leading batch dimension: two streams in one call give each stream's own output."""
    _, path = tiny
    engine = Engine(path)
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(1600).astype(np.float32) * 0.1 for _ in range(2))

    def state(batch: int) -> dict[str, np.ndarray]:
        return {
            n: np.zeros([batch, *s[1:]], np.float32)
            for n, s in zip(engine.state_names, engine.state_shapes, strict=True)
        }

    both = engine.session.run(
        ["posteriors"], {"audio": np.stack([a, b])[:, None, None], **state(2)}
    )
    single = [
        engine.session.run(["posteriors"], {"audio": x[None, None, None], **state(1)})[0][0]
        for x in (a, b)
    ]
    both = both[0]
    assert np.abs(both - np.stack(single)).max() <= 1e-5


def test_export_refuses_detector_settings_it_cannot_run_before_writing(tiny_model, tmp_path):
    """A model calibrated by another version of spotter, say: the same one-line error as
    `spotter detect` gives for it, and no half-made model."""
    import onnx
    from conftest import run_spotter

    other = onnx.load(str(tiny_model / "model.onnx"))
    for prop in other.metadata_props:
        if prop.key == "detector":
            prop.value = '{"threshold": 0.5, "ghost_setting": 3}'
    onnx.save(other, tmp_path / "other.onnx")
    out = tmp_path / "again.onnx"
    result = run_spotter(
        "export", str(tiny_model / "checkpoint.pt"), "--out", str(out),
        "--detector-from", str(tmp_path / "other.onnx"),
    )  # fmt: skip
    assert result.returncode == 2 and b"invalid detector settings" in result.stderr
    assert result.stderr.decode().strip().count("\n") == 0
    assert not out.exists()


def test_export_again_keeps_the_calibrated_detector(tiny_model, tmp_path):
    from dataclasses import asdict

    from conftest import run_spotter

    from spotter.calibrate import write_detector
    from spotter.detector import DetectorConfig

    calibrated = tmp_path / "calibrated.onnx"
    detector = {**asdict(DetectorConfig()), "threshold": 0.77}
    write_detector(tiny_model / "model.onnx", calibrated, detector, {"target_per_hour": 3})
    checkpoint = str(tiny_model / "checkpoint.pt")
    keep = ["--detector-from", str(calibrated)]
    for name, options in (("again.onnx", keep), ("plain.onnx", [])):
        result = run_spotter("export", checkpoint, "--out", str(tmp_path / name), *options)
        assert result.returncode == 0, result.stderr.decode()
    not_a_model = run_spotter(
        "export", checkpoint, "--out", str(tmp_path / "no.onnx"), "--detector-from", checkpoint
    )
    assert not_a_model.returncode == 2 and b"not a readable model" in not_a_model.stderr
    assert not (tmp_path / "no.onnx").exists()  # refused before anything is written
    again, plain = (Engine(tmp_path / name).info for name in ("again.onnx", "plain.onnx"))
    assert again.detector == detector and plain.detector != detector
    assert json.loads(again.metadata["calibration"]) == {"target_per_hour": 3}


@pytest.mark.parametrize("content", [b"not a checkpoint\n", b""])
def test_exporting_a_file_that_is_not_a_checkpoint_is_a_one_line_error(tmp_path, content):
    from conftest import run_spotter

    bogus = tmp_path / "checkpoint.pt"
    bogus.write_bytes(content)
    result = run_spotter("export", str(bogus), "--out", str(tmp_path / "model.onnx"))
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.startswith(f"spotter: error: {bogus}: not a spotter checkpoint (")
    assert stderr.count("\n") == 1, stderr
    assert not (tmp_path / "model.onnx").exists()


def test_the_int8_model_is_smaller_and_hears_the_same_digits(tiny, spoken_digits, tmp_path):
    from export.quantize import quantize

    _, path = tiny
    small = tmp_path / "int8.onnx"
    quantize(path, small)
    assert small.stat().st_size < path.stat().st_size / 2  # 3.4× for the shipped model
    floats, int8 = Engine(path), Engine(small)
    assert int8.info.detector == floats.info.detector and int8.info.labels == floats.info.labels
    assert "int8" in int8.info.metadata["quantization"]
    audio = utterance(spoken_digits)
    p_float, _ = floats.process(audio)
    p_int8, _ = int8.process(audio)
    assert np.abs(p_int8 - p_float).max() < 0.2
    assert (p_int8.argmax(axis=1) == p_float.argmax(axis=1)).mean() > 0.95


def test_the_shipped_int8_model_is_the_shipped_float_model_quantized(tmp_path):
    from export.quantize import quantize
    from spotter.api import model_path

    assert model_path("int8").stat().st_size <= 120 * 1024
    quantize(model_path("float"), tmp_path / "again.onnx")
    assert (tmp_path / "again.onnx").read_bytes() == model_path("int8").read_bytes()
