"""Trains the retrieval embedding (multi-similarity loss, P x K sampling, attention) from scratch.

/usr/bin/python3 models/train/train.py --data ../shared/data/cxr --out models/default --seed 7
writes <out>/split.csv (if absent) and <work>/best.pt (+ train_log.json); export_onnx.py and
evaluate.py take it from there.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CLASSES, INPUT_SIZE, RESIZE, SEED, read_labels, read_split  # noqa: E402
from data import PKSampler, augment, load_inputs  # noqa: E402
from loss import MultiSimilarityLoss  # noqa: E402
from metrics import retrieval  # noqa: E402
from model import CollectionAdversary, EmbeddingNet  # noqa: E402
from split import make_split, summary, write_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def embed(model, x01: np.ndarray, idx, mean: float, std: float, bs: int = 128) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(idx), bs):
            xb = torch.from_numpy(x01[idx[s : s + bs]]).unsqueeze(1)
            out.append(model((xb - mean) / std)[0].numpy())
    return np.concatenate(out) if out else np.zeros((0, model.head.out_features), np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/cxr")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--work", default=os.path.join(HERE, "runs"))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--epochs", type=int, default=26)
    ap.add_argument("--batches-per-epoch", type=int, default=14)
    ap.add_argument("--p", type=int, default=4)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--adult-share", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--lam", type=float, default=0.5)
    ap.add_argument("--eval-every", type=int, default=2)
    ap.add_argument("--eval-from", type=int, default=10, help="first epoch that is validated")
    ap.add_argument("--patience", type=int, default=6, help="evaluations without improvement before stopping")
    ap.add_argument("--time-budget-min", type=float, default=55.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--subset", type=int, default=0, help="smoke test: use only this many training images")
    ap.add_argument("--adversary", type=float, default=0.0,
                    help="weight of the collection adversary (gradient reversal) on classes both collections have; 0: off")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    t0 = time.time()

    items = read_labels(a.data)
    split_path = os.path.join(a.out, "split.csv")
    if os.path.exists(split_path):
        split = read_split(split_path)
    else:
        split = make_split(items, a.seed)
        write_split(items, split, split_path)
    print(summary(items, split), flush=True)

    x01 = load_inputs(a.data, items, INPUT_SIZE, RESIZE, cache=os.path.join(a.work, f"inputs_{RESIZE}_{INPUT_SIZE}.npy"))
    print(f"inputs {x01.shape} loaded in {time.time() - t0:.0f}s", flush=True)
    used = [i for i, it in enumerate(items) if it.cls is not None]
    tr = [i for i in used if split[items[i].image_path] == "train"]
    va = [i for i in used if split[items[i].image_path] == "val"]
    if a.subset:
        tr = sorted(np.random.default_rng(a.seed).choice(tr, a.subset, replace=False).tolist())
        va = va[:: max(1, len(va) // 60)]
    mean = round(float(x01[tr].mean()), 4)
    std = round(float(x01[tr].std()), 4)
    labels = np.array([CLASSES.index(it.cls) if it.cls else -1 for it in items])
    groups = np.array([it.patient_group for it in items])
    adult = np.array([it.collection == "adult" for it in items])

    sampler = PKSampler([int(labels[i]) for i in tr], [items[i].collection for i in tr], a.p, a.k, a.adult_share, a.seed)
    model = EmbeddingNet(dim=a.dim)
    crit = MultiSimilarityLoss(lam=a.lam)
    adversary = CollectionAdversary(a.dim) if a.adversary > 0 else None
    params = list(model.parameters()) + (list(adversary.parameters()) if adversary else [])
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.wd)
    shared_cls = torch.tensor([c != "COVID-19" for c in CLASSES])
    total_steps = a.epochs * a.batches_per_epoch
    warm = 2 * a.batches_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total_steps - warm))))
    gen = torch.Generator().manual_seed(a.seed)
    gallery = np.array(tr + va)
    tr_arr = np.array(tr)

    def validate() -> dict:
        g = embed(model, x01, gallery, mean, std)
        q = g[len(tr):]
        va_arr = np.array(va)
        pooled = retrieval(q, g, labels[va_arr], labels[gallery], groups[va_arr], groups[gallery], boot=False)
        qa, ga = adult[va_arr], adult[gallery]
        ad = retrieval(q[qa], g[ga], labels[va_arr][qa], labels[gallery][ga], groups[va_arr][qa], groups[gallery][ga], boot=False)
        return {"pooled": pooled, "adult": ad, "select": 0.5 * (pooled["mAP@10"] + ad["mAP@10"])}

    os.makedirs(a.work, exist_ok=True)
    best, best_epoch, since, history = -1.0, 0, 0, []
    ckpt = os.path.join(a.work, "best.pt")
    config = {"dim": a.dim, "widths": list(model.widths), "stem": model.stem_width, "input": INPUT_SIZE, "resize": RESIZE, "mean": mean, "std": std, "classes": CLASSES}
    stopped = "epochs"
    epoch = 0
    for epoch in range(1, a.epochs + 1):
        model.train()
        te, losses = time.time(), []
        for _ in range(a.batches_per_epoch):
            idx = tr_arr[np.array(sampler.batch())]  # sampler works on positions within tr
            xb = augment(torch.from_numpy(x01[idx]).unsqueeze(1), gen)
            emb, _att = model((xb - mean) / std)
            y = torch.from_numpy(labels[idx])
            loss, st = crit(emb, y)
            if adversary is not None:
                # DANN schedule: the reversed gradient ramps from 0 to its full weight over training.
                progress = (sched.last_epoch + 1) / total_steps
                ramp = 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0
                keep = shared_cls[y]
                if int(keep.sum()) > 1:
                    logits = adversary(emb[keep], a.adversary * ramp)
                    target = torch.from_numpy(adult[idx]).float()[keep]
                    adv_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
                    loss = loss + adv_loss
                    st = {**st, "adv_loss": round(float(adv_loss), 4)}
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss))
        rec = {"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "lr": round(sched.get_last_lr()[0], 6),
               "train_s": round(time.time() - te, 1), "pairs": st}
        if (epoch >= a.eval_from and epoch % a.eval_every == 0) or epoch == a.epochs:
            v = validate()
            rec["val"] = v
            if v["select"] > best:
                best, best_epoch, since = v["select"], epoch, 0
                torch.save({"state_dict": model.state_dict(), "config": config, "epoch": epoch, "val": v, "seed": a.seed}, ckpt)
            else:
                since += 1
        rec["elapsed_min"] = round((time.time() - t0) / 60, 2)
        history.append(rec)
        print(json.dumps(rec), flush=True)
        if since >= a.patience:
            stopped = f"early stop: no validation improvement in {a.patience} evaluations"
            break
        if (time.time() - t0) / 60 > a.time_budget_min:
            stopped = f"time budget of {a.time_budget_min} min reached"
            break
    log = {"best_epoch": best_epoch, "best_val_select": best, "epochs_run": epoch, "stopped": stopped,
           "train_minutes": round((time.time() - t0) / 60, 1), "args": vars(a), "config": config,
           "train_images": len(tr), "val_images": len(va), "history": history, "torch": torch.__version__}
    with open(os.path.join(a.work, "train_log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(f"done: best epoch {best_epoch} val select {best:.4f}; {stopped}; {log['train_minutes']} min", flush=True)


if __name__ == "__main__":
    main()
