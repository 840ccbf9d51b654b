"""The int8 model: a float spotter model with its network's convolutions quantized.

Dynamic quantization (onnxruntime.quantization): the convolution weights are stored as int8,
per output channel; activations are quantized per call, so no calibration data is needed and
no activation range is fixed in advance. The front end stays in float: the DFT is rebuilt in the
graph at load time (nothing stored), and the mel filterbank is stored as float16 and cast up.
Tensor names are shortened, since at this size the names are a fifth of the file.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

FRONT_END = "/front_end/"  # node-name prefix of the log-mel front end in exported graphs
MEL_FILTERBANK = "front_end.mel_fbank"


def quantize(source: Path, out: Path) -> None:
    """Write the int8 version of the float model ``source`` to ``out`` (metadata kept)."""
    graph_nodes = onnx.load(str(source)).graph.node
    front_end = [n.name for n in graph_nodes if n.name.startswith(FRONT_END)]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process is for image models: measured here
    try:
        with tempfile.TemporaryDirectory() as scratch:
            staged = Path(scratch) / "int8.onnx"
            quantize_dynamic(
                str(source),
                str(staged),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["Conv"],
                nodes_to_exclude=front_end,
            )
            model = onnx.load(str(staged))
    finally:
        root.setLevel(level)
    store_as_float16(model.graph, MEL_FILTERBANK)
    shorten_names(model.graph)
    model.metadata_props.add(
        key="quantization",
        value="int8 dynamic (onnxruntime), per-channel convolution weights; front end in float",
    )
    onnx.save(model, str(out))


def store_as_float16(graph: onnx.GraphProto, name: str) -> None:
    """Keep initializer ``name`` as float16, cast back to float32 by a node at the start."""
    tensor = next(t for t in graph.initializer if t.name == name)
    half = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), name + "_f16")
    graph.initializer.remove(tensor)
    graph.initializer.append(half)
    cast = onnx.helper.make_node("Cast", [half.name], [name], to=onnx.TensorProto.FLOAT)
    graph.node.insert(0, cast)


def shorten_names(graph: onnx.GraphProto) -> None:
    """Rename every internal tensor to a short id and drop node names (inputs and outputs keep
    theirs: they are the engine's interface)."""
    interface = {v.name for v in graph.input} | {v.name for v in graph.output}
    short: dict[str, str] = {}

    def rename(name: str) -> str:
        if not name or name in interface:
            return name
        return short.setdefault(name, f"t{len(short)}")

    for tensor in graph.initializer:
        tensor.name = rename(tensor.name)
    for node in graph.node:
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
        node.name = ""
    del graph.value_info[:]
