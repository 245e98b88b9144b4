"""The supervised CNN's cost on the demo, and GradCAM against a forward pass, side by side on the same crops.

  .venv/bin/python Tests/Benchmarks/bench_supervised.py [--run-dir out/demo] [--epochs 4] [--max-train-crops 256]

Reads a finished audit of the demo (`bash .ci/demo` writes out/demo): the crops the embed stage embedded (4 per
site), each well's disease and cell line (`confound export --level well`), and the target probe's folds
(findings.json, the hand-features rung). Then, in this process through the plugins' C vtables (no host):

1. The explainer's method `supervised` with the audit's settings (or those given): seconds of the frozen forward
   pass, of the fine-tuning (per fold), of the permuted-label retrain and of the saliency, and the mean per-fold
   ROC AUC against the permuted-label one.
2. GradCAM of Lite0's `embedding` column 0 at the supervised stage's layer, per crop channel image (64 px), against
   one forward pass of the same images to `embedding`, by our embedder (raw input) and by onnxruntime: the issue's
   bound is GradCAM <= 3x a forward pass.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from plugin_call_cost import InProcessPlugin  # noqa: E402

LIB = REPO / ".build" / "release"


def array_name(prefix: str, key: str) -> str:
  plate, well, site = key.split("/")
  return f"{prefix}_{plate}_{well}_s{site}"


def demo_inputs(run: Path, limit: int):
  """Crops, labels, units, wells and folds as the supervised stage builds them."""
  db = sqlite3.connect(run / "run.sqlite")
  arrays = {name: path for name, path in db.execute("SELECT name, path FROM arrays")}
  keys = sorted(k for (k,) in db.execute("SELECT key FROM units WHERE stage = 'embed' AND status = 'done'"))
  with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([str(LIB / "confound"), "export", str(run), "--out", tmp, "--level", "well"], check=True,
                   capture_output=True)
    wells = {f"{r['Metadata_Plate']}/{r['Metadata_Well']}": r for r in csv.DictReader(open(Path(tmp) / "profiles_well.csv"))}
  samples = [k for k in keys if "/".join(k.split("/")[:2]) in wells
             and wells["/".join(k.split("/")[:2])]["Metadata_control"] not in ("1", "true", "yes")]
  if len(samples) * 4 > limit:
    samples = [samples[i * len(samples) // (limit // 4)] for i in range(limit // 4)]
  crops, labels, units, well_keys = [], [], [], []
  for key in samples:
    rows = np.load(run / arrays[array_name("embeddings_crops", key)]).astype(int)
    site = np.load(run / arrays[array_name("crops", key)])
    well = wells["/".join(key.split("/")[:2])]
    for r in rows:
      crops.append(site[r])
      labels.append(well["Metadata_disease"])
      units.append(well["Metadata_cell_line"])
      well_keys.append("/".join(key.split("/")[:2]))
  findings = json.load(open(run / "findings.json"))
  hand = next(f for f in findings if f["kind"] == "target-probe" and f["measure"]["name"] == "hand features")
  folds = [f["testUnits"] for f in hand["evidence"]["folds"]]
  return np.ascontiguousarray(np.stack(crops).astype(np.float32)), labels, units, well_keys, folds


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--run-dir", type=Path, default=REPO / "out" / "demo")
  parser.add_argument("--epochs", type=int, default=4)
  parser.add_argument("--max-train-crops", type=int, default=256)
  parser.add_argument("--top-layers", type=int, default=1)
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--learning-rate", type=float, default=1e-3)
  parser.add_argument("--layer-learning-rate", type=float, default=1e-4)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  crops, labels, units, wells, folds = demo_inputs(args.run_dir, 2048)
  model = Path(os.environ.get("CONFOUND_MODEL_DIR", Path.home() / ".cache/confound/models")) / "efficientnet_lite0.onnx"
  explainer = InProcessPlugin(LIB / "libconfound-plugin-explainer.so")
  embedder = InProcessPlugin(LIB / "libconfound-plugin-embedder.so")
  params = {"parameters": {"method": "supervised", "model": str(model), "output": "embedding",
                           "top_layers": args.top_layers, "input_size": 64, "epochs": args.epochs,
                           "max_train_crops": args.max_train_crops, "saliency_crops": 64, "overlays": 3,
                           "sanity_threshold": 0.5, "seed": 1, "threads": args.threads,
                           "learning_rate": args.learning_rate, "layer_learning_rate": args.layer_learning_rate},
            "context": {"labels": labels, "groups": units, "wells": wells, "folds": folds,
                        "positive": "disease"}}
  t0 = time.perf_counter()
  result = json.loads(explainer.invoke(b"explainer.explain", json.dumps(params).encode(), b"crops", crops))
  wall = time.perf_counter() - t0
  aucs = [f["roc_auc"] for f in result["folds"] if f["roc_auc"] is not None]
  null = [a for a in result["permuted_labels"]["roc_auc"] if a is not None]
  s = result["seconds"]
  print(f"supervised CNN on {len(crops)} crops of {args.run_dir} ({len(folds)} folds, {args.epochs} epochs, "
        f"<= {args.max_train_crops} training crops per fold, top {args.top_layers} layer(s), {args.threads} threads)")
  print(f"  frozen forward {s['frozen_forward']:.1f} s, fine-tuning {s['fine_tuning']:.1f} s "
        f"({s['fine_tuning'] / len(folds):.2f} s per fold), permuted-label retrain {s['permuted_labels']:.1f} s, "
        f"saliency and sanity checks {s['saliency']:.1f} s; {wall:.1f} s in all")
  print(f"  mean per-fold ROC AUC {statistics.mean(aucs):.3f}, permuted labels {statistics.mean(null):.3f}; "
        f"sanity passed: {result['sanity']['passed']}")

  # GradCAM against a forward pass: the same 64 px channel images (the first 32 crops' channels, as the stage
  # feeds them: each channel replicated to RGB, percentile-stretched, resized, normalised).
  images = np.ascontiguousarray(embed_images(crops[:32]))
  layer = result["layer"]
  # Our forward: the embedder on the same crops (its own preprocessing of 96 small planes is a few ms of it).
  forward = json.dumps({"parameters": {"model": str(model), "output": "embedding", "input_size": 64,
                                       "channel_mode": "each", "intensity": "percentile", "threads": 1},
                        "context": None}).encode()
  cam = json.dumps({"parameters": {"method": "gradcam", "model": str(model), "output": "embedding", "index": 0,
                                   "layer": layer}, "context": None}).encode()
  options = ort.SessionOptions()
  options.intra_op_num_threads = 1
  session = ort.InferenceSession(any_size(model), options, providers=["CPUExecutionProvider"])
  name = session.get_inputs()[0].name
  small = np.ascontiguousarray(crops[:32])
  embedder.invoke(b"embedder.embed", forward, b"crops", small)
  explainer.invoke(b"explainer.explain", cam, b"images", images)
  ours, grad, ort_times = [], [], []
  for _ in range(args.rounds):
    t0 = time.perf_counter()
    embedder.invoke(b"embedder.embed", forward, b"crops", small)
    t1 = time.perf_counter()
    explainer.invoke(b"explainer.explain", cam, b"images", images)
    t2 = time.perf_counter()
    session.run(["embedding"], {name: images})
    t3 = time.perf_counter()
    ours.append(t1 - t0)
    grad.append(t2 - t1)
    ort_times.append(t3 - t2)
  f, g, o = (statistics.median(x) / len(images) * 1e3 for x in (ours, grad, ort_times))
  print(f"\n{len(images)} images of 64 px, 1 thread, ms per image: forward ours {f:.2f}, onnxruntime {o:.2f} "
        f"(ours/ort time {f / o:.2f}); GradCAM at {layer} {g:.2f} = {g / f:.2f}x our forward, {g / o:.2f}x onnxruntime's")


def any_size(model: Path) -> bytes:
  """The model with its input's height and width left free, so that onnxruntime runs it at 64 px as we do."""
  import onnx
  proto = onnx.load(str(model))
  dims = proto.graph.input[0].type.tensor_type.shape.dim
  dims[2].dim_param, dims[3].dim_param = "H", "W"
  return proto.SerializeToString()


def embed_images(crops: np.ndarray) -> np.ndarray:
  """Each crop channel as the embedder feeds it at 64 px: percentile 1-99 to 0..255, bilinear, (x - 127) / 128."""
  from skimage.transform import resize
  out = []
  for crop in crops:
    for plane in crop:
      lo, hi = np.percentile(plane, [1, 99])
      x = np.clip((plane - lo) * 255 / (hi - lo), 0, 255) if hi > lo else np.zeros_like(plane)
      x = resize(x, (64, 64), order=1, mode="edge", anti_aliasing=False, preserve_range=True)
      out.append(np.repeat(((x - 127) / 128)[None], 3, axis=0))
  return np.stack(out).astype(np.float32)


if __name__ == "__main__":
  main()
