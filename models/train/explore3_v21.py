"""precedent-cxr 2.1 exploration, round 3 (pediatric): the PCA-whitened multi-block probe led on pediatric
validation films; can it be added to 2.0.0's block-12 probe without losing NIH? VALIDATION only.

/usr/bin/python3 models/train/explore3_v21.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_v2 import COLLECTIONS, l2, score  # noqa: E402
from explore2_v21 import SLICES, blockwise_l2, probe_q  # noqa: E402
from sets import block_views, experiment_setup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    a, items, split, ys, groups, cols, adult, used, tr = experiment_setup(HERE)
    xv = block_views(a)
    multi = np.stack([blockwise_l2(v, ("g96", "b13", "b15", "b16", "out")) for v in xv])
    mu = multi[0][tr].mean(0)
    _, s, vt = np.linalg.svd(multi[0][tr] - mu, full_matrices=False)
    proj = vt[:128].T / (s[:128] / np.sqrt(len(tr)))
    white = np.stack([(v - mu) @ proj for v in multi])
    pairs = sorted({(cols[i], ys[i]) for i in tr})
    key = {p: n for n, p in enumerate(pairs)}
    pk = np.array([key[(cols[i], ys[i])] for i in tr])
    lab = [p[1] for p in pairs]
    g96 = l2(xv[0][:, SLICES["g96"]])
    q96 = probe_q(xv[:, :, SLICES["g96"]], tr, pk, len(pairs), lab, 1e-3)
    cands = {}
    for views in (1, 4):
        qw = probe_q(white[:views], tr, pk, len(pairs), lab, 1e-2)
        cands[f"l2white+qwhite-v{views}"] = l2(np.concatenate([l2(white[0]), qw], 1))
        for gamma in (1.0, 2.0):
            cands[f"g96+q96+qwhite-v{views}-g{gamma}"] = l2(np.concatenate([g96, q96, gamma * qw], 1))
            cands[f"g96+qwhite-v{views}-g{gamma}"] = l2(np.concatenate([g96, gamma * qw], 1))
    for name, e in cands.items():
        line = []
        for c in COLLECTIONS:
            m = (split == "val") & (cols == c) & used & (adult if c == "nih" else True)
            r = score(e[m], ys[m], groups[m], n_boot=100)
            line.append(f"{c} P@5 {r['P@5']['mean']:.3f} AUC {r['voteMacroAUC']['mean']:.3f}")
        print(f"{name:28s} " + "  ".join(line), flush=True)


if __name__ == "__main__":
    main()
