#!/usr/bin/python3
"""Trains the `digits` model and writes it as ONNX, with reference vectors for the tests.

Debian's python3-sklearn (the 8x8 digits data set ships with it) and python3-onnx:
    apt-get install -y python3-sklearn python3-onnx && /usr/bin/python3 tools/models/train_digits.py

Writes, beside this script:
  digits.onnx          input `pixels` float32 [N,64] (grey levels 0..16), outputs `label` int64 [N] and
                       `probabilities` float32 [N,10]; the batch dimension N is free.
  digits.vectors.json  held-out inputs with the outputs of an independent NumPy forward pass of the same weights,
                       and the held-out accuracy.
Deterministic: the split and the training use fixed seeds, so a rerun writes the same files.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))

digits = load_digits()
x = digits.data.astype(np.float32)  # 0..16
y = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=20261121, stratify=y)

model = MLPClassifier(hidden_layer_sizes=(64,), activation="relu", max_iter=600, random_state=20261121)
model.fit(x_train / 16.0, y_train)

w1 = model.coefs_[0].astype(np.float32)
b1 = model.intercepts_[0].astype(np.float32)
w2 = model.coefs_[1].astype(np.float32)
b2 = model.intercepts_[1].astype(np.float32)


def forward(pixels):
    """The reference: the same network in float32 NumPy."""
    hidden = np.maximum((pixels.astype(np.float32) * np.float32(1.0 / 16.0)) @ w1 + b1, np.float32(0))
    logits = hidden @ w2 + b2
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
    return logits.argmax(axis=1).astype(np.int64), probabilities


labels, _ = forward(x_test)
accuracy = float((labels == y_test).mean())
assert accuracy >= 0.95, f"held-out accuracy {accuracy:.4f} is below 0.95"
assert (labels == model.predict(x_test / 16.0)).mean() > 0.99, "the NumPy forward pass disagrees with scikit-learn"

graph = helper.make_graph(
    nodes=[
        helper.make_node("Mul", ["pixels", "scale"], ["scaled"]),
        helper.make_node("MatMul", ["scaled", "w1"], ["h_mm"]),
        helper.make_node("Add", ["h_mm", "b1"], ["h_pre"]),
        helper.make_node("Relu", ["h_pre"], ["hidden"]),
        helper.make_node("MatMul", ["hidden", "w2"], ["o_mm"]),
        helper.make_node("Add", ["o_mm", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ],
    name="digits",
    inputs=[helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 64])],
    outputs=[
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10]),
    ],
    initializer=[
        numpy_helper.from_array(np.array(1.0 / 16.0, dtype=np.float32), "scale"),
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(b1, "b1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(b2, "b2"),
    ],
)
onnx_model = helper.make_model(graph, producer_name="anpm-tools", opset_imports=[helper.make_opsetid("", 13)])
onnx_model.ir_version = 8
onnx.checker.check_model(onnx_model)
onnx.save(onnx_model, os.path.join(HERE, "digits.onnx"))

sample = x_test[:32]
sample_labels, sample_probabilities = forward(sample)
with open(os.path.join(HERE, "digits.vectors.json"), "w", encoding="utf-8") as out:
    json.dump(
        {
            "heldOutAccuracy": round(accuracy, 4),
            "heldOutSamples": int(len(y_test)),
            "inputs": sample.astype(int).tolist(),
            "expectedLabels": sample_labels.tolist(),
            "trueLabels": y_test[:32].tolist(),
            "probabilities": [[float(v) for v in row] for row in sample_probabilities],
        },
        out,
        indent=1,
    )
print(f"digits.onnx written; held-out accuracy {accuracy:.4f} on {len(y_test)} samples")
