"""The two training collections of precedent-cxr 2.x and their patient-disjoint split.

Images come from ../shared/data/cxr (pediatric Kermany + adult COVID-era collections) and
../shared/data/cxr-nih (NIH ChestX-ray14 adults and some adolescents). Relevance everywhere is the
`label` column (COVID-19 / other pneumonia / normal), the protocol the node's `precedent eval` and the
issue's held-out check use; the finer `label_group` (viral, bacterial, ...) is shown to users but is not
a training class. Collections: `pediatric` (Kermany), `covid-era` (the adult COVID-19 collections), `nih`.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

LABELS = ["COVID-19", "other pneumonia", "normal"]


@dataclass
class Item:
    data_dir: str
    image_path: str
    patient_group: str
    dataset: str
    collection: str
    label: str
    label_group: str
    age: float | None
    findings: str

    @property
    def path(self) -> str:
        return os.path.join(self.data_dir, self.image_path)

    @property
    def key(self) -> str:
        """Unique across collections: the split files are per data folder, keyed by image_path."""
        return f"{os.path.basename(os.path.normpath(self.data_dir))}/{self.image_path}"

    @property
    def y(self) -> int:
        return LABELS.index(self.label) if self.label in LABELS else -1


def collection_of(dataset: str) -> str:
    if dataset.startswith("kermany"):
        return "pediatric"
    if dataset.startswith("nih"):
        return "nih"
    return "covid-era"


def read_items(data_dir: str) -> list[Item]:
    with open(os.path.join(data_dir, "labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        try:
            age = float(r.get("age") or "")
        except ValueError:
            age = None
        out.append(Item(data_dir, r["image_path"], r["patient_group"], r["dataset"], collection_of(r["dataset"]),
                        r["label"].strip(), (r.get("label_group") or "").strip(), age, r.get("findings") or ""))
    return out


def read_split(path: str) -> dict[str, str]:
    with open(path, newline="") as f:
        return {r["image_path"]: r["split"] for r in csv.DictReader(f)}


def add_common_args(ap, here: str) -> None:
    """The folders every 2.x script reads: the two collections, the model folder, the run folder."""
    ap.add_argument("--data", default="../shared/data/cxr")
    ap.add_argument("--data-nih", default="../shared/data/cxr-nih")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--work", default=os.path.join(here, "runs", "v2"))


def items_and_split(a):
    """Both collections' items (first collection, then NIH) and each item's split, from the model
    folder's split.csv and split-nih.csv."""
    import numpy as np

    cxr, nih = read_items(a.data), read_items(a.data_nih)
    s1, s2 = read_split(os.path.join(a.out, "split.csv")), read_split(os.path.join(a.out, "split-nih.csv"))
    return cxr + nih, np.array([s1[i.image_path] for i in cxr] + [s2[i.image_path] for i in nih])


def experiment_setup(here: str, extra=None):
    """What every 2.x experiment starts from: the common arguments (plus `extra(ap)`), two torch threads,
    both collections' items and splits, and per item its label index, patient group, collection,
    adulthood; `used` (labelled) and `tr` (labelled train-split indices)."""
    import argparse

    import numpy as np
    import torch

    ap = argparse.ArgumentParser()
    add_common_args(ap, here)
    if extra:
        extra(ap)
    a = ap.parse_args()
    torch.set_num_threads(2)
    items, split = items_and_split(a)
    ys = np.array([i.y for i in items])
    groups = np.array([i.patient_group for i in items])
    cols = np.array([i.collection for i in items])
    adult = np.array([i.age is None or i.age >= 18 for i in items])
    used = ys >= 0
    tr = np.where((split == "train") & used)[0]
    return a, items, split, ys, groups, cols, adult, used, tr


def block_views(a, views: int = 4):
    """The cached multi-block pooled features of the first `views` trunk views (cache_blocks_v21.py)."""
    import numpy as np

    return np.stack([np.load(os.path.join(os.path.dirname(a.work), "v21", f"blocks_view{v}.npy")) for v in range(views)])
