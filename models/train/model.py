"""Embedding network: a small residual CNN, a spatial attention module, an L2-normalised embedding.

Input [N, 1, H, W] normalised per the card. The graph first standardises each image by its own mean
and standard deviation (so exposure, film processing and JPEG rendering differences between collections
carry less signal), then: stem -> 4 residual stages (total stride 16) -> feature map F [N, C, H/16, W/16]
-> attention A = sigmoid(conv1x1(relu(conv1x1(F)))) [N, 1, H/16, W/16] -> attention-weighted average
of F -> linear -> batch norm -> L2 normalisation. Outputs (embedding [N, D], attention [N, 1, h, w]).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class EmbeddingNet(nn.Module):
    def __init__(self, widths=(24, 48, 96, 160), blocks=(1, 1, 1, 1), dim: int = 128, stem: int = 16):
        super().__init__()
        self.widths, self.stem_width = tuple(widths), stem
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 5, 2, 2, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))  # stride 4
        layers, cin = [], stem
        strides = (1, 2, 2, 1)  # total stride 16: a 14 x 14 attention map at 224
        for w, n, s in zip(widths, blocks, strides):
            for i in range(n):
                layers.append(BasicBlock(cin, w, s if i == 0 else 1))
                cin = w
        self.body = nn.Sequential(*layers)
        self.att = nn.Sequential(nn.Conv2d(cin, cin // 4, 1), nn.ReLU(inplace=True), nn.Conv2d(cin // 4, 1, 1))
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(cin, dim)
        # Centres the embeddings across the batch before the L2 norm: pooled ReLU features share a large
        # common component, so without it every pair starts at cosine ~0.9 and the MS loss learns slowly.
        self.head_bn = nn.BatchNorm1d(dim)

    def forward(self, x):
        m = x.mean(dim=(2, 3), keepdim=True)
        s = ((x - m) ** 2).mean(dim=(2, 3), keepdim=True)
        x = (x - m) / torch.sqrt(s + 1e-6)
        f = self.body(self.stem(x))
        a = torch.sigmoid(self.att(f))
        pooled = (f * a).sum(dim=(2, 3)) / (a.sum(dim=(2, 3)) + 1e-6)
        e = self.head_bn(self.head(self.drop(pooled)))
        e = e / torch.sqrt((e * e).sum(dim=1, keepdim=True) + 1e-12)
        return e, a


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight: float):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.weight * grad, None


class CollectionAdversary(nn.Module):
    """Predicts the collection (adult vs pediatric) from an embedding through a gradient reversal layer
    (Ganin & Lempitsky, ICML 2015): the adversary learns to tell the collections apart while the
    embedding learns to make that impossible. Used only in training (not exported), and only on classes
    that both collections have: COVID-19 is adult-only, so there the collection is the class."""

    def __init__(self, dim: int = 128, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, e, weight: float):
        return self.net(_ReverseGrad.apply(e, weight)).squeeze(1)
