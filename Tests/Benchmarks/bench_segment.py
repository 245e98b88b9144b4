"""Nucleus segmentation throughput and accuracy: Segmentation's NucleusSegmenter against the scikit-image
classical pipeline, on the same planes.

  .venv/bin/python Tests/Benchmarks/bench_segment.py [--repeats 3] [--sets bbbc013,dsb]

Sets: the DNA channel (Channel2, Hoechst) of the 96 BBBC013 sites (640x640, 8-bit) and the 53 grey (R == G == B)
fluorescence images of DSB2018 stage-1 test (256x256 to 1040x1388, with ground truth).

The scikit-image pipeline is the one the issue names and AccuracyTests runs: gaussian(sigma=1.5,
preserve_range=True), threshold_otsu, remove_small_objects(max_size=39), distance_transform_edt, peak_local_max
(min_distance=6, exclude_border=False, labels=label(mask)), watershed(-dist, markers, mask=mask). Ours is
`NucleusSegmenter()` with its defaults (what the segmenter plugin runs), from the plane to the final label image.
Both sides get the same float32 planes in memory (decoding is not timed; see bench_decode.py), run on one thread
(BLAS/OpenMP pinned to 1), one warm-up pass, then the best of --repeats timed passes per set, timed in process CPU
seconds (not wall time, which other jobs on a shared machine inflate). Sites per second per core = images / CPU
seconds. F1 at IoU 0.5 (the DSB matching rule) and the mean relative count error of both label
images are computed here, in Python, with the same matcher.

Our side: a throwaway Swift package is written to /tmp and built in release mode; it compiles the repository's
Sources/Segmentation through a symlink, so nothing is added to the product.

The machine may be shared with other jobs: compare the ratio, which both sides feel alike, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
  os.environ[variable] = "1"

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from scipy import ndimage as ndi  # noqa: E402
from skimage import feature, filters, io, measure, morphology, segmentation  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

PACKAGE = """// swift-tools-version:5.9
import PackageDescription
let package = Package(
  name: "SegmentBench",
  targets: [
    .target(name: "Segmentation", path: "Segmentation"),
    .executableTarget(name: "segment-bench", dependencies: ["Segmentation"], path: "bench"),
  ])
"""

MAIN = """import Foundation
import Segmentation

// segment-bench REPEATS OUTDIR NAME:WIDTH:HEIGHT...: reads OUTDIR/NAME.f32, one untimed pass, then REPEATS timed
// passes over all planes; writes OUTDIR/NAME.ours.i32 and prints JSON (best total CPU seconds, counts).
let repeats = Int(CommandLine.arguments[1])!
let folder = URL(fileURLWithPath: CommandLine.arguments[2])
var planes: [(name: String, width: Int, height: Int, pixels: [Float])] = []
for spec in CommandLine.arguments.dropFirst(3) {
  let parts = spec.split(separator: ":").map(String.init)
  let data = try Data(contentsOf: folder.appendingPathComponent(parts[0] + ".f32"))
  let pixels = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
  planes.append((parts[0], Int(parts[1])!, Int(parts[2])!, pixels))
}
let segmenter = NucleusSegmenter()
var counts: [Int] = []
for plane in planes {
  let result = try segmenter.segment(plane.pixels, width: plane.width, height: plane.height)
  counts.append(result.count)
  let data = result.labels.withUnsafeBufferPointer { Data(buffer: $0) }
  try data.write(to: folder.appendingPathComponent(plane.name + ".ours.i32"))
}
func cpuSeconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
var best = Double.infinity
for _ in 0..<repeats {
  let start = cpuSeconds()
  var total = 0
  for plane in planes { total &+= try segmenter.segment(plane.pixels, width: plane.width, height: plane.height).count }
  precondition(total == counts.reduce(0, +))
  best = min(best, cpuSeconds() - start)
}
let out: [String: Any] = ["seconds": best, "counts": counts]
print(String(decoding: try JSONSerialization.data(withJSONObject: out), as: UTF8.self))
"""


def build_driver(root: Path) -> Path:
  """Writes the throwaway package under `root` and builds it in release mode; returns the executable."""
  link = root / "Segmentation"
  if not link.exists():
    link.symlink_to(REPO / "Sources" / "Segmentation")
  (root / "bench").mkdir(exist_ok=True)
  (root / "Package.swift").write_text(PACKAGE)
  (root / "bench" / "main.swift").write_text(MAIN)
  subprocess.run(["swift", "build", "-c", "release", "--package-path", str(root)], check=True,
                 stdout=subprocess.DEVNULL)
  return root / ".build" / "release" / "segment-bench"


def bbbc013(data: Path):
  for path in sorted((data / "bbbc013-sbs-plate").glob("Channel2-*.tif")):
    yield path.stem, tifffile.imread(path), None


def dsb(data: Path):
  root = data / "dsb2018-stage1-test" / "stage1_test"
  for d in sorted(os.listdir(root)):
    rgb = io.imread(root / d / "images" / f"{d}.png")[..., :3]
    if (rgb[..., 0] != rgb[..., 1]).any() or (rgb[..., 1] != rgb[..., 2]).any():
      continue
    truth = np.zeros(rgb.shape[:2], np.int32)
    for i, m in enumerate(sorted(os.listdir(root / d / "masks"))):
      truth[io.imread(root / d / "masks" / m) > 0] = i + 1
    yield d[:12], rgb[..., 0], truth


def skimage_pipeline(im: np.ndarray) -> np.ndarray:
  sm = filters.gaussian(im, sigma=1.5, preserve_range=True)
  mask = morphology.remove_small_objects(sm > filters.threshold_otsu(sm), max_size=39)
  dist = ndi.distance_transform_edt(mask)
  coords = feature.peak_local_max(dist, min_distance=6, exclude_border=False, labels=measure.label(mask))
  markers = np.zeros(dist.shape, np.int32)
  markers[tuple(coords.T)] = np.arange(1, len(coords) + 1)
  return segmentation.watershed(-dist, markers, mask=mask)


def match(truth: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int]:
  """TP, FP, FN at IoU > 0.5 (a match above 0.5 is unique, so no assignment is needed)."""
  tp = 0
  sizes = np.bincount(predicted.ravel())
  for t in np.unique(truth[truth > 0]):
    m = truth == t
    ps, counts = np.unique(predicted[m], return_counts=True)
    for p, c in zip(ps, counts):
      if p and c / (m.sum() + sizes[p] - c) > 0.5:
        tp += 1
  return tp, len(np.unique(predicted[predicted > 0])) - tp, len(np.unique(truth[truth > 0])) - tp


def time_skimage(planes: list[np.ndarray], repeats: int) -> tuple[float, list[np.ndarray]]:
  labels = [skimage_pipeline(p) for p in planes]
  best = float("inf")
  for _ in range(repeats):
    start = time.process_time()
    for p in planes:
      skimage_pipeline(p)
    best = min(best, time.process_time() - start)
  return best, labels


def accuracy(truths, labels) -> tuple[float, float]:
  """Micro F1 over the set and mean relative count error."""
  tp = fp = fn = 0
  errors = []
  for truth, predicted in zip(truths, labels):
    a, b, c = match(truth, predicted)
    tp, fp, fn = tp + a, fp + b, fn + c
    true_count = max(a + c, 1)
    errors.append(abs(len(np.unique(predicted[predicted > 0])) - true_count) / true_count)
  return 2 * tp / max(2 * tp + fp + fn, 1), float(np.mean(errors))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--sets", default="bbbc013,dsb")
  parser.add_argument("--build-dir", type=Path, default=Path(tempfile.gettempdir()) / "confound-segment-bench")
  args = parser.parse_args()
  args.build_dir.mkdir(parents=True, exist_ok=True)
  driver = build_driver(args.build_dir)
  readers = {"bbbc013": bbbc013, "dsb": dsb}
  print(f"one thread per side, best of {args.repeats} timed passes after a warm-up; machine possibly shared")
  print(f"{'set':10}{'images':>7}{'ours sites/s':>14}{'skimage sites/s':>17}{'ratio':>8}"
        f"{'F1 ours':>9}{'F1 skimage':>12}{'count err ours':>16}{'skimage':>9}")
  with tempfile.TemporaryDirectory(prefix="segment-bench") as scratch:
    folder = Path(scratch)
    for name in args.sets.split(","):
      items = list(readers[name](args.data))
      if not items:
        sys.exit(f"no images for set {name} under {args.data}")
      planes = [np.ascontiguousarray(im, np.float32) for _, im, _ in items]
      specs = []
      for (key, _, _), plane in zip(items, planes):
        plane.tofile(folder / f"{key}.f32")
        specs.append(f"{key}:{plane.shape[1]}:{plane.shape[0]}")
      ours = json.loads(subprocess.run([str(driver), str(args.repeats), str(folder)] + specs, check=True,
                                       capture_output=True, text=True).stdout)
      theirs_seconds, theirs_labels = time_skimage(planes, args.repeats)
      n = len(planes)
      row = f"{name:10}{n:7d}{n / ours['seconds']:14.1f}{n / theirs_seconds:17.1f}" \
            f"{theirs_seconds / ours['seconds']:8.2f}"
      truths = [t for _, _, t in items]
      if truths[0] is not None:
        our_labels = [np.fromfile(folder / f"{key}.ours.i32", np.int32).reshape(p.shape)
                      for (key, _, _), p in zip(items, planes)]
        f1_ours, err_ours = accuracy(truths, our_labels)
        f1_theirs, err_theirs = accuracy(truths, theirs_labels)
        row += f"{f1_ours:9.3f}{f1_theirs:12.3f}{err_ours:16.3f}{err_theirs:9.3f}"
      else:
        row += f"{'-':>9}{'-':>12}   counts: ours {sum(ours['counts'])}, skimage " \
               f"{sum(int(l.max()) for l in theirs_labels)}"
      print(row, flush=True)


if __name__ == "__main__":
  main()
