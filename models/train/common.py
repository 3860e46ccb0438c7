"""Shared pieces of the training recipe: label design, the production preprocessing, the split file.

The preprocessing here is a port of src/embed/preprocess.ts (`resize`, `writeTensor`): the node decodes
DICOM to display-space floats in [0, 1] (0 black), resizes per the card and normalises (x - mean) / std.
Training and evaluation read JPEGs through exactly the same steps, so the ONNX model sees in production
what it saw here.
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

SEED = 7
INPUT_SIZE = 224  # H = W; card input.shape = [-1, 1, 224, 224]
RESIZE = "stretch"  # letterbox pads with black, which would tell pediatric (4:3) from adult (~1:1) films
CLASSES = ["COVID-19", "viral", "bacterial", "normal"]
ADULT = "adult"
PEDIATRIC = "pediatric"


def class_of(row: dict) -> str | None:
    """labels.csv (label, label_group) -> training class; None = not used for training or evaluation.

    COVID-19 -> COVID-19; other pneumonia + viral (adult viral, pediatric viral) -> viral;
    other pneumonia + bacterial -> bacterial; normal -> normal. Excluded: other pneumonia whose agent is
    fungal or unspecified (18 adult images: too few and too mixed for a class of their own) and 'other'
    (ARDS, 3 images).
    """
    label, group = row["label"].strip(), row["label_group"].strip()
    if label == "COVID-19":
        return "COVID-19"
    if label == "normal":
        return "normal"
    if label == "other pneumonia" and group in ("viral", "bacterial"):
        return group
    return None


def collection_of(row: dict) -> str:
    return PEDIATRIC if row["dataset"].startswith("kermany") else ADULT


@dataclass
class Item:
    image_path: str
    patient_group: str
    dataset: str
    collection: str
    cls: str | None
    label: str
    label_group: str


def read_labels(data_dir: str) -> list[Item]:
    with open(os.path.join(data_dir, "labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Item(r["image_path"], r["patient_group"], r["dataset"], collection_of(r), class_of(r), r["label"], r["label_group"])
        for r in rows
    ]


# ---------------------------------------------------------------- production preprocessing (preprocess.ts)

def _taps(in_size: int, out_size: int) -> np.ndarray:
    """The (out_size x in_size) matrix of preprocess.ts `taps()`: antialiased bilinear (triangle) filter
    with pixel centres at i + 0.5, the triangle widened by the scale when shrinking (= PIL BILINEAR)."""
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = filter_scale
    m = np.zeros((out_size, in_size), dtype=np.float64)
    for i in range(out_size):
        centre = (i + 0.5) * scale
        lo = max(0, int(np.floor(centre - support + 0.5)))
        hi = min(in_size, int(np.floor(centre + support + 0.5)))
        xs = np.arange(lo, hi)
        w = np.maximum(0.0, 1.0 - np.abs((xs + 0.5 - centre) / filter_scale))  # float64, summed as is
        m[i, lo:hi] = (w.astype(np.float32).astype(np.float64) / w.sum()).astype(np.float32)  # Float32Array
    return m


_TAPS_CACHE: dict[tuple[int, int], np.ndarray] = {}


def taps(in_size: int, out_size: int) -> np.ndarray:
    key = (in_size, out_size)
    if key not in _TAPS_CACHE:
        _TAPS_CACHE[key] = _taps(in_size, out_size)
    return _TAPS_CACHE[key]


def resize(img: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Separable resize of a [H, W] float image, as preprocess.ts `resize` (rows first, then columns)."""
    h, w = img.shape
    if (w, h) == (out_w, out_h):
        return img.astype(np.float32).copy()
    rows = (img.astype(np.float64) @ taps(w, out_w).T).astype(np.float32)  # [h, out_w], Float32Array rows
    return (taps(h, out_h) @ rows.astype(np.float64)).astype(np.float32)


def load_display(path: str) -> np.ndarray:
    """A JPEG as the node's DecodedImage.pixels: grayscale, /255, [0, 1], 0 black."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.float32) / np.float32(255.0)


def placement(w: int, h: int, size: int, mode: str) -> tuple[int, int, int, int]:
    if mode == "stretch":
        return 0, 0, size, size
    scale = min(size / w, size / h)
    pw = min(size, max(1, int(np.floor(w * scale + 0.5))))  # Math.round
    ph = min(size, max(1, int(np.floor(h * scale + 0.5))))
    return (size - pw) // 2, (size - ph) // 2, pw, ph


def to_input(pixels: np.ndarray, size: int = INPUT_SIZE, mode: str = RESIZE) -> np.ndarray:
    """Display-space [H, W] in [0, 1] -> the model's [size, size] plane in [0, 1], before normalisation
    (letterbox padding is 0 = black). Normalisation is applied separately (see normalise)."""
    h, w = pixels.shape
    x, y, pw, ph = placement(w, h, size, mode)
    out = np.zeros((size, size), dtype=np.float32)
    out[y : y + ph, x : x + pw] = resize(pixels, pw, ph)
    return out


def normalise(x, mean: float, std: float):
    return (x - mean) / std


# ---------------------------------------------------------------- split file

def read_split(path: str) -> dict[str, str]:
    with open(path, newline="") as f:
        return {r["image_path"]: r["split"] for r in csv.DictReader(f)}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def device_uid(onnx_sha256: str) -> str:
    """2.25.<integer of a UUID> (ISO/IEC 9834-8 / DICOM PS3.5 B.2), the UUID taken from the model file's
    sha256 (first 128 bits, version-8-like variant bits set), so it changes whenever the weights change."""
    n = int(onnx_sha256[:32], 16)
    n = (n & ~(0xF << 76)) | (0x8 << 76)  # version 8 (custom/name-based)
    n = (n & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    uid = f"2.25.{n}"
    assert len(uid) <= 64
    return uid
