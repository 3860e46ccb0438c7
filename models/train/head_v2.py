"""precedent-cxr 2.0.0: the shipped head on the frozen ImageNet MobileNetV2 trunk (net_v2.Trunk).

Chosen on validation over the metric-learning stages of train_v2.py (see docs/model-card.md, "Method
and why"): on these few adult films every stage trained with the multi-similarity loss (full stage,
linear head, attention only) retrieved worse than the untuned ImageNet features, while a label probe
added to those features helped. So the embedding is

    e = L2( [ L2(GAP(F)),  gamma * q ] )

F the trunk's 96 x 14 x 14 map, GAP its global average (the ImageNet similarity), q the probe's
probabilities of COVID-19 / other pneumonia / normal (a class-weighted multinomial logistic regression on
standardised GAP features over (collection, label) pairs, summed over collections), gamma its weight.
The attention output is the probe's class activation map (Zhou et al., CVPR 2016) for "abnormal"
(COVID-19 + other pneumonia) against "normal": where on the film the evidence that moves q lies.

/usr/bin/python3 models/train/head_v2.py   fits the probe on the cached train-split trunk features
(all augmented views) and writes <work>/head.pt, which export_onnx.py and evaluate_v2.py read.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sets import LABELS, add_common_args, items_and_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class ProbeHead(nn.Module):
    def __init__(self, mu, sd, w, b, label_of_key, gamma: float):
        super().__init__()
        k = len(label_of_key)
        collapse = np.zeros((k, len(LABELS)), np.float32)
        for i, lab in enumerate(label_of_key):
            collapse[i, lab] = 1
        abnormal = [i for i, lab in enumerate(label_of_key) if LABELS[lab] != "normal"]
        normal = [i for i, lab in enumerate(label_of_key) if LABELS[lab] == "normal"]
        direction = np.asarray(w)[:, abnormal].mean(1) - np.asarray(w)[:, normal].mean(1)
        for name, v in (("mu", mu), ("sd", sd), ("w", w), ("b", b), ("collapse", collapse), ("direction", direction / np.asarray(sd))):
            self.register_buffer(name, torch.as_tensor(np.asarray(v, np.float32)))
        self.gamma = float(gamma)

    def forward(self, f):
        gap = f.mean(dim=(2, 3))
        g = gap / torch.sqrt((gap * gap).sum(dim=1, keepdim=True) + 1e-12)
        q = torch.softmax(((gap - self.mu) / self.sd) @ self.w + self.b, dim=1) @ self.collapse
        e = torch.cat([g, self.gamma * q], dim=1)
        e = e / torch.sqrt((e * e).sum(dim=1, keepdim=True) + 1e-12)
        cam = (f * self.direction.view(1, -1, 1, 1)).sum(dim=1, keepdim=True)
        m = cam.mean(dim=(2, 3), keepdim=True)
        s = torch.sqrt(((cam - m) ** 2).mean(dim=(2, 3), keepdim=True) + 1e-6)
        return e, torch.sigmoid((cam - m) / s)


def fit_probe(x, keys, n_keys: int, reg: float):
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xt = torch.tensor((x - mu) / sd, dtype=torch.float64)
    t = torch.tensor(keys)
    w = torch.zeros(x.shape[1], n_keys, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_keys, dtype=torch.float64, requires_grad=True)
    cw = torch.tensor(len(keys) / (n_keys * np.bincount(keys, minlength=n_keys)), dtype=torch.float64)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(xt @ w + b, t, weight=cw) + reg * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return mu, sd, w.detach().numpy(), b.detach().numpy()


def main() -> None:
    ap = argparse.ArgumentParser()
    add_common_args(ap, HERE)
    ap.add_argument("--views", type=int, default=4)
    ap.add_argument("--reg", type=float, default=1e-3)
    ap.add_argument("--gamma", type=float, default=1.0)
    a = ap.parse_args()
    items, split = items_and_split(a)
    tr = np.where((split == "train") & np.array([i.y >= 0 for i in items]))[0]
    pairs = sorted({(items[i].collection, items[i].y) for i in tr})
    key = {p: n for n, p in enumerate(pairs)}
    x = np.concatenate([np.load(os.path.join(a.work, f"trunk_view{v}.npy"))[tr].astype(np.float32).mean((2, 3)) for v in range(a.views)])
    keys = np.concatenate([[key[(items[i].collection, items[i].y)] for i in tr]] * a.views)
    mu, sd, w, b = fit_probe(x, keys, len(pairs), a.reg)
    # The card's normalisation is the one the cached trunk features were computed with (train_v2.py).
    norm = torch.load(os.path.join(a.work, "best.pt"), map_location="cpu")["config"]
    torch.save({"config": {"mean": norm["mean"], "std": norm["std"], "input": norm["input"], "resize": norm["resize"]},
                "epoch": 0, "head": {"mu": mu, "sd": sd, "w": w, "b": b, "label_of_key": [p[1] for p in pairs], "gamma": a.gamma},
                "pairs": pairs, "args": vars(a), "train_images": int(len(tr))}, os.path.join(a.work, "head.pt"))
    print(f"probe over {len(pairs)} (collection, label) pairs from {len(tr)} films x {a.views} views: {pairs}")


if __name__ == "__main__":
    main()
