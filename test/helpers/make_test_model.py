#!/usr/bin/env python3
"""Writes a tiny, deterministic embedding model (model.onnx + model.json) for the embed tests.

Only `onnx` and `numpy` are needed (Debian python3-onnx), no torch: the graph is written by hand.

  image [N,C,64,64] -> Conv(8,3x3,s2) -> Relu -> Conv(16,3x3,s2) -> Relu -> [N,16,16,16]
      +-> GlobalAveragePool -> Flatten -> MatMul(16x32) -> Add -> embedding [N,32]
      +-> ReduceMean(channels) -> AveragePool(2x2) -> Sigmoid -> attention [N,1,8,8]

The weights come from a seeded generator, so the same arguments always give the same bytes, and the
tests can cache the folder by a hash of this script and its arguments.
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 64
DIM = 32


def build(channels: int, attention: bool, seed: int) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    # Kaiming-like scales keep activations of a [0,1] image in a sensible range through both convs.
    w1 = (rng.standard_normal((8, channels, 3, 3)) * np.sqrt(2.0 / (channels * 9))).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 8, 3, 3)) * np.sqrt(2.0 / (8 * 9))).astype(np.float32)
    b2 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    wf = (rng.standard_normal((16, DIM)) * np.sqrt(1.0 / 16)).astype(np.float32)
    bf = (rng.standard_normal(DIM) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in [(w1, 'w1'), (b1, 'b1'), (w2, 'w2'), (b2, 'b2'), (wf, 'wf'), (bf, 'bf')]]

    nodes = [
        helper.make_node('Conv', ['image', 'w1', 'b1'], ['c1'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c1'], ['r1']),
        helper.make_node('Conv', ['r1', 'w2', 'b2'], ['c2'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c2'], ['r2']),
        helper.make_node('GlobalAveragePool', ['r2'], ['gap']),
        helper.make_node('Flatten', ['gap'], ['flat'], axis=1),
        helper.make_node('MatMul', ['flat', 'wf'], ['mm']),
        helper.make_node('Add', ['mm', 'bf'], ['embedding']),
    ]
    outputs = [helper.make_tensor_value_info('embedding', TensorProto.FLOAT, ['N', DIM])]
    if attention:
        nodes += [
            helper.make_node('ReduceMean', ['r2'], ['rm'], axes=[1], keepdims=1),
            helper.make_node('AveragePool', ['rm'], ['ap'], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node('Sigmoid', ['ap'], ['attention']),
        ]
        outputs.append(helper.make_tensor_value_info('attention', TensorProto.FLOAT, ['N', 1, 8, 8]))

    graph = helper.make_graph(
        nodes,
        'precedent-test-embedder',
        [helper.make_tensor_value_info('image', TensorProto.FLOAT, ['N', channels, SIZE, SIZE])],
        outputs,
        inits,
    )
    # Opset 13 (ReduceMean still takes `axes` as an attribute); IR 8 is read by any recent runtime.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='precedent-tests')
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def card(channels: int, attention: bool, resize: str) -> dict:
    outputs = {'embedding': 'embedding'}
    if attention:
        outputs['attention'] = 'attention'
    return {
        'name': 'precedent-test-embedder',
        'version': '0.0.1',
        'deviceUID': '2.25.1234567890123456789',
        'input': {'name': 'image', 'shape': [-1, channels, SIZE, SIZE], 'channels': channels},
        'resize': resize,
        'normalisation': {'mean': [0.5] * channels, 'std': [0.25] * channels},
        'outputs': outputs,
        'embeddingDimension': DIM,
        'intendedUse': 'Tests only: random weights, no clinical meaning.',
        'trainingData': 'None (seeded random weights).',
        'metrics': {},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out', help='folder to write model.onnx and model.json into (created)')
    p.add_argument('--channels', type=int, choices=[1, 3], default=1)
    p.add_argument('--no-attention', action='store_true')
    p.add_argument('--resize', choices=['stretch', 'letterbox'], default='stretch')
    p.add_argument('--seed', type=int, default=20210301)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    model = build(a.channels, not a.no_attention, a.seed)
    onnx.save(model, os.path.join(a.out, 'model.onnx'))
    with open(os.path.join(a.out, 'model.json'), 'w', encoding='utf-8') as f:
        json.dump(card(a.channels, not a.no_attention, a.resize), f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
