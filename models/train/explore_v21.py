"""precedent-cxr 2.1 exploration: candidate embeddings on cached trunk features, scored on VALIDATION
per collection (the protocol of evaluate_v2.score; the test split is never read here).

/usr/bin/python3 models/train/explore_v21.py [--only NAME]   prints one line per (candidate, collection)
and writes <work>/../v21/explore.json.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_v2 import COLLECTIONS, l2, score  # noqa: E402
from head_v2 import ProbeHead, fit_probe  # noqa: E402
from loss import MultiSimilarityLoss  # noqa: E402
from sets import LABELS, experiment_setup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def whiten(x, tr, dim):
    mu = x[tr].mean(0)
    u, s, vt = np.linalg.svd(x[tr] - mu, full_matrices=False)
    p = vt[:dim].T / (s[:dim] / np.sqrt(len(tr)) + 1e-6)
    return (x - mu) @ p


def probe_embed(x, tr, keys, n_keys, label_of_key, gamma, reg=1e-3):
    mu, sd, w, b = fit_probe(x[tr], keys, n_keys, reg)
    z = (x - mu) / sd
    logits = z @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.zeros((len(x), len(LABELS)))
    for i, lab in enumerate(label_of_key):
        q[:, lab] += p[:, i]
    return l2(np.concatenate([l2(x), gamma * q], 1)), q


def train_proj(x, tr, ys, cols, dim=64, epochs=60, ce=1.0, seed=0, hidden=0):
    """Linear (or one-hidden-layer) projection trained with MS loss + hard mining + label CE, P x K
    batches balanced per (collection, label)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xt = torch.tensor(x, dtype=torch.float32)
    d = x.shape[1]
    body = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Dropout(0.2), nn.Linear(hidden, dim)) if hidden else nn.Sequential(nn.Dropout(0.1), nn.Linear(d, dim))
    cls = nn.Linear(dim, len(LABELS))
    opt = torch.optim.AdamW(list(body.parameters()) + list(cls.parameters()), lr=1e-3, weight_decay=1e-3)
    msl = MultiSimilarityLoss()
    buckets = {}
    for i in tr:
        buckets.setdefault((cols[i], ys[i]), []).append(i)
    keys = list(buckets)
    for ep in range(epochs):
        for _ in range(10):
            idx = np.concatenate([rng.choice(buckets[k], 12, replace=len(buckets[k]) < 12) for k in keys])
            xb = xt[idx] + 0.05 * torch.randn(len(idx), d)
            z = body(xb)
            e = z / z.norm(dim=1, keepdim=True)
            yb = torch.tensor(ys[idx])
            loss = msl(e, yb)[0] + ce * nn.functional.cross_entropy(cls(z), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    body.eval()
    with torch.no_grad():
        z = body(xt)
        return (z / z.norm(dim=1, keepdim=True)).numpy()


def main():
    a, items, split, ys, groups, cols, adult, used, tr = experiment_setup(HERE, lambda p: p.add_argument("--only", default=""))
    f0 = np.load(os.path.join(a.work, "trunk_view0.npy")).astype(np.float32)
    g96 = f0.mean((2, 3))
    blocks = {b: np.load(os.path.join(a.work, f"gap_{b}.npy")) for b in ("b13", "b15", "b16", "out")}
    cands = {}
    ck = torch.load(os.path.join(a.work, "head.pt"), map_location="cpu")
    with torch.no_grad():
        cands["2.0.0"] = ProbeHead(**ck["head"])(torch.from_numpy(f0))[0].numpy()
    cands["gap96"] = l2(g96)
    multi = np.concatenate([l2(g96), l2(blocks["b13"]), l2(blocks["b15"]), l2(blocks["b16"]), l2(blocks["out"])], 1)
    cands["multi"] = l2(multi)
    cands["out"] = l2(blocks["out"])
    for dim in (64, 128, 256):
        cands[f"multi-pcaw{dim}"] = l2(whiten(multi, tr, dim))
    pairs = sorted({(cols[i], ys[i]) for i in tr})
    key = {p: n for n, p in enumerate(pairs)}
    pk = np.array([key[(cols[i], ys[i])] for i in tr])
    lab = [p[1] for p in pairs]
    for fname, feat in (("g96", g96), ("multi", multi), ("pcaw128", whiten(multi, tr, 128))):
        for gamma in (1.0, 2.0):
            cands[f"probe-{fname}-g{gamma}"] = probe_embed(feat, tr, pk, len(pairs), lab, gamma, 1e-3 if fname == "g96" else 1e-2)[0]
    for reg in (1e-2, 3e-2, 1e-1):
        q = probe_embed(multi, tr, pk, len(pairs), lab, 1.0, reg)[1]
        for gamma in (1.0, 1.5, 2.0, 3.0):
            cands[f"hyb-g96+qmulti-r{reg}-g{gamma}"] = l2(np.concatenate([l2(g96), gamma * q], 1))
    w128 = whiten(multi, tr, 128)
    for ce in (() if a.only else (0.0, 1.0)):
        cands[f"msl-pcaw128-ce{ce}"] = train_proj(w128, tr, ys, cols, ce=ce)
    if not a.only:
        cands["msl-pcaw128-mlp"] = train_proj(w128, tr, ys, cols, ce=1.0, hidden=256)
    res = {}
    for name, e in cands.items():
        if a.only and a.only not in name:
            continue
        res[name] = {}
        for c in COLLECTIONS:
            m = (split == "val") & (cols == c) & used & (adult if c == "nih" else True)
            r = score(e[m], ys[m], groups[m], n_boot=200)
            res[name][c] = {"P@5": r["P@5"]["mean"], "AUC": r["voteMacroAUC"]["mean"], "mAP@10": r["mAP@10"]["mean"], "sens": r["voteSensitivity"]}
        print(f"{name:24s} " + "  ".join(f"{c} P@5 {res[name][c]['P@5']:.3f} AUC {res[name][c]['AUC']:.3f}" for c in COLLECTIONS), flush=True)
    os.makedirs(os.path.join(os.path.dirname(a.work), "v21"), exist_ok=True)
    json.dump(res, open(os.path.join(os.path.dirname(a.work), "v21", f"explore{('-' + a.only) if a.only else ''}.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
