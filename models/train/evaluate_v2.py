"""precedent-cxr 2.x: held-out test figures, baselines, collection probe, attention check, similarity
calibration; writes <out>/metrics.json and updates <out>/model.json (metrics, similarityCalibration,
deviceUID from the exported ONNX file).

Protocol (the issue's): per collection, queries AND gallery are that collection's test-split films (NIH:
adults only); each query searches the other patient groups; relevant = same `label`; vote k = 10,
similarity-weighted; 95 % intervals from a cluster bootstrap over patient groups (2000 resamples).
Baselines on the same films: raw pixels (32 x 32, standardised) and untuned ImageNet features (the
frozen trunk's global average, i.e. what a user gets from ImageNet weights without any training here).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import device_uid, sha256_file  # noqa: E402
from evaluate import probe  # noqa: E402
from metrics import neighbours, per_query, summarise  # noqa: E402
from head_v2 import ProbeHead  # noqa: E402
from sets import LABELS, add_common_args, items_and_split  # noqa: E402
from vote import auc, vote_probabilities  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = ("covid-era", "nih", "pediatric")


def l2(f):
    return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)


def score(f, ys, groups, rng_seed=7, n_boot=2000) -> dict:
    nn = neighbours(f, f, groups, groups, 10)
    pq = per_query(nn, ys, ys, groups, groups)
    has_rel = np.array([((ys == ys[i]) & (groups != groups[i])).any() for i in range(len(ys))])
    res = summarise({k: v[has_rel] for k, v in pq.items()}, groups[has_rel], n_boot, rng_seed)
    res["leftOutNoRelevant"] = int((~has_rel).sum())
    p = vote_probabilities(f, ys, groups, len(LABELS))
    pred = p.argmax(1)
    present = [c for c in range(len(LABELS)) if (ys == c).sum() >= 5]
    res["auc_classes"] = [LABELS[c] for c in present]
    uniq, inv = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(rng_seed)

    def macro(idx):
        a = [auc(p[idx, c], ys[idx] == c) for c in present]
        a = [x for x in a if x == x]
        return float(np.mean(a)) if a else float("nan")

    boots = []
    for _ in range(500):
        pick = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([np.where(inv == j)[0] for j in pick])
        boots.append(macro(idx))
    boots = [b for b in boots if b == b]
    res["voteMacroAUC"] = {"mean": round(macro(np.arange(len(ys))), 4), "ci95": [round(float(np.percentile(boots, 2.5)), 4), round(float(np.percentile(boots, 97.5)), 4)]}
    res["voteAccuracy"] = round(float((pred == ys).mean()), 4)
    sens = {LABELS[c]: round(float((pred[ys == c] == c).mean()), 4) for c in range(len(LABELS)) if (ys == c).any()}
    res["voteSensitivity"] = sens
    res["voteBalancedAccuracy"] = round(float(np.mean(list(sens.values()))), 4)
    res["classes"] = {LABELS[c]: int((ys == c).sum()) for c in range(len(LABELS)) if (ys == c).any()}
    return res


def attention_check(att: np.ndarray, items, idx_of: dict, boxes_csv: str) -> dict:
    """Pointing game on the radiologists' boxes (NIH): share of boxed films whose attention maximum
    (the 14 x 14 map stretched onto the film, as the node draws it) falls in a box, and the share of
    attention mass inside the boxes, next to a fixed centre-of-chest map (a Gaussian at the image centre)."""
    by_img: dict[str, list] = {}
    with open(boxes_csv, newline="") as f:
        for r in csv.DictReader(f):
            by_img.setdefault(r["image_path"], []).append(r)
    hits = hits_c = 0
    mass, mass_c, area = [], [], []
    yy, xx = np.mgrid[0:224, 0:224]
    centre = np.exp(-(((xx - 111.5) / 50) ** 2 + ((yy - 111.5) / 60) ** 2))
    n = 0
    for path, bs in by_img.items():
        i = idx_of.get(path)
        if i is None:
            continue
        it = items[i]
        from PIL import Image
        with Image.open(it.path) as im:
            w, h = im.size
        m = F.interpolate(torch.from_numpy(att[i][None]).float(), size=(224, 224), mode="bilinear", align_corners=False)[0, 0].numpy()
        inside = np.zeros((224, 224), bool)
        for b in bs:
            x0, y0 = float(b["x"]) / w * 224, float(b["y"]) / h * 224
            x1, y1 = x0 + float(b["width"]) / w * 224, y0 + float(b["height"]) / h * 224
            inside[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = True
        n += 1
        hits += bool(inside.flat[int(m.argmax())])
        hits_c += bool(inside.flat[int(centre.argmax())])
        mass.append(float(m[inside].sum() / m.sum()))
        mass_c.append(float(centre[inside].sum() / centre.sum()))
        area.append(float(inside.mean()))
    return {"films": n, "pointingGame": round(hits / max(n, 1), 4), "pointingGameCentreMap": round(hits_c / max(n, 1), 4),
            "massInBoxes": round(float(np.mean(mass)), 4), "massInBoxesCentreMap": round(float(np.mean(mass_c)), 4),
            "boxAreaShare": round(float(np.mean(area)), 4)}


def border_mass(att: np.ndarray) -> float:
    """Mean share of attention in the film's outer band (top 12 %, bottom 18 %, sides 10 %: shoulders,
    neck, abdomen, labels), with no lung segmentation available here."""
    m = F.interpolate(torch.from_numpy(att).float(), size=(100, 100), mode="bilinear", align_corners=False)[:, 0].numpy()
    band = np.ones((100, 100), bool)
    band[12:82, 10:90] = False
    return round(float((m[:, band].sum((1)) / m.sum((1, 2))).mean()), 4)


def calibration(e, ys, groups, tr_va_mask, va_mask, knots: int = 21) -> dict:
    """Displayed match score: the percentile of a cosine among the top-10 neighbour cosines of the
    validation queries searching the train+val archive. Fixed for every query; 0.5 = a typical top-10
    match, 0.95 = closer than 95 % of them."""
    g = np.where(tr_va_mask)[0]
    q = np.where(va_mask)[0]
    sim = e[q] @ e[g].T
    sim = np.where(groups[q][:, None] == groups[g][None, :], -np.inf, sim)
    top = -np.sort(-sim, axis=1)[:, :10].ravel()
    ps = np.linspace(0, 100, knots)
    cos = np.percentile(top, ps)
    cos = np.maximum.accumulate(cos)
    return {"kind": "percentile", "cosines": [round(float(c), 5) for c in cos], "scores": [round(p / 100, 4) for p in ps]}


def spread(e, groups, mask, cal) -> float:
    """Median over queries of displayed(1st neighbour) - displayed(10th neighbour)."""
    idx = np.where(mask)[0]
    sim = e[idx] @ e[idx].T
    sim = np.where(groups[idx][:, None] == groups[idx][None, :], -np.inf, sim)
    top = -np.sort(-sim, axis=1)[:, :10]
    d = np.interp(top[:, 0], cal["cosines"], cal["scores"]) - np.interp(top[:, 9], cal["cosines"], cal["scores"])
    return round(float(np.median(d)), 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    add_common_args(ap, HERE)
    ap.add_argument("--head", default="", help="head checkpoint (default <work>/head.pt; 2.1.0: runs/v21/head21.pt)")
    ap.add_argument("--weights", default=os.path.join(HERE, "runs", "mobilenet_v2"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    items, split = items_and_split(a)
    ck = torch.load(a.head or os.path.join(a.work, "head.pt"), map_location="cpu")
    if "head21" in ck:
        from head_v21 import ProbeHeadV21

        stage = ProbeHeadV21(**ck["head21"], weights_dir=a.weights)
    else:
        stage = ProbeHead(**ck["head"])
    stage.eval()
    f0 = np.load(os.path.join(a.work, "trunk_view0.npy"))
    es, atts = [], []
    with torch.no_grad():
        for s in range(0, len(f0), 128):
            e, att = stage(torch.from_numpy(f0[s : s + 128].astype(np.float32)))
            es.append(e.numpy())
            atts.append(att.numpy())
    emb, att = np.concatenate(es), np.concatenate(atts)
    gap = l2(f0.astype(np.float32).mean((2, 3)))
    x = np.load(os.path.join(os.path.dirname(a.work), "inputs2_stretch_224.npy"), mmap_mode="r")
    r32 = np.asarray(x).reshape(len(x), 32, 7, 32, 7).mean((2, 4)).reshape(len(x), -1)
    r32 = l2((r32 - r32.mean(1, keepdims=True)) / r32.std(1, keepdims=True))
    ys = np.array([i.y for i in items])
    groups = np.array([i.patient_group for i in items])
    cols = np.array([i.collection for i in items])
    adult = np.array([i.age is None or i.age >= 18 for i in items])
    used = ys >= 0

    out = {"protocol": __doc__.split("\n\n")[1].replace("\n", " "), "test": {}, "val": {}}
    for sub in ("test", "val"):
        for c in COLLECTIONS:
            m = (split == sub) & (cols == c) & used & (adult if c == "nih" else True)
            out[sub][c] = {name: score(f[m], ys[m], groups[m]) for name, f in
                           (("model", emb), ("rawPixels", r32), ("imagenetUntuned", gap))}
    cal = calibration(emb, ys, groups, used & np.isin(split, ["train", "val"]), used & (split == "val"))
    out["similarityCalibration"] = cal
    out["displayedScoreSpread"] = {c: spread(emb, groups, (split == "test") & (cols == c) & used, cal) for c in COLLECTIONS}
    raw_top1 = {}
    for c in COLLECTIONS:
        idx = np.where((split == "test") & (cols == c) & used)[0]
        sim = emb[idx] @ emb[idx].T
        sim = np.where(groups[idx][:, None] == groups[idx][None, :], -np.inf, sim)
        top = -np.sort(-sim, axis=1)[:, :10]
        raw_top1[c] = {"medianTop1Cosine": round(float(np.median(top[:, 0])), 4), "medianTop1MinusTop10": round(float(np.median(top[:, 0] - top[:, 9])), 4)}
    out["rawCosine"] = raw_top1
    # Collection probe: can a linear classifier tell the collection from the embedding, on films of the
    # labels two collections share (normal, other pneumonia)? Chance = 1/3 balanced accuracy.
    col_ix = {c: i for i, c in enumerate(COLLECTIONS)}
    shared = used & (ys != LABELS.index("COVID-19"))
    trm, tem = shared & (split != "test"), shared & (split == "test")
    out["collectionProbe"] = {name: probe(f[trm], np.array([col_ix[c] for c in cols[trm]]), f[tem], np.array([col_ix[c] for c in cols[tem]]), 3)
                              for name, f in (("model", emb), ("rawPixels", r32), ("imagenetUntuned", gap))}
    idx_of = {it.image_path: i for i, it in enumerate(items) if it.collection == "nih"}
    out["attention"] = attention_check(att, items, idx_of, os.path.join(a.data_nih, "boxes.csv"))
    out["attention"]["borderMass"] = border_mass(att[used])
    out["head"] = {"args": ck["args"], "pairs": [list(p) for p in ck["pairs"]], "trainImages": ck["train_images"]}
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(out, f, indent=1)
    card_path = os.path.join(a.out, "model.json")
    card = json.load(open(card_path))
    card["deviceUID"] = device_uid(sha256_file(os.path.join(a.out, "model.onnx")))
    card["normalisation"] = {"mean": [ck["config"]["mean"]], "std": [ck["config"]["std"]]}
    card["similarityCalibration"] = cal
    card["metrics"] = {"protocol": out["protocol"], "test": out["test"], "collectionProbe": out["collectionProbe"],
                       "attention": out["attention"], "displayedScoreSpread": out["displayedScoreSpread"], "rawCosine": raw_top1}
    with open(card_path, "w") as f:
        json.dump(card, f, indent=2)
    for c in COLLECTIONS:
        for name, r in out["test"][c].items():
            print(f"test {c:10s} {name:16s} n={r['queries']:4d} P@5 {r['P@5']['mean']:.3f} {r['P@5']['ci95']} mAP {r['mAP@10']['mean']:.3f} "
                  f"AUC {r['voteMacroAUC']['mean']:.3f} {r['voteMacroAUC']['ci95']} sens {r['voteSensitivity']}")
    print(json.dumps({k: out[k] for k in ("displayedScoreSpread", "rawCosine", "collectionProbe", "attention")}))


if __name__ == "__main__":
    main()
