"""A streaming ONNX model unfolded back into a trainable model (warm restarts from a model file)."""

from __future__ import annotations

import copy
from dataclasses import asdict

import numpy as np
import pytest
import torch

from export.onnx_export import export
from export.onnx_import import fit_statistics, load_onnx_model
from models.features import FrontEndConfig
from models.model import SpotterModel
from models.network import NetworkConfig
from spotter.engine import Engine
from spotter.sources import read_whole
from tests.conftest import run_spotter


def speech(spoken_digits) -> np.ndarray:
    clips = [read_whole(p) for p in sorted(spoken_digits.glob("*_alpha_5.wav"))[:5]]
    return np.concatenate([np.concatenate([c, np.zeros(2000, np.float32)]) for c in clips])


def export_random_model(separable: bool, tmp_path) -> None:
    """A model whose batch norms and input normalisation are far from identity, exported to
    ``tmp_path/model.onnx``."""
    torch.manual_seed(1)
    cfg = NetworkConfig(channels=12, separable=separable)
    model = SpotterModel(FrontEndConfig(), cfg)
    model.front_end.set_normalisation(torch.randn(40) * 3 - 5, torch.rand(40) + 0.5)
    for norm in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)):
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.5, 2.0)
        norm.weight.data.normal_()
        norm.bias.data.normal_()
    export(model.eval(), tmp_path / "model.onnx", {"config": {"net": asdict(cfg)}})


@pytest.mark.parametrize("separable", [False, True])
def test_the_unfolded_model_computes_what_the_graph_computes(separable, spoken_digits, tmp_path):
    export_random_model(separable, tmp_path)
    audio = speech(spoken_digits)
    unfolded = load_onnx_model(tmp_path / "model.onnx")
    offline, _ = unfolded.posteriors(torch.from_numpy(audio)[None])
    streamed, _ = Engine(tmp_path / "model.onnx").process(audio)
    assert np.abs(streamed - offline[0].numpy()).max() <= 1e-4


@pytest.mark.parametrize("separable", [False, True])
def test_fitted_statistics_keep_the_function_and_train_mode_computes_it(
    separable, spoken_digits, tmp_path
):
    export_random_model(separable, tmp_path)
    samples = speech(spoken_digits)
    audio = torch.from_numpy(samples[: len(samples) // 4 * 4]).reshape(4, -1)
    model = load_onnx_model(tmp_path / "model.onnx")
    before, _ = model.posteriors(audio)
    fit_statistics(model, audio)
    after, _ = model.posteriors(audio)
    assert (after - before).abs().max() <= 1e-4
    logmel, _ = model.front_end.frames(audio)
    assert logmel.mean().abs() < 0.05 and (logmel.std() - 1).abs() < 0.05  # measured again
    with torch.no_grad():
        evaluated = model.eval().net(logmel)
        trained = copy.deepcopy(model).train().net(logmel)  # each norm: the batch's statistics
    assert (trained - evaluated).abs().max() <= 1e-3 * evaluated.abs().max()


def test_a_warm_restart_from_a_model_file_starts_from_its_function(
    tiny_model, spoken_digits, tmp_path
):
    """At learning rate 0 the restart's weights stay put: the model it writes hears the audio as
    the file it started from does (only the norms' running statistics follow the batches)."""
    out = tmp_path / "restart"
    args = ["--fsdd", str(spoken_digits), "--noise", str(tmp_path / "no-noise"), "--fsdd-only"]
    result = run_spotter(
        "train", *args, "--heldout", "charlie", "--steps", "10", "--lr", "0", "--channels", "8",
        "--init", str(tiny_model / "model.onnx"), "--out", str(out), timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    original, restarted = Engine(tiny_model / "model.onnx"), Engine(out / "model.onnx")
    assert restarted.info.metadata["parameters"] == original.info.metadata["parameters"]
    audio = speech(spoken_digits)
    difference = np.abs(restarted.process(audio)[0] - original.process(audio)[0])
    assert difference.mean() < 0.01, difference.max()


def test_a_warm_restart_from_an_int8_model_is_a_one_line_error(tiny_model, tmp_path):
    quantized = tmp_path / "int8.onnx"
    assert (
        run_spotter("quantize", str(tiny_model / "model.onnx"), "--out", str(quantized)).returncode
        == 0
    )
    result = run_spotter(
        "train", "--fsdd", str(tiny_model), "--fsdd-only", "--init", str(quantized)
    )
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert "int8" in stderr and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
