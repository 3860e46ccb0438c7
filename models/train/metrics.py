"""Retrieval metrics (P@k, mAP@10) with patient-group exclusion and a patient-group bootstrap."""
from __future__ import annotations

import numpy as np

KS = (1, 5, 10)


def neighbours(q: np.ndarray, g: np.ndarray, q_groups, g_groups, k: int = 10, q_ids=None, g_ids=None) -> np.ndarray:
    """Indices [Nq, k] of the k most cosine-similar gallery rows, never from the query's own patient
    group (so never the query itself, nor a duplicate of it filed under another patient id)."""
    sim = q @ g.T
    same = np.asarray(q_groups)[:, None] == np.asarray(g_groups)[None, :]
    sim = np.where(same, -np.inf, sim)
    return np.argsort(-sim, axis=1, kind="stable")[:, :k]


def per_query(nn_idx: np.ndarray, q_labels, g_labels, q_groups, g_groups) -> dict[str, np.ndarray]:
    """Per-query P@1, P@5, P@10 and AP@10. AP@10 = sum_{i<=10} P@i * rel_i / min(10, R), R = relevant
    gallery items outside the query's group (the usual bounded AP@k; 0 when R = 0)."""
    q_labels, g_labels = np.asarray(q_labels), np.asarray(g_labels)
    rel = (g_labels[nn_idx] == q_labels[:, None]).astype(np.float64)
    out = {f"P@{k}": rel[:, :k].mean(1) for k in KS}
    same = np.asarray(q_groups)[:, None] == np.asarray(g_groups)[None, :]
    r_total = ((g_labels[None, :] == q_labels[:, None]) & ~same).sum(1)
    prec_at = np.cumsum(rel, 1) / np.arange(1, rel.shape[1] + 1)
    denom = np.minimum(rel.shape[1], r_total)
    out["mAP@10"] = np.where(denom > 0, (prec_at * rel).sum(1) / np.maximum(denom, 1), 0.0)
    return out


def summarise(pq: dict[str, np.ndarray], q_groups, n_boot: int = 2000, seed: int = 7) -> dict:
    """Means with 95 % percentile intervals from a cluster bootstrap over the queries' patient groups."""
    groups = np.asarray(q_groups)
    uniq, inv = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(seed)
    res = {}
    draws = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
    weights = np.stack([np.bincount(d, minlength=len(uniq)) for d in draws])[:, inv]  # [B, Nq]
    for name, v in pq.items():
        boot = (weights * v[None, :]).sum(1) / weights.sum(1)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        res[name] = {"mean": round(float(v.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}
    res["queries"] = int(len(groups))
    res["patientGroups"] = int(len(uniq))
    return res


def retrieval(q, g, q_labels, g_labels, q_groups, g_groups, boot: bool = True, n_boot: int = 2000, class_names=None) -> dict:
    nn_idx = neighbours(q, g, q_groups, g_groups, 10)
    pq = per_query(nn_idx, q_labels, g_labels, q_groups, g_groups)
    if not boot:
        return {k: float(v.mean()) for k, v in pq.items()}
    res = summarise(pq, q_groups, n_boot)
    if class_names is not None:
        # Per query class (no interval) and their unweighted mean: prevalence cannot inflate the latter.
        ql = np.asarray(q_labels)
        per = {class_names[c]: {"queries": int((ql == c).sum()), **{k: round(float(v[ql == c].mean()), 4) for k, v in pq.items()}}
               for c in sorted(set(ql.tolist()))}
        res["perClass"] = per
        res["classMacro"] = {k: round(float(np.mean([p[k] for p in per.values()])), 4) for k in pq}
    return res
