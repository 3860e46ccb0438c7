"""precedent-cxr 2.1 exploration, round 2: label probes fitted on all augmented views (cache_blocks_v21.py),
on the shipped trunk's GAP (96) and on the multi-block GAP (96 + 160 + 160 + 320 + 1280), combined with
the ImageNet similarity part. VALIDATION only, per collection.

/usr/bin/python3 models/train/explore2_v21.py
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_v2 import COLLECTIONS, l2, score  # noqa: E402
from head_v2 import fit_probe  # noqa: E402
from sets import LABELS, block_views, experiment_setup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SLICES = {"g96": slice(0, 96), "b13": slice(96, 256), "b15": slice(256, 416), "b16": slice(416, 736), "out": slice(736, 2016)}


def blockwise_l2(x, names):
    return np.concatenate([l2(x[:, SLICES[n]]) for n in names], 1)


def probe_q(xv, tr, pk, n_keys, lab, reg):
    """xv [views, N, D]; fits on train rows of every view, returns q [N, 3] for view 0."""
    x = np.concatenate([v[tr] for v in xv])
    mu, sd, w, b = fit_probe(x, np.concatenate([pk] * len(xv)), n_keys, reg)
    logits = ((xv[0] - mu) / sd) @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.zeros((len(p), len(LABELS)))
    for i, l in enumerate(lab):
        q[:, l] += p[:, i]
    return q


def main():
    a, items, split, ys, groups, cols, adult, used, tr = experiment_setup(HERE, lambda p: p.add_argument("--views", type=int, default=4))
    xv = block_views(a, a.views)
    pairs = sorted({(cols[i], ys[i]) for i in tr})
    key = {p: n for n, p in enumerate(pairs)}
    pk = np.array([key[(cols[i], ys[i])] for i in tr])
    lab = [p[1] for p in pairs]
    g96 = l2(xv[0][:, SLICES["g96"]])
    qs = {"q96": probe_q(xv[:, :, SLICES["g96"]], tr, pk, len(pairs), lab, 1e-3)}
    allb = ("g96", "b13", "b15", "b16", "out")
    for reg in (1e-2, 3e-2):
        qs[f"qmulti-r{reg}"] = probe_q(xv, tr, pk, len(pairs), lab, reg)
        qs[f"qmultiL2-r{reg}"] = probe_q(np.stack([blockwise_l2(v, allb) for v in xv]), tr, pk, len(pairs), lab, reg)
    qs["qmid-r1e-2"] = probe_q(np.stack([blockwise_l2(v, ("g96", "b13", "b15", "b16")) for v in xv]), tr, pk, len(pairs), lab, 1e-2)
    cands = {}
    for qn, q in qs.items():
        for gamma in (1.0, 2.0, 3.0):
            cands[f"g96+{qn}-g{gamma}"] = l2(np.concatenate([g96, gamma * q], 1))
    for qn in [k for k in qs if k != "q96"]:
        for gamma in (1.0, 2.0):
            cands[f"g96+q96+{qn}-g{gamma}"] = l2(np.concatenate([g96, gamma * qs["q96"], gamma * qs[qn]], 1))
            cands[f"g96+avg(q96,{qn})-g{gamma}"] = l2(np.concatenate([g96, gamma * (qs["q96"] + qs[qn]) / 2], 1))
    res = {}
    for name, e in cands.items():
        res[name] = {}
        for c in COLLECTIONS:
            m = (split == "val") & (cols == c) & used & (adult if c == "nih" else True)
            r = score(e[m], ys[m], groups[m], n_boot=200)
            res[name][c] = {"P@5": r["P@5"]["mean"], "AUC": r["voteMacroAUC"]["mean"], "mAP@10": r["mAP@10"]["mean"], "sens": r["voteSensitivity"]}
        print(f"{name:34s} " + "  ".join(f"{c} P@5 {res[name][c]['P@5']:.3f} AUC {res[name][c]['AUC']:.3f}" for c in COLLECTIONS), flush=True)
    json.dump(res, open(os.path.join(os.path.dirname(a.work), "v21", "explore2.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
