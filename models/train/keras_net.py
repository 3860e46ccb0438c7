"""A Keras layer graph (TF.js layers-model JSON + weights) run as a PyTorch module.

Used for the ImageNet-initialised MobileNetV2 that ships in the npm package `nsfwjs` (MIT licence,
Infinite Red): its blocks up to `block_10` are Keras' ImageNet MobileNetV2 weights, frozen when nsfwjs
was fine-tuned, stored uint8-quantised. `extract_nsfwjs.cjs` turns the package's bundled model into
`model.json` + `weights.bin`; this module interprets the layers the network uses (ZeroPadding2D,
Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Add) in Keras' NHWC semantics on NCHW tensors.
"""
from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_weights(folder: str) -> dict[str, np.ndarray]:
    """Dequantised float32 arrays by Keras weight name (value = q * scale + min)."""
    with open(os.path.join(folder, "model.json")) as f:
        manifest = json.load(f)["weightsManifest"][0]["weights"]
    raw = np.fromfile(os.path.join(folder, "weights.bin"), dtype=np.uint8)
    out, off = {}, 0
    for w in manifest:
        n = int(np.prod(w["shape"])) if w["shape"] else 1
        q = w.get("quantization")
        if q and q["dtype"] == "uint8":
            arr = raw[off : off + n].astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
            off += n
        elif q and q["dtype"] == "uint16":
            arr = raw[off : off + 2 * n].view(np.uint16).astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
            off += 2 * n
        else:
            arr = raw[off : off + 4 * n].view(np.float32).copy()
            off += 4 * n
        out[w["name"]] = arr.reshape(w["shape"])
    assert off == raw.size, f"weights.bin holds {raw.size} bytes, the manifest {off}"
    return out


def _same_pad(k: int) -> int:
    return (k - 1) // 2


class KerasGraph(nn.Module):
    """Runs the Keras functional graph from the input up to (and including) `until`."""

    def __init__(self, folder: str, until: str):
        super().__init__()
        with open(os.path.join(folder, "model.json")) as f:
            layers = json.load(f)["modelTopology"]["model_config"]["config"]["layers"]
        weights = read_weights(folder)
        self.order: list[tuple[str, str, list[str], dict]] = []
        self.mods = nn.ModuleDict()
        for layer in layers:
            name, cls, cfg = layer["name"], layer["class_name"], layer["config"]
            inputs = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            key = name.replace(".", "_")
            if cls == "Conv2D":
                k = np.transpose(weights[f"{name}/kernel"], (3, 2, 0, 1))
                m = nn.Conv2d(k.shape[1], k.shape[0], tuple(cfg["kernel_size"]), tuple(cfg["strides"]),
                              _same_pad(cfg["kernel_size"][0]) if cfg["padding"] == "same" else 0,
                              bias=cfg["use_bias"])
                m.weight.data = torch.from_numpy(np.ascontiguousarray(k))
                if cfg["use_bias"]:
                    m.bias.data = torch.from_numpy(weights[f"{name}/bias"])
                self.mods[key] = m
            elif cls == "DepthwiseConv2D":
                k = weights[f"{name}/depthwise_kernel"]  # [kh, kw, in, mult]
                cin, mult = k.shape[2], k.shape[3]
                t = np.transpose(k, (2, 3, 0, 1)).reshape(cin * mult, 1, k.shape[0], k.shape[1])
                m = nn.Conv2d(cin, cin * mult, tuple(cfg["kernel_size"]), tuple(cfg["strides"]),
                              _same_pad(cfg["kernel_size"][0]) if cfg["padding"] == "same" else 0,
                              groups=cin, bias=cfg["use_bias"])
                m.weight.data = torch.from_numpy(np.ascontiguousarray(t))
                if cfg["use_bias"]:
                    m.bias.data = torch.from_numpy(weights[f"{name}/bias"])
                self.mods[key] = m
            elif cls == "BatchNormalization":
                g = weights[f"{name}/gamma"]
                m = nn.BatchNorm2d(g.shape[0], eps=cfg["epsilon"], momentum=0.01)
                m.weight.data = torch.from_numpy(g)
                m.bias.data = torch.from_numpy(weights[f"{name}/beta"])
                m.running_mean.data = torch.from_numpy(weights[f"{name}/moving_mean"])
                m.running_var.data = torch.from_numpy(weights[f"{name}/moving_variance"])
                self.mods[key] = m
            elif cls not in ("InputLayer", "ZeroPadding2D", "ReLU", "Add"):
                raise ValueError(f"layer {name}: {cls} is not supported")
            self.order.append((key, cls, [i.replace(".", "_") for i in inputs], cfg))
            if name == until:
                break
        else:
            raise ValueError(f"no layer {until}")

    def forward(self, x):
        vals: dict[str, torch.Tensor] = {}
        for key, cls, inputs, cfg in self.order:
            if cls == "InputLayer":
                y = x
            elif cls == "ZeroPadding2D":
                (t, b), (l, r) = cfg["padding"]
                y = F.pad(vals[inputs[0]], (l, r, t, b))
            elif cls == "ReLU":
                y = F.relu6(vals[inputs[0]]) if cfg.get("max_value") == 6 else F.relu(vals[inputs[0]])
            elif cls == "Add":
                y = vals[inputs[0]] + vals[inputs[1]]
            else:
                y = self.mods[key](vals[inputs[0]])
            vals[key] = y
        return y
