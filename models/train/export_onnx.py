"""Exports the best checkpoint to <out>/model.onnx and checks parity on real images.

Input 'image' [N, 1, H, W] (dynamic N), outputs 'embedding' [N, D] (L2-normalised in the graph) and
'attention' [N, 1, h, w] (sigmoid, [0, 1]). Parity: PyTorch (on this script's preprocessing) against
ONNX Runtime as the node runs it (onnxruntime-node, through models/train/parity.mjs), and, when the
node is built (dist/), the node's own preprocess.ts on the same decoded pixels against ours.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_display, normalise, read_labels, read_split, sha256_file, to_input  # noqa: E402
from model import EmbeddingNet  # noqa: E402
from head_v2 import ProbeHead  # noqa: E402
from net_v2 import EmbeddingNetV2, Stage, Trunk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def load_model(ckpt_path: str, weights_dir: str = os.path.join(HERE, "runs", "mobilenet_v2")) -> tuple[torch.nn.Module, dict]:
    ck = torch.load(ckpt_path, map_location="cpu")
    cfg = ck["config"]
    if "head21" in ck:  # precedent-cxr 2.1.0 (head_v21.py): 2.0.0's head + a probe on the rest of MobileNetV2
        from head_v21 import ProbeHeadV21

        model = EmbeddingNetV2(Trunk(weights_dir, cfg["mean"], cfg["std"]), ProbeHeadV21(**ck["head21"], weights_dir=weights_dir))
        model.eval()
        return model, ck
    if "head" in ck:  # precedent-cxr 2.0.0 (head_v2.py): frozen MobileNetV2 trunk + label-probe head
        model = EmbeddingNetV2(Trunk(weights_dir, cfg["mean"], cfg["std"]), ProbeHead(**ck["head"]))
        model.eval()
        return model, ck
    if "stage" in ck:  # precedent-cxr 2.x (train_v2.py): frozen MobileNetV2 trunk + trained stage
        stage = Stage(width=cfg["width"], dim=cfg["dim"])
        stage.load_state_dict(ck["stage"])
        model = EmbeddingNetV2(Trunk(weights_dir, cfg["mean"], cfg["std"]), stage)
        model.eval()
        return model, ck
    # checkpoints without "widths"/"stem" were written with the defaults of model.py
    model = EmbeddingNet(widths=tuple(cfg.get("widths", (24, 48, 96, 160))), stem=cfg.get("stem", 16), dim=cfg["dim"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck


def parity_images(data_dir: str, split_csv: str, n: int) -> list[str]:
    """n test-split images, both collections, spread over classes (deterministic)."""
    split = read_split(split_csv)
    items = [it for it in read_labels(data_dir) if split.get(it.image_path) == "test"]
    items.sort(key=lambda it: (it.collection, it.cls or "", it.image_path))
    step = max(1, len(items) // n)
    return [it.image_path for it in items[::step][:n]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/cxr")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--ckpt", default=os.path.join(HERE, "runs", "best.pt"))
    ap.add_argument("--weights", default=os.path.join(HERE, "runs", "mobilenet_v2"), help="extract_nsfwjs.cjs output (2.x)")
    ap.add_argument("--parity-images", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(2)

    model, ck = load_model(a.ckpt, a.weights)
    cfg = ck["config"]
    size, mean, std = cfg["input"], cfg["mean"], cfg["std"]
    path = os.path.join(a.out, "model.onnx")
    dummy = torch.zeros(2, 1, size, size)
    torch.onnx.export(model, dummy, path, input_names=["image"], output_names=["embedding", "attention"],
                      dynamic_axes={"image": {0: "N"}, "embedding": {0: "N"}, "attention": {0: "N"}},
                      opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print("graph inputs", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input])
    print("graph outputs", [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output])
    size_mb = os.path.getsize(path) / 1e6
    sha = sha256_file(path)
    print(f"model.onnx {size_mb:.2f} MB sha256 {sha}")

    # Parity batch: real test images, decoded as the node would hand them over ([0, 1] display pixels).
    names = parity_images(a.data, os.path.join(a.out, "split.csv"), a.parity_images)
    with tempfile.TemporaryDirectory() as tmp:
        meta = {"model": os.path.abspath(path), "size": size, "mean": mean, "std": std, "resize": cfg["resize"], "images": []}
        xs = []
        for i, name in enumerate(names):
            px = load_display(os.path.join(a.data, name))
            px.astype("<f4").tofile(os.path.join(tmp, f"{i}.pixels"))
            x = normalise(to_input(px, size, cfg["resize"]), mean, std).astype(np.float32)
            x.astype("<f4").tofile(os.path.join(tmp, f"{i}.tensor"))
            xs.append(x)
            meta["images"].append({"name": name, "width": int(px.shape[1]), "height": int(px.shape[0])})
        with torch.no_grad():
            emb, att = model(torch.from_numpy(np.stack(xs)).unsqueeze(1))
        emb.numpy().astype("<f4").tofile(os.path.join(tmp, "embedding.torch"))
        att.numpy().astype("<f4").tofile(os.path.join(tmp, "attention.torch"))
        meta["embeddingShape"], meta["attentionShape"] = list(emb.shape), list(att.shape)
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f)
        root = os.path.abspath(os.path.join(HERE, "..", ".."))
        proc = subprocess.run(["node", os.path.join(HERE, "parity.mjs"), tmp], cwd=root, capture_output=True, text=True)
        print(proc.stdout.strip())
        if proc.returncode != 0:
            print(proc.stderr.strip())
            raise SystemExit("parity check failed")
        parity = json.loads(proc.stdout.strip().splitlines()[-1])
    parity.update({"images": len(names), "opset": OPSET, "sha256": sha, "sizeMB": round(size_mb, 2), "checkpointEpoch": ck["epoch"]})
    with open(os.path.join(a.out, "export.json"), "w") as f:
        json.dump(parity, f, indent=1)
    print(json.dumps(parity))


if __name__ == "__main__":
    main()
