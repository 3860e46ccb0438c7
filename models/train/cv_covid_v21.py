"""precedent-cxr 2.1: the COVID-era validation set (49 films: 36 COVID-19, 9 other pneumonia, 4 normal) is
too small to choose by (round 2 of the exploration swung the macro AUC from 0.27 to 0.82 between near-equal
heads). This scores candidate heads by 5-fold cross-validation over the COVID-era train+val patients:
each fold's probe is fitted without that fold's COVID-era patients (all other train films kept), the
fold's films get out-of-fold embeddings, and retrieval is scored over all COVID-era train+val films
(each query searching the others, the evaluate_v2 protocol). The test split is never read.

/usr/bin/python3 models/train/cv_covid_v21.py
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_v2 import l2, score  # noqa: E402
from explore2_v21 import SLICES, blockwise_l2, probe_q  # noqa: E402
from sets import block_views, experiment_setup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    a, items, split, ys, groups, cols, adult, used, tr = experiment_setup(HERE, lambda p: p.add_argument("--folds", type=int, default=5))
    xv = block_views(a)
    feats = {"96": xv[:, :, SLICES["g96"]],
             "mid": np.stack([blockwise_l2(v, ("g96", "b13", "b15", "b16")) for v in xv]),
             "multi": np.stack([blockwise_l2(v, ("g96", "b13", "b15", "b16", "out")) for v in xv])}
    configs = [("96", 4, 1e-3), ("96", 1, 1e-3), ("mid", 4, 1e-2), ("mid", 1, 1e-2), ("multi", 4, 1e-2), ("multi", 1, 1e-2), ("multi", 4, 1e-1)]
    cv = np.where(used & (cols == "covid-era") & np.isin(split, ["train", "val"]))[0]
    ug = np.unique(groups[cv])
    rng = np.random.default_rng(7)
    fold_of_group = dict(zip(rng.permutation(ug), np.arange(len(ug)) % a.folds))
    fold = np.array([fold_of_group[g] for g in groups[cv]])
    base_tr = np.where((split == "train") & used & (cols != "covid-era"))[0]
    g96 = l2(xv[0][:, SLICES["g96"]])
    res = {}
    for fname, views, reg in configs:
        q = np.zeros((len(cv), 3))
        for k in range(a.folds):
            tr = np.concatenate([base_tr, cv[fold != k]])
            pairs = sorted({(cols[i], ys[i]) for i in tr})
            key = {p: n for n, p in enumerate(pairs)}
            pk = np.array([key[(cols[i], ys[i])] for i in tr])
            qk = probe_q(feats[fname][:views], tr, pk, len(pairs), [p[1] for p in pairs], reg)
            q[fold == k] = qk[cv[fold == k]]
        for gamma in (1.0, 2.0):
            name = f"g96+q{fname}-v{views}-r{reg}-g{gamma}"
            e = l2(np.concatenate([g96[cv], gamma * q], 1))
            r = score(e, ys[cv], groups[cv], n_boot=200)
            res[name] = {"P@5": r["P@5"], "AUC": r["voteMacroAUC"], "sens": r["voteSensitivity"], "queries": r["queries"]}
            print(f"{name:32s} covid-era CV n={r['queries']} P@5 {r['P@5']['mean']:.3f} {r['P@5']['ci95']} AUC {r['voteMacroAUC']['mean']:.3f} {r['voteMacroAUC']['ci95']} sens {r['voteSensitivity']}", flush=True)
    for name, e in (("ImageNet g96", g96[cv]),):
        r = score(e, ys[cv], groups[cv], n_boot=200)
        print(f"{name:32s} covid-era CV n={r['queries']} P@5 {r['P@5']['mean']:.3f} AUC {r['voteMacroAUC']['mean']:.3f} sens {r['voteSensitivity']}")
    json.dump(res, open(os.path.join(os.path.dirname(a.work), "v21", "cv_covid.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
