"""precedent-cxr 2.1.0 head (chosen on validation in explore3_v21.py, checked by COVID-era cross-validation
in cv_covid2_v21.py; see docs/model-card.md):

    e = L2( [ L2(GAP12(F)),  q96,  q_white ] )

F the shipped trunk's block_12_add map (96 x 14 x 14). GAP12 and q96 are 2.0.0's (head_v2.py: the ImageNet
similarity and its label probe, fitted on 4 views). q_white is a second label probe on the frozen rest
of MobileNetV2: the global averages after blocks 12, 13, 15, 16 and the last 1x1 convolution, each
L2-normalised, concatenated (2,016-d), PCA-whitened to 128-d on the train split, then a class-weighted
multinomial logistic regression over (collection, label) summed per label (view 0 only: fitting it on the
augmented views lost on validation). The attention output stays 2.0.0's class activation map.

/usr/bin/python3 models/train/head_v21.py   (after train_v2.py, head_v2.py and cache_blocks_v21.py)
writes <work>/../v21/head21.pt, which export_onnx.py and evaluate_v2.py --head read.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cache_blocks_v21 import Taps  # noqa: E402
from explore2_v21 import SLICES, blockwise_l2  # noqa: E402
from head_v2 import ProbeHead, fit_probe  # noqa: E402
from sets import LABELS, add_common_args, items_and_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCKS = ("g96", "b13", "b15", "b16", "out")


def _l2(x):
    return x / torch.sqrt((x * x).sum(dim=1, keepdim=True) + 1e-12)


class ProbeHeadV21(nn.Module):
    def __init__(self, head: dict, white: dict, weights_dir: str):
        super().__init__()
        self.base = ProbeHead(**head)
        self.taps = Taps(weights_dir)
        for p in self.taps.parameters():
            p.requires_grad_(False)
        collapse = np.zeros((len(white["label_of_key"]), len(LABELS)), np.float32)
        for i, lab in enumerate(white["label_of_key"]):
            collapse[i, lab] = 1
        for name in ("wmu", "proj", "mu", "sd", "w", "b"):
            self.register_buffer(name, torch.as_tensor(np.asarray(white[name], np.float32)))
        self.register_buffer("collapse", torch.as_tensor(collapse))

    def forward(self, f):
        gaps = self.taps(f)
        g = gaps[:, SLICES["g96"]]
        b = self.base
        q96 = torch.softmax(((g - b.mu) / b.sd) @ b.w + b.b, dim=1) @ b.collapse
        multi = torch.cat([_l2(gaps[:, SLICES[n]]) for n in BLOCKS], dim=1)
        z = (multi - self.wmu) @ self.proj
        qw = torch.softmax(((z - self.mu) / self.sd) @ self.w + self.b, dim=1) @ self.collapse
        return _l2(torch.cat([_l2(g), q96, qw], dim=1)), self.base(f)[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    add_common_args(ap, HERE)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--reg", type=float, default=1e-2)
    a = ap.parse_args()
    torch.set_num_threads(2)
    items, split = items_and_split(a)
    tr = np.where((split == "train") & np.array([i.y >= 0 for i in items]))[0]
    ck = torch.load(os.path.join(a.work, "head.pt"), map_location="cpu")
    pairs = sorted({(items[i].collection, items[i].y) for i in tr})
    assert pairs == [tuple(p) for p in ck["pairs"]], "head.pt was fitted on another split"
    key = {p: n for n, p in enumerate(pairs)}
    multi = blockwise_l2(np.load(os.path.join(os.path.dirname(a.work), "v21", "blocks_view0.npy")), BLOCKS)
    wmu = multi[tr].mean(0)
    _, s, vt = np.linalg.svd(multi[tr] - wmu, full_matrices=False)
    proj = vt[: a.dim].T / (s[: a.dim] / np.sqrt(len(tr)))
    mu, sd, w, b = fit_probe((multi[tr] - wmu) @ proj, np.array([key[(items[i].collection, items[i].y)] for i in tr]), len(pairs), a.reg)
    white = {"wmu": wmu, "proj": proj, "mu": mu, "sd": sd, "w": w, "b": b, "label_of_key": [p[1] for p in pairs]}
    out = os.path.join(os.path.dirname(a.work), "v21", "head21.pt")
    torch.save({**ck, "head21": {"head": ck["head"], "white": white}, "args": {**ck["args"], "v21": vars(a)}}, out)
    print(f"wrote {out}: whitened probe over {len(pairs)} pairs from {len(tr)} films")


if __name__ == "__main__":
    main()
