"""Multi-similarity loss with hard-pair mining (Wang et al., CVPR 2019)."""
from __future__ import annotations

import torch


class MultiSimilarityLoss(torch.nn.Module):
    """For each anchor i, with cosine similarities S (embeddings are L2-normalised):
    mining: keep negative j if S_ij + eps > min positive S_ik; keep positive k if S_ik - eps < max
    negative S_ij; loss_i = 1/alpha log(1 + sum_kept_pos exp(-alpha (S_ik - lam)))
                          + 1/beta  log(1 + sum_kept_neg exp( beta (S_ij - lam))).
    Mean over anchors that have at least one positive and one negative."""

    def __init__(self, alpha: float = 2.0, beta: float = 50.0, lam: float = 0.5, eps: float = 0.1):
        super().__init__()
        self.alpha, self.beta, self.lam, self.eps = alpha, beta, lam, eps

    def forward(self, emb: torch.Tensor, labels: torch.Tensor):
        sim = emb @ emb.t()
        n = sim.shape[0]
        same = labels.view(-1, 1) == labels.view(1, -1)
        eye = torch.eye(n, dtype=torch.bool, device=emb.device)
        pos_mask, neg_mask = same & ~eye, ~same
        big = 1e4
        min_pos = torch.where(pos_mask, sim, torch.full_like(sim, big)).min(dim=1, keepdim=True).values
        max_neg = torch.where(neg_mask, sim, torch.full_like(sim, -big)).max(dim=1, keepdim=True).values
        neg_keep = neg_mask & (sim + self.eps > min_pos)
        pos_keep = pos_mask & (sim - self.eps < max_neg)
        valid = pos_mask.any(1) & neg_mask.any(1)
        pos_term = torch.where(pos_keep, torch.exp(-self.alpha * (sim - self.lam)), torch.zeros_like(sim)).sum(1)
        neg_term = torch.where(neg_keep, torch.exp(self.beta * (sim - self.lam)), torch.zeros_like(sim)).sum(1)
        per = torch.log1p(pos_term) / self.alpha + torch.log1p(neg_term) / self.beta
        per = per[valid]
        stats = {"pos_pairs": float(pos_keep.sum()) / max(1, n), "neg_pairs": float(neg_keep.sum()) / max(1, n)}
        return (per.mean() if per.numel() else sim.sum() * 0), stats
