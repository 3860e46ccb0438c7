"""precedent-cxr 2.x network: an ImageNet-initialised MobileNetV2 trunk, a spatial attention module whose
map is a model output, an L2-normalised embedding.

Input [N, 1, 224, 224] normalised per the card ((x - mean) / std with the card's values). The graph
undoes the card's normalisation back to display space [0, 1], maps it to MobileNetV2's [-1, 1] range and
repeats the grey plane into three channels (the trunk was trained on RGB photographs). The trunk is the
nsfwjs MobileNetV2 up to `block_12_add` (stride 16, 96 channels; blocks 0-10 are Keras' ImageNet weights,
see keras_net.py) and stays frozen; `Stage` then learns two inverted-residual blocks at stride 16 (a
14 x 14 map at 224 px, so the heatmap is as fine as 1.0's), the attention module
A = sigmoid(conv1x1(relu(conv1x1(F)))), attention-weighted average of F, linear, batch norm, L2.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from keras_net import KerasGraph

TRUNK_UNTIL = "block_12_add"
TRUNK_CHANNELS = 96


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, expand: int = 6):
        super().__init__()
        mid = cin * expand
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(inplace=True),
            nn.Conv2d(mid, mid, 3, 1, 1, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(inplace=True),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.res = cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y


class Stage(nn.Module):
    """Everything trained: from the trunk's feature map to (embedding, attention)."""

    def __init__(self, cin: int = TRUNK_CHANNELS, width: int = 192, dim: int = 128):
        super().__init__()
        self.blocks = nn.Sequential(InvertedResidual(cin, width), InvertedResidual(width, width),
                                    nn.Conv2d(width, 384, 1, bias=False), nn.BatchNorm2d(384), nn.ReLU6(inplace=True))
        c = 384
        self.att = nn.Sequential(nn.Conv2d(c, c // 4, 1), nn.ReLU(inplace=True), nn.Conv2d(c // 4, 1, 1))
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(c, dim)
        # Centres the embeddings across the batch before the L2 norm (see model.py of 1.0).
        self.head_bn = nn.BatchNorm1d(dim)

    def forward(self, fmap):
        f = self.blocks(fmap)
        a = torch.sigmoid(self.att(f))
        pooled = (f * a).sum(dim=(2, 3)) / (a.sum(dim=(2, 3)) + 1e-6)
        e = self.head_bn(self.head(self.drop(pooled)))
        e = e / torch.sqrt((e * e).sum(dim=1, keepdim=True) + 1e-12)
        return e, a


class Trunk(nn.Module):
    def __init__(self, weights_dir: str, mean: float, std: float):
        super().__init__()
        self.net = KerasGraph(weights_dir, TRUNK_UNTIL)
        self.mean, self.std = float(mean), float(std)
        for p in self.net.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        x01 = x * self.std + self.mean
        return self.net((x01 * 2 - 1).repeat(1, 3, 1, 1))


class EmbeddingNetV2(nn.Module):
    def __init__(self, trunk: Trunk, stage: Stage):
        super().__init__()
        self.trunk, self.stage = trunk, stage

    def forward(self, x):
        return self.stage(self.trunk(x))
