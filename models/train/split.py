"""Patient-group split (train/val/test ~ 70/15/15), stratified by collection and class.

Every image of a patient_group lands in the same split (duplicates across patient ids are one group).
Groups are stratified by (source dataset, the group's rarest class), so that each split gets its share
of e.g. adult normals and of the small Figure1/Actualmed collections. Within a stratum, groups are
shuffled with the seed, taken largest first, and each goes to the split that is furthest below its
target share of images. Writes image_path,patient_group,split,dataset,class (class empty = excluded).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
from collections import Counter, defaultdict

from common import SEED, read_labels

SHARES = {"train": 0.70, "val": 0.15, "test": 0.15}


def make_split(items, seed: int = SEED) -> dict[str, str]:
    groups: dict[str, list] = defaultdict(list)
    for it in items:
        groups[it.patient_group].append(it)
    # A group is stratified by its rarest class (within its collection): an adult patient with COVID-19
    # films and one normal follow-up counts as an adult normal, so the 21 adult normals spread too.
    freq = Counter((it.collection, it.cls or "excluded") for it in items)
    strata: dict[tuple, list[str]] = defaultdict(list)
    for g, its in groups.items():
        rarest = min({it.cls or "excluded" for it in its}, key=lambda c: (freq[(its[0].collection, c)], c))
        strata[(its[0].dataset, rarest)].append(g)
    return {it.image_path: s for it, s in zip(items, assign_groups(groups, strata, seed, [it.patient_group for it in items]))}


def assign_groups(groups: dict, strata: dict, seed: int, order: list[str]) -> list[str]:
    """Within each stratum, groups shuffled with the seed, taken largest first, each to the split
    furthest below its share of images; returns the split of each group named in `order`."""
    rng = random.Random(seed)
    assign: dict[str, str] = {}
    for key in sorted(strata):
        gs = sorted(strata[key])
        rng.shuffle(gs)
        gs.sort(key=lambda g: -len(groups[g]))  # stable: shuffled order among equal sizes
        have = {s: 0 for s in SHARES}
        for g in gs:
            total = sum(have.values()) + len(groups[g])
            # the split with the largest deficit after adding this group (ties: train, val, test)
            best = max(SHARES, key=lambda s: SHARES[s] * total - have[s])
            assign[g] = best
            have[best] += len(groups[g])
    return [assign[g] for g in order]


def write_split(items, split: dict[str, str], path: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image_path", "patient_group", "split", "dataset", "class"])
        for it in items:
            w.writerow([it.image_path, it.patient_group, split[it.image_path], it.dataset, it.cls or ""])


def summary(items, split: dict[str, str]) -> str:
    c = Counter((split[it.image_path], it.collection, it.cls or "excluded") for it in items)
    lines = []
    for s in SHARES:
        parts = [f"{col}/{cls}={c[(s, col, cls)]}" for col in ("pediatric", "adult") for cls in
                 ("COVID-19", "viral", "bacterial", "normal", "excluded") if c[(s, col, cls)]]
        n = sum(v for k, v in c.items() if k[0] == s)
        ng = len({it.patient_group for it in items if split[it.image_path] == s})
        lines.append(f"{s}: {n} images, {ng} groups: " + ", ".join(parts))
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/cxr")
    ap.add_argument("--out", default="models/default/split.csv")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    items = read_labels(a.data)
    sp = make_split(items, a.seed)
    write_split(items, sp, a.out)
    print(summary(items, sp))
