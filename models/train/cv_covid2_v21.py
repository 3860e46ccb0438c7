"""precedent-cxr 2.1: COVID-era 5-fold CV (as cv_covid_v21.py) of round 3's lead on validation,
e = L2([L2(GAP12), q96, q_white]): 2.0.0's block-12 probe (4 views) plus a probe on the PCA-whitened
multi-block GAP (view 0), whitening and both probes refitted per fold. The test split is never read.

/usr/bin/python3 models/train/cv_covid2_v21.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_v2 import l2, score  # noqa: E402
from explore2_v21 import SLICES, blockwise_l2, probe_q  # noqa: E402
from sets import block_views, experiment_setup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    a, items, split, ys, groups, cols, adult, used, tr = experiment_setup(HERE)
    xv = block_views(a)
    multi0 = blockwise_l2(xv[0], ("g96", "b13", "b15", "b16", "out"))
    cv = np.where(used & (cols == "covid-era") & np.isin(split, ["train", "val"]))[0]
    ug = np.unique(groups[cv])
    rng = np.random.default_rng(7)
    fold_of_group = dict(zip(rng.permutation(ug), np.arange(len(ug)) % 5))
    fold = np.array([fold_of_group[g] for g in groups[cv]])
    base_tr = np.where((split == "train") & used & (cols != "covid-era"))[0]
    g96 = l2(xv[0][:, SLICES["g96"]])
    q96, qw = np.zeros((len(cv), 3)), np.zeros((len(cv), 3))
    for k in range(5):
        tr = np.concatenate([base_tr, cv[fold != k]])
        pairs = sorted({(cols[i], ys[i]) for i in tr})
        key = {p: n for n, p in enumerate(pairs)}
        pk = np.array([key[(cols[i], ys[i])] for i in tr])
        lab = [p[1] for p in pairs]
        mu = multi0[tr].mean(0)
        _, s, vt = np.linalg.svd(multi0[tr] - mu, full_matrices=False)
        white = (multi0 - mu) @ (vt[:128].T / (s[:128] / np.sqrt(len(tr))))
        q96[fold == k] = probe_q(xv[:, :, SLICES["g96"]], tr, pk, len(pairs), lab, 1e-3)[cv[fold == k]]
        qw[fold == k] = probe_q(white[None], tr, pk, len(pairs), lab, 1e-2)[cv[fold == k]]
    for name, e in (("2.0.0 recipe", l2(np.concatenate([g96[cv], q96], 1))), ("2.1 candidate", l2(np.concatenate([g96[cv], q96, qw], 1)))):
        r = score(e, ys[cv], groups[cv], n_boot=500)
        print(f"{name:14s} covid-era CV n={r['queries']} P@5 {r['P@5']['mean']:.3f} {r['P@5']['ci95']} AUC {r['voteMacroAUC']['mean']:.3f} {r['voteMacroAUC']['ci95']} sens {r['voteSensitivity']}", flush=True)


if __name__ == "__main__":
    main()
