"""precedent-cxr 2.1 analysis of the COVID-era collections with the 2.0.0 head (train+val films only;
the test split is never read): class mix per sub-collection, how often a query's 10 nearest neighbours
(other patient groups, mixed train+val archive of all collections) come from its own collection and its
own source dataset, and the COVID-19 vs other-pneumonia separability of the features themselves
(a leave-patient-group-out 10-NN vote AUC within ieee8023, the only source with both classes).

/usr/bin/python3 models/train/analyse_v21.py
"""
from __future__ import annotations

import os
import sys
from collections import Counter

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_v2 import l2  # noqa: E402
from head_v2 import ProbeHead  # noqa: E402
from sets import LABELS, experiment_setup  # noqa: E402
from vote import auc, vote_probabilities  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    a, items, split, ys, groups, cols, adult, used, tr = experiment_setup(HERE)
    ds = np.array([i.dataset for i in items])
    keep = (ys >= 0) & np.isin(split, ["train", "val"])
    f0 = np.load(os.path.join(a.work, "trunk_view0.npy")).astype(np.float32)
    ck = torch.load(os.path.join(a.work, "head.pt"), map_location="cpu")
    with torch.no_grad():
        emb = ProbeHead(**ck["head"])(torch.from_numpy(f0))[0].numpy()
    embs = {"2.0.0": emb, "ImageNet GAP": l2(f0.mean((2, 3))), "multi-block GAP": l2(np.load(os.path.join(os.path.dirname(a.work), "v21", "blocks_view0.npy")))}
    idx = np.where(keep)[0]
    cv = idx[cols[idx] == "covid-era"]
    print("COVID-era class mix (train+val):", dict(Counter((d, LABELS[y]) for d, y in zip(ds[cv], ys[cv]))))
    for name, e in embs.items():
        sim = e[idx] @ e[idx].T
        sim = np.where(groups[idx][:, None] == groups[idx][None, :], -np.inf, sim)
        nn = np.argsort(-sim, 1)[:, :10]
        q = cols[idx] == "covid-era"
        same_col = (cols[idx][nn] == cols[idx][:, None])[q].mean()
        same_ds = (ds[idx][nn] == ds[idx][:, None])[q].mean()
        prior_col = q.mean()
        ie = np.where(keep & (ds == "ieee8023-covid-chestxray") & np.isin(ys, [0, 1]))[0]
        p = vote_probabilities(e[ie], ys[ie], groups[ie], len(LABELS))
        a_ie = auc(p[:, 0], ys[ie] == 0)
        print(f"{name:16s} COVID-era queries: top-10 from own collection {same_col:.3f} (share of archive {prior_col:.3f}), "
              f"own source dataset {same_ds:.3f}; ieee8023 COVID-19 vs other pneumonia vote AUC {a_ie:.3f} "
              f"(n={len(ie)}: {int((ys[ie] == 0).sum())} / {int((ys[ie] == 1).sum())})"
              + (" [in-sample: the probe was fitted on the train films' labels, not a measure]" if name == "2.0.0" else ""))


if __name__ == "__main__":
    main()
