"""Held-out test evaluation, raw-pixel baseline, collection-leakage checks; writes model.json + metrics.json.

Protocols (queries are always test-split images, never their own patient group):
  archive   : gallery = train + val images (the labelled archive the node would search). Primary.
  test-only : gallery = the other test patient groups (no image the model was trained or selected on).
Subsets: pooled (all test queries, whole gallery) and adult-only (adult queries, adult gallery); also
pediatric-only and adult queries against the whole archive (what the node does).
Intervals: 95 % percentile bootstrap over the query patient groups (2000 resamples).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CLASSES, device_uid, read_labels, read_split, sha256_file  # noqa: E402
from data import load_inputs  # noqa: E402
from export_onnx import load_model  # noqa: E402
from metrics import neighbours, retrieval  # noqa: E402
from train import embed  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE_SIZE = 32


def raw_pixel_features(x32: np.ndarray) -> np.ndarray:
    """Raw-pixel baseline: 32 x 32 (production resize, stretch), per-image standardised, L2-normalised
    so that the dot product is the cosine similarity."""
    f = x32.reshape(len(x32), -1).astype(np.float64)
    f = (f - f.mean(1, keepdims=True)) / (f.std(1, keepdims=True) + 1e-6)
    return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)


def probe(train_x, train_y, test_x, test_y, n_cls: int, seed: int = 7) -> float:
    """Multinomial logistic regression (L2, class-weighted, LBFGS) -> balanced accuracy on test."""
    torch.manual_seed(seed)
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-6
    xt = torch.tensor((train_x - mu) / sd, dtype=torch.float64)
    yt = torch.tensor(train_y)
    w = torch.zeros(xt.shape[1], n_cls, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_cls, dtype=torch.float64, requires_grad=True)
    counts = np.bincount(train_y, minlength=n_cls)
    cw = torch.tensor(len(train_y) / (n_cls * np.maximum(counts, 1)), dtype=torch.float64)
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xt @ w + b, yt, weight=cw) + 1e-2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    pred = (torch.tensor((test_x - mu) / sd, dtype=torch.float64) @ w.detach() + b.detach()).argmax(1).numpy()
    recalls = [float((pred[test_y == c] == c).mean()) for c in range(n_cls) if (test_y == c).any()]
    return round(float(np.mean(recalls)), 4)


def neighbour_vote(nn_idx, g_labels, q_labels) -> dict:
    votes = np.array([np.bincount(g_labels[r], minlength=len(CLASSES)).argmax() for r in nn_idx])
    per = {CLASSES[c]: round(float((votes[q_labels == c] == c).mean()), 4) for c in range(len(CLASSES)) if (q_labels == c).any()}
    return {"accuracy": round(float((votes == q_labels).mean()), 4), "balancedAccuracy": round(float(np.mean(list(per.values()))), 4),
            "recallPerClass": per}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/cxr")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--ckpt", default=os.path.join(HERE, "runs", "best.pt"))
    ap.add_argument("--work", default=os.path.join(HERE, "runs"))
    ap.add_argument("--boot", type=int, default=2000)
    a = ap.parse_args()
    torch.set_num_threads(2)

    model, ck = load_model(a.ckpt)
    cfg = ck["config"]
    items = read_labels(a.data)
    split = read_split(os.path.join(a.out, "split.csv"))
    x01 = load_inputs(a.data, items, cfg["input"], cfg["resize"], cache=os.path.join(a.work, f"inputs_{cfg['resize']}_{cfg['input']}.npy"))
    x32 = load_inputs(a.data, items, BASELINE_SIZE, "stretch", cache=os.path.join(a.work, f"inputs_stretch_{BASELINE_SIZE}.npy"))

    labels = np.array([CLASSES.index(it.cls) if it.cls else -1 for it in items])
    groups = np.array([it.patient_group for it in items])
    adult = np.array([it.collection == "adult" for it in items])
    sp = np.array([split[it.image_path] for it in items])
    used = labels >= 0
    te = np.where(used & (sp == "test"))[0]
    ar = np.where(used & ((sp == "train") | (sp == "val")))[0]
    tr = np.where(used & (sp == "train"))[0]

    feats = {"model": np.zeros((len(items), cfg["dim"]), np.float32), "rawPixelBaseline": raw_pixel_features(x32)}
    idx_all = np.where(used)[0]
    feats["model"][idx_all] = embed(model, x01, idx_all, cfg["mean"], cfg["std"])

    def run(f, q, g, boot=True):
        return retrieval(f[q], f[g], labels[q], labels[g], groups[q], groups[g], boot=boot, n_boot=a.boot, class_names=CLASSES)

    results: dict = {}
    for name, f in feats.items():
        results[name] = {
            "archive": {"pooled": run(f, te, ar), "adultOnly": run(f, te[adult[te]], ar[adult[ar]]),
                        "pediatricOnly": run(f, te[~adult[te]], ar[~adult[ar]]),
                        "adultQueriesWholeArchive": run(f, te[adult[te]], ar)},
            "testOnly": {"pooled": run(f, te, te), "adultOnly": run(f, te[adult[te]], te[adult[te]])},
        }

    # Collection leakage. (1) Adult queries of the classes both collections have (normal, viral,
    # bacterial): of their 10 nearest archive cases, how many are pediatric, and how many share the class.
    # A model that learned "which collection" would return adult (mostly COVID-19) films for them.
    shared = [CLASSES.index(c) for c in ("normal", "viral", "bacterial")]
    leak: dict = {}
    for name, f in feats.items():
        out = {}
        for label, sel in (("adultNormalQueries", adult[te] & (labels[te] == CLASSES.index("normal"))),
                           ("adultNonCovidQueries", adult[te] & np.isin(labels[te], shared)),
                           ("adultCovidQueries", adult[te] & (labels[te] == CLASSES.index("COVID-19"))),
                           ("pediatricQueries", ~adult[te])):
            q = te[sel]
            if len(q) == 0:
                continue
            nn_idx = neighbours(f[q], f[ar], groups[q], groups[ar], 10)
            g = ar[nn_idx]
            out[label] = {"queries": int(len(q)), "top10Pediatric": round(float((~adult[g]).mean()), 4),
                          "top10SameClass": round(float((labels[g] == labels[q][:, None]).mean()), 4)}
        # (1b) the same on val + test adult non-COVID queries (n is tiny on test alone; val chose the epoch)
        q = np.where(used & ((sp == "test") | (sp == "val")) & adult & np.isin(labels, shared))[0]
        g_tr = tr
        nn_idx = neighbours(f[q], f[g_tr], groups[q], groups[g_tr], 10)
        g = g_tr[nn_idx]
        out["adultNonCovidQueriesValTestVsTrain"] = {"queries": int(len(q)), "top10Pediatric": round(float((~adult[g]).mean()), 4),
                                                      "top10SameClass": round(float((labels[g] == labels[q][:, None]).mean()), 4),
                                                      "top10Covid": round(float((labels[g] == CLASSES.index("COVID-19")).mean()), 4)}
        # (2) the same adult non-COVID test queries against the pediatric archive only: does the class
        # transfer across collections? (chance = 1/3; the pediatric archive is class-balanced)
        q = te[adult[te] & np.isin(labels[te], shared)]
        gp = ar[~adult[ar]]
        if len(q):
            r = retrieval(f[q], f[gp], labels[q], labels[gp], groups[q], groups[gp], boot=False)
            out["adultNonCovidVsPediatricArchive"] = {"queries": int(len(q)), "P@10": round(r["P@10"], 4), "chance": 0.3333}
        leak[name] = out

    # (3) Linear probes on the train split -> test split, balanced accuracy: the 4 classes, and the
    # collection (adult vs pediatric) within the classes both collections share.
    probes: dict = {}
    sh_tr, sh_te = tr[np.isin(labels[tr], shared)], te[np.isin(labels[te], shared)]
    for name, f in feats.items():
        probes[name] = {
            "label4": probe(f[tr], labels[tr], f[te], labels[te], len(CLASSES)),
            "collectionWithinSharedClasses": probe(f[sh_tr], adult[sh_tr].astype(int), f[sh_te], adult[sh_te].astype(int), 2),
            "classWithinSharedClasses": probe(f[sh_tr], labels[sh_tr], f[sh_te], labels[sh_te], len(CLASSES)),
        }

    votes = {}
    for name, f in feats.items():
        nn_idx = neighbours(f[te], f[ar], groups[te], groups[ar], 10)
        votes[name] = neighbour_vote(nn_idx, labels[ar], labels[te])

    log_path = os.path.join(a.work, "train_log.json")
    tlog = json.load(open(log_path)) if os.path.exists(log_path) else {}
    export = json.load(open(os.path.join(a.out, "export.json")))
    onnx_path = os.path.join(a.out, "model.onnx")
    sha = sha256_file(onnx_path)
    if sha != export["sha256"]:
        raise SystemExit("model.onnx changed since export_onnx.py: re-run the export")

    counts = {s: {} for s in ("train", "val", "test")}
    for it, s in zip(items, sp):
        key = f"{it.collection}/{it.cls or 'excluded'}"
        counts[s][key] = counts[s].get(key, 0) + 1

    metrics = {
        "protocol": ("Test-split queries (patients never seen in training or model selection), top-k by cosine similarity, "
                     "excluding the query's own patient group. 'archive': gallery = train+val images; 'testOnly': gallery = "
                     "other test patient groups. adultOnly = adult queries against adult gallery images only. P@k = share "
                     "of the k neighbours with the query's class; mAP@10 = mean of AP@10 = sum_{i<=10} P@i*rel_i / min(10, R). "
                     "ci95: percentile bootstrap over query patient groups (2000 resamples). rawPixelBaseline: 32x32 "
                     "stretch resize, per-image standardised, cosine."),
        "classes": CLASSES,
        "test": results,
        "collectionLeakage": leak,
        "linearProbeBalancedAccuracy": probes,
        "neighbourVoteTop10": votes,
        "training": {"minutes": tlog.get("train_minutes"), "epochsRun": tlog.get("epochs_run"), "bestEpoch": ck["epoch"],
                     "stopped": tlog.get("stopped"), "seed": ck.get("seed"), "validationAtBestEpoch": ck.get("val"),
                     "imagesPerSplit": counts, "torch": torch.__version__,
                     "hardware": "CPU only, torch.set_num_threads(2), on a machine shared with other jobs",
                     "command": "train.py --data ../shared/data/cxr --out models/default --seed 7 (defaults)"},
        "onnx": {"file": "model.onnx", "sha256": sha, "sizeMB": export["sizeMB"], "opset": export["opset"],
                 "parity": {k: export[k] for k in ("runtime", "images", "embeddingMaxAbsDiff", "attentionMaxAbsDiff",
                                                    "preprocessMaxAbsDiff")}},
    }
    n_used = int(used.sum())
    card = {
        "name": "precedent-cxr-msl",
        "version": "1.0.0",
        "deviceUID": device_uid(sha),
        "input": {"name": "image", "shape": [-1, 1, cfg["input"], cfg["input"]], "channels": 1},
        "resize": cfg["resize"],
        "normalisation": {"mean": [cfg["mean"]], "std": [cfg["std"]]},
        "outputs": {"embedding": "embedding", "attention": "attention"},
        "embeddingDimension": cfg["dim"],
        "intendedUse": ("Decision support only, not diagnosis: retrieves previously diagnosed frontal (PA/AP) chest radiographs "
                        "that look similar to the current one, with a coarse attention heatmap, for a radiologist who makes the "
                        "diagnosis. Research-grade default model trained on about 1,200 public images; not validated for clinical "
                        "use, not for tuberculosis, lateral views, CT or non-chest images. Retrain on the site's own archive "
                        "before relying on it (see docs/model-card.md)."),
        "trainingData": (f"{n_used} labelled public frontal chest radiographs (of 1265): Kermany et al. 2018 pediatric "
                         "(960: normal, bacterial, viral pneumonia; CC BY 4.0), Cohen et al. COVID-19 image data collection "
                         "(June 2020), Chung et al. Actualmed and Figure1 COVID-19 sets (adult, 305). Classes: COVID-19, viral "
                         "(other viral pneumonia incl. pediatric), bacterial, normal; adult fungal/unspecified pneumonia and "
                         "'other' (21) excluded. Split by patient group, stratified by collection and class: "
                         + "; ".join(f"{s} {sum(v for k, v in counts[s].items() if not k.endswith('excluded'))}" for s in counts)
                         + " images (models/default/split.csv)."),
        "metrics": metrics,
    }
    with open(os.path.join(a.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print_table(results, leak, probes, votes)


def print_table(results, leak, probes, votes) -> None:
    for proto in ("archive", "testOnly"):
        print(f"\n== {proto} ==")
        for sub in results["model"][proto]:
            for name in results:
                r = results[name][proto][sub]
                cells = "  ".join(f"{m} {r[m]['mean']:.3f} [{r[m]['ci95'][0]:.3f},{r[m]['ci95'][1]:.3f}]" for m in ("P@1", "P@5", "P@10", "mAP@10"))
                print(f"{sub:14s} {name:17s} n={r['queries']:3d}  {cells}")
                print(f"{'':14s} {'':17s} class-macro P@5 {r['classMacro']['P@5']:.3f} mAP@10 {r['classMacro']['mAP@10']:.3f}  "
                      + " ".join(f"{c}(n={p['queries']}) P@5 {p['P@5']:.2f}" for c, p in r["perClass"].items()))
    print("\nleakage", json.dumps(leak, indent=1))
    print("probes", json.dumps(probes))
    print("votes", json.dumps(votes))


if __name__ == "__main__":
    main()
