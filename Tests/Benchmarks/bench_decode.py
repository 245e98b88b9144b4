"""Image decode throughput: ConfoundImaging's reader against tifffile, on the same 192 BBBC013 files.

  .venv/bin/python Tests/Benchmarks/bench_decode.py [--repeats 5] [--data ../shared/data/bbbc013-sbs-plate]

The files are 640x640 8-bit palette-greyscale TIFFs, Channel1 LZW and Channel2 Deflate. Both sides read each file
from disk and decode it to a pixel array, one file at a time on one thread, after one warm-up pass (so the page
cache holds the files for both). MB/s counts decoded bytes at the files' own depth (1 byte per pixel), which is
how the issue's reference figure (tifffile 458 images/s, 187 MB/s) was stated.

Our side: a throwaway Swift package is written to /tmp and built in release mode. It compiles the repository's
Sources/ConfoundImaging (and the CTIFF/CPNG module maps) through symlinks, so nothing is added to the product;
its one executable times `readImage` (the function the host and ScreenCheck use) over the files and prints the
pixel sum per file, which is compared with tifffile's before any figure is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

REPO = Path(__file__).resolve().parents[2]

PACKAGE = """// swift-tools-version:5.9
import PackageDescription
let package = Package(
  name: "DecodeBench",
  targets: [
    .systemLibrary(name: "CTIFF", path: "CTIFF", pkgConfig: "libtiff-4"),
    .systemLibrary(name: "CPNG", path: "CPNG", pkgConfig: "libpng"),
    .target(name: "ConfoundImaging", dependencies: ["CTIFF", "CPNG"], path: "ConfoundImaging"),
    .executableTarget(name: "decode-bench", dependencies: ["ConfoundImaging"], path: "bench"),
  ])
"""

MAIN = """import ConfoundImaging
import Foundation

// decode-bench REPEATS FILE...: one untimed pass, then REPEATS timed passes; prints JSON.
let repeats = Int(CommandLine.arguments[1])!
let files = CommandLine.arguments.dropFirst(2).map { URL(fileURLWithPath: $0) }
var sums: [Double] = []
var pixels = 0
for file in files {
  let image = try readImage(file)
  sums.append(image.pixels.reduce(0.0) { $0 + Double($1) })
  pixels += image.pixels.count
}
var best = Double.infinity
for _ in 0..<repeats {
  let start = DispatchTime.now().uptimeNanoseconds
  var check = 0
  for file in files { check &+= try readImage(file).pixels.count }
  precondition(check == pixels)
  best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
let out: [String: Any] = ["seconds": best, "sums": sums, "pixels": pixels]
print(String(decoding: try JSONSerialization.data(withJSONObject: out), as: UTF8.self))
"""


def build_driver(root: Path) -> Path:
  """Writes the throwaway package under `root` and builds it in release mode; returns the executable."""
  for name in ("CTIFF", "CPNG", "ConfoundImaging"):
    link = root / name
    if not link.exists():
      link.symlink_to(REPO / "Sources" / name)
  (root / "bench").mkdir(exist_ok=True)
  (root / "Package.swift").write_text(PACKAGE)
  (root / "bench" / "main.swift").write_text(MAIN)
  subprocess.run(["swift", "build", "-c", "release", "--package-path", str(root)], check=True,
                 stdout=subprocess.DEVNULL)
  return root / ".build" / "release" / "decode-bench"


def time_tifffile(files: list[Path], repeats: int) -> tuple[float, list[float]]:
  sums = [float(tifffile.imread(f).astype(np.float64).sum()) for f in files]
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    for f in files:
      tifffile.imread(f)
    best = min(best, time.perf_counter() - start)
  return best, sums


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/bbbc013-sbs-plate")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--build-dir", type=Path, default=Path(tempfile.gettempdir()) / "confound-decode-bench")
  args = parser.parse_args()
  files = sorted(args.data.glob("*.tif"))
  if not files:
    sys.exit(f"no .tif files in {args.data}")
  args.build_dir.mkdir(parents=True, exist_ok=True)
  driver = build_driver(args.build_dir)
  ours = json.loads(subprocess.run([str(driver), str(args.repeats)] + [str(f) for f in files], check=True,
                                   capture_output=True, text=True).stdout)
  theirs_seconds, theirs_sums = time_tifffile(files, args.repeats)
  mismatched = [f.name for f, a, b in zip(files, ours["sums"], theirs_sums) if a != b]
  if mismatched:
    sys.exit(f"pixel sums differ from tifffile on {len(mismatched)} files, e.g. {mismatched[:3]}")
  megabytes = ours["pixels"] / 1e6  # 8-bit files: one byte per pixel
  n = len(files)
  print(f"{n} files, {megabytes:.1f} MB decoded per pass, best of {args.repeats} passes, one thread; "
        "pixel sums identical on every file")
  print(f"{'':24}{'images/s':>10}{'MB/s':>10}")
  print(f"{'ConfoundImaging':24}{n / ours['seconds']:10.0f}{megabytes / ours['seconds']:10.0f}")
  print(f"{'tifffile ' + tifffile.__version__:24}{n / theirs_seconds:10.0f}{megabytes / theirs_seconds:10.0f}")
  print(f"{'ratio (ours / tifffile)':24}{theirs_seconds / ours['seconds']:10.2f}")


if __name__ == "__main__":
  main()
