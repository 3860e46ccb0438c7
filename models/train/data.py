"""Image cache, class-balanced P x K sampler that mixes collections, and radiograph augmentation."""
from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from common import CLASSES, INPUT_SIZE, RESIZE, load_display, to_input


def load_inputs(data_dir: str, items, size: int = INPUT_SIZE, mode: str = RESIZE, cache: str | None = None) -> np.ndarray:
    """All images as production model inputs before normalisation: [N, size, size] float32 in [0, 1]."""
    if cache and os.path.exists(cache):
        arr = np.load(cache)
        if arr.shape == (len(items), size, size):
            return arr
    arr = np.stack([to_input(load_display(os.path.join(data_dir, it.image_path)), size, mode) for it in items])
    if cache:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        np.save(cache, arr)
    return arr


class PKSampler:
    """Batches of P classes x K images. Within a class present in both collections (normal, viral,
    bacterial), a fixed share of the K images comes from the adult collection (oversampled: it is small),
    so every batch holds adult-pediatric positive pairs and the loss cannot be satisfied by clustering
    collections. Images are drawn without replacement from a per-pool shuffled queue."""

    def __init__(self, labels: list[int], collections: list[str], p: int, k: int, adult_share: float, seed: int):
        self.p, self.k = p, k
        self.rng = np.random.default_rng(seed)
        self.pools: dict[tuple[int, str], list[int]] = {}
        for i, (y, c) in enumerate(zip(labels, collections)):
            self.pools.setdefault((y, c), []).append(i)
        self.classes = sorted({y for y in labels})
        self.adult_k = max(1, round(k * adult_share))
        self.queues: dict[tuple[int, str], list[int]] = {key: [] for key in self.pools}

    def _draw(self, key, n: int) -> list[int]:
        out = []
        while len(out) < n:
            if not self.queues[key]:
                self.queues[key] = list(self.rng.permutation(self.pools[key]))
            out.append(int(self.queues[key].pop()))
        return out

    def batch(self) -> list[int]:
        chosen = self.rng.choice(self.classes, size=min(self.p, len(self.classes)), replace=False)
        idx: list[int] = []
        for y in chosen:
            y = int(y)
            has_a, has_p = (y, "adult") in self.pools, (y, "pediatric") in self.pools
            if has_a and has_p:
                idx += self._draw((y, "adult"), self.adult_k) + self._draw((y, "pediatric"), self.k - self.adult_k)
            else:
                idx += self._draw((y, "adult" if has_a else "pediatric"), self.k)
        return idx


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x: [B, 1, H, W] production inputs in [0, 1] (before normalisation). Returns the same shape.

    Geometry (one affine warp, bilinear, black outside): rotation +-7 deg, zoom 1.0-1.2 (a random
    resized crop keeping 70-100 % of the area, so borders, rulers and corner text are often cut),
    aspect 0.9-1.1, shift +-6 %. No horizontal flip: the heart is on the left, and flipped films do
    not occur in production (a PACS never sends one), so flipping would only teach a false invariance.
    Intensity: gamma 0.7-1.4, contrast 0.75-1.25, brightness +-0.08, then clamp to [0, 1]. Identity
    parameters give back x exactly, so the production input is inside the training distribution.
    """
    b = x.shape[0]

    def u(lo, hi):
        return torch.rand(b, generator=gen) * (hi - lo) + lo

    ang = u(-7, 7) * math.pi / 180
    zoom = u(1.0, 1.2)
    aspect = torch.exp(u(math.log(0.9), math.log(1.1)))
    sx, sy = 1 / (zoom * aspect.sqrt()), aspect.sqrt() / zoom
    tx, ty = u(-0.06, 0.06), u(-0.06, 0.06)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([cos * sx, -sin * sy, tx], 1), torch.stack([sin * sx, cos * sy, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = torch.exp(u(math.log(0.7), math.log(1.4))).view(b, 1, 1, 1)
    y = y.clamp(0, 1) ** gamma
    mean = y.mean(dim=(2, 3), keepdim=True)
    y = (y - mean) * u(0.75, 1.25).view(b, 1, 1, 1) + mean + u(-0.08, 0.08).view(b, 1, 1, 1)
    return y.clamp(0, 1)


def class_index(cls: str) -> int:
    return CLASSES.index(cls)
