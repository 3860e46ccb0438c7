"""Trains precedent-cxr 2.x: frozen ImageNet MobileNetV2 trunk, learned stage + attention + embedding,
multi-similarity loss with hard-pair mining, P x K batches that mix collections within a label.

/usr/bin/python3 models/train/train_v2.py --out models/default
writes <out>/split-nih.csv (if absent) and <work>/v2/{best.pt,train_log.json}.

The trunk is frozen, so its feature maps are computed once per augmented view of every image
(`--views`, view 0 = the production input itself) and the learned stage trains on them: a full
training run takes minutes on two CPU cores instead of hours.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import INPUT_SIZE, RESIZE, load_display, to_input  # noqa: E402
from data import PKSampler, augment  # noqa: E402
from loss import MultiSimilarityLoss  # noqa: E402
from metrics import retrieval  # noqa: E402
from net_v2 import Stage, Trunk  # noqa: E402
from sets import LABELS, add_common_args, read_items, read_split  # noqa: E402
from split import assign_groups  # noqa: E402
from vote import vote_auc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def make_group_split(items, seed: int) -> dict[str, str]:
    """Patient-group split stratified by (label, adult): each group goes to the split furthest below
    its share, largest groups first (as split.py does for the first collection)."""
    groups: dict[str, list] = defaultdict(list)
    for it in items:
        groups[it.patient_group].append(it)
    strata: dict[tuple, list[str]] = defaultdict(list)
    for g, its in groups.items():
        strata[(min(it.label for it in its), (its[0].age or 99) >= 18)].append(g)
    return dict(zip([it.image_path for it in items], assign_groups(groups, strata, seed, [it.patient_group for it in items])))


def nih_split(items, path: str, seed: int) -> dict[str, str]:
    if os.path.exists(path):
        return read_split(path)
    split = make_group_split(items, seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image_path", "patient_group", "split", "dataset", "class"])
        for it in items:
            w.writerow([it.image_path, it.patient_group, split[it.image_path], it.dataset, it.label])
    return split


def load_all(items, cache: str) -> np.ndarray:
    if os.path.exists(cache):
        arr = np.load(cache, mmap_mode="r")
        if arr.shape[0] == len(items):
            return np.asarray(arr)
    arr = np.stack([to_input(load_display(it.path), INPUT_SIZE, RESIZE) for it in items])
    np.save(cache, arr)
    return arr


def trunk_views(trunk: Trunk, x01: np.ndarray, views: int, seed: int, work: str, mean: float, std: float) -> np.ndarray:
    """[views, N, C, 14, 14] float16 trunk features; view 0 is the unaugmented production input. Each
    view is cached in its own file (a view takes minutes on two cores), augmentation seeded per view."""
    out = []
    trunk.eval()
    for v in range(views):
        path = os.path.join(work, f"trunk_view{v}.npy")
        if os.path.exists(path):
            out.append(np.load(path))
            continue
        gen = torch.Generator().manual_seed(seed * 1000 + v)
        t0, fs = time.time(), []
        with torch.no_grad():
            for s in range(0, len(x01), 32):
                xb = torch.from_numpy(x01[s : s + 32]).unsqueeze(1)
                if v > 0:
                    xb = augment(xb, gen)
                fs.append(trunk(((xb - mean) / std).contiguous(memory_format=torch.channels_last)).half().contiguous().numpy())
        out.append(np.concatenate(fs))
        np.save(path, out[-1])
        print(f"trunk view {v}: {time.time() - t0:.0f}s", flush=True)
    return np.stack(out)


class MixedPK(PKSampler):
    """P labels x K images; a label's K are spread evenly over the collections that have it, so adult
    COVID-era, NIH and pediatric films of one label are positives of each other in every batch. Pools
    and per-pool queues are PKSampler's."""

    def __init__(self, ys, cols, k: int, seed: int):
        super().__init__([int(y) for y in ys], list(cols), p=len(set(ys)), k=k, adult_share=0.5, seed=seed)

    def batch(self):
        idx = []
        for y in self.classes:
            keys = [key for key in self.pools if key[0] == y]
            share = [self.k // len(keys) + (1 if i < self.k % len(keys) else 0) for i in range(len(keys))]
            for key, n in zip(keys, share):
                idx += self._draw(key, n)
        return idx


def embed_stage(stage: Stage, feats: np.ndarray, idx, bs: int = 256) -> np.ndarray:
    stage.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(idx), bs):
            out.append(stage(torch.from_numpy(feats[idx[s : s + bs]].astype(np.float32)).contiguous(memory_format=torch.channels_last))[0].numpy())
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    add_common_args(ap, HERE)
    ap.add_argument("--weights", default=os.path.join(HERE, "runs", "mobilenet_v2"), help="extract_nsfwjs.cjs output")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--views", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batches-per-epoch", type=int, default=20)
    ap.add_argument("--k", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--lam", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()

    cxr, nih = read_items(a.data), read_items(a.data_nih)
    split = {**{it.key: s for it, s in ((it, read_split(os.path.join(a.out, "split.csv"))[it.image_path]) for it in cxr)},
             **{it.key: s for it, s in ((it, nih_split(nih, os.path.join(a.out, "split-nih.csv"), a.seed)[it.image_path]) for it in nih)}}
    items = cxr + nih
    print(Counter((split[it.key], it.collection, it.label) for it in items), flush=True)
    x01 = load_all(items, os.path.join(os.path.dirname(a.work), f"inputs2_{RESIZE}_{INPUT_SIZE}.npy"))
    used = [i for i, it in enumerate(items) if it.y >= 0]
    tr = np.array([i for i in used if split[items[i].key] == "train"])
    va = np.array([i for i in used if split[items[i].key] == "val"])
    mean, std = round(float(x01[tr].mean()), 4), round(float(x01[tr].std()), 4)
    trunk = Trunk(a.weights, mean, std)
    feats = trunk_views(trunk.to(memory_format=torch.channels_last), x01, a.views, a.seed, a.work, mean, std)
    print(f"features {feats.shape} in {time.time() - t0:.0f}s", flush=True)

    ys = np.array([it.y for it in items])
    groups = np.array([it.patient_group for it in items])
    cols = np.array([it.collection for it in items])
    adult = np.array([it.age is None or it.age >= 18 for it in items])
    sampler = MixedPK(ys[tr], cols[tr], a.k, a.seed)
    stage = Stage(width=a.width, dim=a.dim).to(memory_format=torch.channels_last)  # oneDNN kernels: several times faster on CPU
    crit = MultiSimilarityLoss(lam=a.lam)
    opt = torch.optim.AdamW(stage.parameters(), lr=a.lr, weight_decay=a.wd)
    total = a.epochs * a.batches_per_epoch
    warm = 2 * a.batches_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    rng = np.random.default_rng(a.seed)

    def validate() -> dict:
        e = embed_stage(stage, feats[0], va)
        res = {}
        for c in ("covid-era", "nih", "pediatric"):
            m = (cols[va] == c) & (adult[va] if c != "pediatric" else True)
            r = retrieval(e[m], e[m], ys[va][m], ys[va][m], groups[va][m], groups[va][m], boot=False)
            r["AUC"] = vote_auc(e[m], ys[va][m], groups[va][m], len(LABELS))
            res[c] = {k: round(v, 4) for k, v in r.items()}
        res["select"] = round(float(np.mean([res[c]["mAP@10"] + res[c]["AUC"] for c in ("covid-era", "nih", "pediatric")]) / 2), 4)
        return res

    best, best_epoch, history = -1.0, 0, []
    config = {"dim": a.dim, "width": a.width, "input": INPUT_SIZE, "resize": RESIZE, "mean": mean, "std": std,
              "labels": LABELS, "trunk": "nsfwjs-4.4.0 mobilenet_v2 until block_12_add"}
    for epoch in range(1, a.epochs + 1):
        stage.train()
        te, losses = time.time(), []
        for _ in range(a.batches_per_epoch):
            idx = tr[np.array(sampler.batch())]
            view = rng.integers(0, a.views, size=len(idx))
            xb = torch.from_numpy(feats[view, idx].astype(np.float32)).contiguous(memory_format=torch.channels_last)
            emb, _ = stage(xb)
            loss, st = crit(emb, torch.from_numpy(ys[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss))
        rec = {"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "train_s": round(time.time() - te, 1), "pairs": st}
        if epoch % 2 == 0 or epoch == a.epochs:
            v = validate()
            rec["val"] = v
            if v["select"] > best:
                best, best_epoch = v["select"], epoch
                torch.save({"stage": stage.state_dict(), "config": config, "epoch": epoch, "val": v, "seed": a.seed},
                           os.path.join(a.work, "best.pt"))
        history.append(rec)
        print(json.dumps(rec), flush=True)
    log = {"best_epoch": best_epoch, "best_val_select": best, "train_minutes": round((time.time() - t0) / 60, 1),
           "args": vars(a), "config": config, "train_images": int(len(tr)), "val_images": int(len(va)),
           "history": history, "torch": torch.__version__}
    with open(os.path.join(a.work, "train_log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(f"done: best epoch {best_epoch} select {best:.4f}; {log['train_minutes']} min", flush=True)


if __name__ == "__main__":
    main()
