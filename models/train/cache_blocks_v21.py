"""Caches, per trunk view, the global averages of the MobileNetV2 blocks after the shipped trunk
(block_13_project_BN, block_15_add, block_16_project_BN, out_relu), continuing the graph from the cached
block_12_add maps (train_v2.py's trunk_view{v}.npy): <work>/v21/blocks_view{v}.npy [N, 1920] float32.

/usr/bin/python3 models/train/cache_blocks_v21.py --views 4
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_net import KerasGraph  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TAPS = ("block_13_project_BN", "block_15_add", "block_16_project_BN", "out_relu")


class Taps(torch.nn.Module):
    """The graph from block_12_add on, returning the GAP of each tap (and the block_12_add GAP first)."""

    def __init__(self, weights_dir: str):
        super().__init__()
        self.net = KerasGraph(weights_dir, "out_relu")

    def forward(self, f):
        vals = {"block_12_add": f}
        started = False
        for key, cls, inputs, cfg in self.net.order:
            if not started:
                started = key == "block_12_add"
                continue
            x = vals[inputs[0]]
            if cls == "ReLU":
                y = torch.nn.functional.relu6(x) if cfg.get("max_value") == 6 else torch.relu(x)
            elif cls == "Add":
                y = x + vals[inputs[1]]
            elif cls == "ZeroPadding2D":
                (t, b), (l, r) = cfg["padding"]
                y = torch.nn.functional.pad(x, (l, r, t, b))
            else:
                y = self.net.mods[key](x)
            vals[key] = y
        return torch.cat([f.mean((2, 3))] + [vals[t].mean((2, 3)) for t in TAPS], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(HERE, "runs", "v2"))
    ap.add_argument("--weights", default=os.path.join(HERE, "runs", "mobilenet_v2"))
    ap.add_argument("--views", type=int, default=4)
    a = ap.parse_args()
    torch.set_num_threads(2)
    taps = Taps(a.weights).eval()
    out_dir = os.path.join(os.path.dirname(a.work), "v21")
    os.makedirs(out_dir, exist_ok=True)
    for v in range(a.views):
        path = os.path.join(out_dir, f"blocks_view{v}.npy")
        if os.path.exists(path):
            continue
        f = np.load(os.path.join(a.work, f"trunk_view{v}.npy"), mmap_mode="r")
        res = []
        with torch.no_grad():
            for s in range(0, len(f), 64):
                x = torch.from_numpy(np.asarray(f[s : s + 64], dtype=np.float32)).contiguous(memory_format=torch.channels_last)
                res.append(taps(x).numpy())
        np.save(path, np.concatenate(res).astype(np.float32))
        print(f"view {v}: {path}", flush=True)


if __name__ == "__main__":
    main()
