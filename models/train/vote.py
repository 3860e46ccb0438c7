"""The node's k-NN vote (src/eval/diagnosis.ts) and its macro one-vs-rest AUC, for model selection."""
from __future__ import annotations

import numpy as np


def vote_probabilities(e: np.ndarray, ys: np.ndarray, groups: np.ndarray, n_classes: int, k: int = 10) -> np.ndarray:
    """Each query's k nearest neighbours of other patient groups vote with weight max(similarity, 0)."""
    sim = e @ e.T
    sim = np.where(groups[:, None] == groups[None, :], -np.inf, sim)
    nn = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    w = np.maximum(np.take_along_axis(sim, nn, 1), 0)
    p = np.zeros((len(e), n_classes))
    for c in range(n_classes):
        p[:, c] = (w * (ys[nn] == c)).sum(1)
    return p / np.maximum(p.sum(1, keepdims=True), 1e-12)


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half."""
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    allv = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(allv))
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(allv))
    r[order] = ranks
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def vote_auc(e: np.ndarray, ys: np.ndarray, groups: np.ndarray, n_classes: int, min_queries: int = 5) -> float:
    """Macro one-vs-rest AUC of the vote over classes with at least `min_queries` queries."""
    p = vote_probabilities(e, ys, groups, n_classes)
    aucs = [auc(p[:, c], ys == c) for c in range(n_classes) if (ys == c).sum() >= min_queries and (ys != c).any()]
    aucs = [a for a in aucs if a == a]
    return float(np.mean(aucs)) if aucs else float("nan")
