"""Focus measures per site and core: FocusMeasures (Swift) against NumPy/scikit-image on the same BBBC013 images.

  .venv/bin/python Tests/Benchmarks/bench_focus.py [--limit 24] [--repeats 3] [--data ../shared/data/bbbc013-sbs-plate]

Both sides time the same definitions on the same float32 planes (the DNA channel, divided by 255 as the host
does for 8-bit files), one thread each (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1), best of --repeats passes after
one warm-up pass. Per measure: FocusScore (variance / mean), Brenner, Tenengrad, Laplacian variance, the power
spectrum's log-log slopes, the whole classical pass (`FocusMeasurements`: every ImageQuality_* value), and the
learned defocus score (`DefocusModel.shipped.predict`: patch features, logistic layer, pooling). Values are compared
(relative 1e-6; the learned score 1e-6 absolute) before any figure is printed, so both sides compute the same thing.
The NumPy side uses scipy.ndimage's Sobel and Laplace filters and NumPy's FFT and percentiles.

Memory bandwidth: a NumPy copy of a 256 MB float32 array (read + write counted) and the classical pass's own
traffic, counted as one read of the float32 plane per pass over it; the ratio says how far the pass is from being
bandwidth-bound. The machine is shared with other jobs: figures vary run to run; the ratios are what to compare.

Our side: a throwaway Swift package under /tmp compiles the repository's Sources/FocusMeasures and Statistics
(through symlinks, release mode) with a small driver; nothing is added to the product.
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

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from scipy import ndimage  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

PACKAGE = """// swift-tools-version:5.9
import PackageDescription
let package = Package(
  name: "FocusBench",
  targets: [
    .systemLibrary(name: "COpenBLAS", path: "COpenBLAS", pkgConfig: "openblas"),
    .target(name: "Statistics", dependencies: ["COpenBLAS"], path: "Statistics"),
    .target(name: "FocusMeasures", dependencies: ["Statistics"], path: "FocusMeasures"),
    .executableTarget(name: "focus-bench", dependencies: ["FocusMeasures"], path: "bench"),
  ])
"""

MAIN = """import FocusMeasures
import Foundation

// focus-bench REPEATS WEIGHTS.json W H FILE.f32...: values, then best-of-REPEATS seconds per measure, as JSON.
let arguments = CommandLine.arguments
let repeats = Int(arguments[1])!
let (width, height) = (Int(arguments[3])!, Int(arguments[4])!)
try DefocusModelFile(DefocusModel.shipped, provenance: []).data().write(to: URL(fileURLWithPath: arguments[2]))
let planes = try arguments.dropFirst(5).map { path -> FocusPlane in
  let data = try Data(contentsOf: URL(fileURLWithPath: path))
  var pixels = [Float](repeating: 0, count: width * height)
  _ = pixels.withUnsafeMutableBytes { data.copyBytes(to: $0) }
  return try FocusPlane(pixels: pixels, width: width, height: height)
}
let measures: [(String, (FocusPlane) throws -> Double)] = [
  ("FocusScore", { ImageQuality.focusScore($0) }),
  ("Brenner", { GradientSharpness.brenner($0).raw }),
  ("Tenengrad", { GradientSharpness.tenengrad($0).raw }),
  ("LaplacianVariance", { GradientSharpness.laplacianVariance($0).raw }),
  ("PowerLogLogSlope", { try PowerLogLogSlope.slopes($0).cellProfiler }),
  ("ClassicalPass", { try FocusMeasurements($0).focusScore }),
  ("DefocusScore", { try DefocusModel.shipped.predict($0).score }),
]
var values: [String: [Double]] = [:]
var seconds: [String: Double] = [:]
for (name, measure) in measures {
  values[name] = try planes.map(measure)
  var best = Double.infinity
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    var sink = 0.0
    for plane in planes { sink += try measure(plane) }
    precondition(sink.isFinite || sink.isNaN)
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  seconds[name] = best
}
let out: [String: Any] = ["seconds": seconds, "values": values]
print(String(decoding: try JSONSerialization.data(withJSONObject: out), as: UTF8.self))
"""


def build_driver(root: Path) -> Path:
  """Writes the throwaway package under `root` and builds it in release mode; returns the executable."""
  for name in ("COpenBLAS", "Statistics", "FocusMeasures"):
    link = root / name
    if not link.exists():
      link.symlink_to(REPO / "Sources" / name)
  (root / "bench").mkdir(exist_ok=True)
  (root / "Package.swift").write_text(PACKAGE)
  (root / "bench" / "main.swift").write_text(MAIN)
  subprocess.run(["swift", "build", "-c", "release", "--package-path", str(root)], check=True,
                 stdout=subprocess.DEVNULL)
  return root / ".build" / "release" / "focus-bench"


# The same definitions in NumPy / scikit-image (CellProfiler's where they are CellProfiler's).
def focus_score(x):
  m = x.mean()
  return float(x.var() / m) if m > 0 else 0.0


def brenner(x):
  return float(0.5 * (((x[:, 2:] - x[:, :-2]) ** 2).mean() + ((x[2:, :] - x[:-2, :]) ** 2).mean()))


def tenengrad(x):
  # scikit-image's Sobel kernels, unnormalised (x4) as in the classical definition, on the interior pixels.
  gx = ndimage.sobel(x, axis=1, mode="nearest")[1:-1, 1:-1]
  gy = ndimage.sobel(x, axis=0, mode="nearest")[1:-1, 1:-1]
  return float((gx * gx + gy * gy).mean())


def laplacian_variance(x):
  return float(ndimage.laplace(x, mode="nearest")[1:-1, 1:-1].var())


def power_loglog_slope(x):
  # CellProfiler's PowerLogLogSlope: radial sums of |FFT|^2 of the MAD-normalised image, fit on radii 2..min/8.
  y = x / np.median(np.abs(x - x.mean())) if np.ptp(x) > 0 else x
  pw = np.abs(np.fft.fft2(y - y.mean())) ** 2
  h, w = x.shape
  ri = np.minimum(np.arange(h), np.arange(h)[::-1])
  rj = np.minimum(np.arange(w), np.arange(w)[::-1])
  radii = np.floor(np.sqrt(ri[:, None] ** 2 + rj[None, :] ** 2)).astype(int) + 1
  labels = np.arange(2, np.floor(min(h, w) / 8.0)).astype(int)
  sums = np.bincount(radii.ravel(), pw.ravel())[labels]
  ok = sums > 0
  return float(np.polyfit(np.log(labels[ok]), np.log(sums[ok]), 1)[0])


def reference_definitions():
  """The NumPy definitions the FocusMeasures tests check against (Tests/FocusMeasuresTests/NumPyReference.swift),
  loaded from that file so the benchmark times exactly what the tests compare with."""
  text = (REPO / "Tests/FocusMeasuresTests/NumPyReference.swift").read_text()
  script = text[text.index('#"""') + 4:text.index('"""#')]
  definitions = script[:script.index("out_dir, scale, paths")]
  scope: dict = {}
  exec(compile(definitions, "NumPyReference.swift", "exec"), scope)
  return scope


def classical_pass(ref):
  """Every ImageQuality_* value of FocusMeasurements (scale 20), the reference's way; returns FocusScore."""
  def run(x):
    pw = ref["power"](x)
    ref["local_focus_score"](x, 20), ref["correlation"](x, 20), ref["cp_slope"](x, pw)
    ref["band_slope"](x, pw, 0.1), ref["band_slope"](x, pw, 0.5), ref["gradients"](x)
    float(100.0 * (x == x.max()).sum() / x.size), float(100.0 * (x == x.min()).sum() / x.size)
    return ref["focus_score"](x)
  return run


class Defocus:
  """DefocusModel.predict in NumPy: half-overlapping 64-px patches (brightest quarter), lag energies and edge
  steepnesses, the logistic layer, product-of-experts pooling."""

  def __init__(self, path):
    w = json.loads(Path(path).read_text())
    self.lags, self.n = w["lags"], w["patch_size"]
    self.mu, self.sd = np.array(w["means"]), np.array(w["scales"])
    self.coef, self.b = np.array(w["coefficients"]), np.array(w["intercepts"])
    self.k = len(self.b)

  def features(self, p):
    n = self.n
    mean = p.mean()
    if mean <= 0:
      return None
    m2 = mean * mean
    lo, hi = np.percentile(p, [0.5, 99.5])
    energies, edges = [], []
    for k in self.lags:
      d = np.concatenate([(p[:, k:] - p[:, :-k]).ravel(), (p[k:, :] - p[:-k, :]).ravel()])
      energies.append(np.log((d * d).mean() / m2 + 1e-8))
      edges.append(np.log(np.percentile(np.abs(d), 99.5) / max(hi - lo, 1e-12) + 1e-6))
    variance = max(0.0, (p * p).mean() - m2)
    return energies + [np.log(variance / m2 + 1e-8)] + edges

  def __call__(self, x):
    n, stride = self.n, self.n // 2
    h, w = x.shape
    cols, rows = (w - n) // stride + 1, (h - n) // stride + 1
    dx, dy = (w - ((cols - 1) * stride + n)) // 2, (h - ((rows - 1) * stride + n)) // 2
    corners = [(dx + c * stride, dy + r * stride) for r in range(rows) for c in range(cols)]
    sums = [x[cy:cy + n, cx:cx + n].sum() for cx, cy in corners]
    order = sorted(range(len(corners)), key=lambda i: (-sums[i], i))[:max(1, len(corners) // 4)]
    feats = [f for f in (self.features(x[corners[i][1]:corners[i][1] + n, corners[i][0]:corners[i][0] + n])
                         for i in order) if f is not None]
    z = (np.array(feats) - self.mu) / self.sd
    s = np.hstack([z, z * z]) @ self.coef.T + self.b
    e = np.exp(s - s.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    logs = np.log(np.maximum(prob, 1e-12)).mean(0)
    pooled = np.exp(logs - logs.max())
    pooled /= pooled.sum()
    return float(1 - (pooled * np.arange(self.k)).sum() / (self.k - 1))


def best_time(fn, planes, repeats):
  for x in planes:
    fn(x)
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    for x in planes:
      fn(x)
    best = min(best, time.perf_counter() - start)
  return best


def copy_bandwidth(megabytes=256, repeats=5):
  """GB/s of a NumPy array copy, counting the bytes read and the bytes written."""
  a = np.ones(megabytes * 1024 * 1024 // 4, np.float32)
  b = np.empty_like(a)
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    np.copyto(b, a)
    best = min(best, time.perf_counter() - start)
  return 2 * a.nbytes / best / 1e9


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/bbbc013-sbs-plate")
  parser.add_argument("--limit", type=int, default=24, help="DNA images used (of 96)")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--build-dir", type=Path, default=Path(tempfile.gettempdir()) / "confound-focus-bench")
  args = parser.parse_args()
  files = sorted(args.data.glob("Channel2-*.tif"))[: args.limit]
  if not files:
    sys.exit(f"no Channel2-*.tif files in {args.data}")
  args.build_dir.mkdir(parents=True, exist_ok=True)
  planes = [tifffile.imread(f).astype(np.float32) / np.float32(255) for f in files]
  h, w = planes[0].shape
  raws = []
  for i, x in enumerate(planes):
    raw = args.build_dir / f"plane{i}.f32"
    x.astype("<f4").tofile(raw)
    raws.append(str(raw))
  driver = build_driver(args.build_dir)
  weights = args.build_dir / "shipped.json"
  ours = json.loads(subprocess.run([str(driver), str(args.repeats), str(weights), str(w), str(h)] + raws,
                                   check=True, capture_output=True, text=True).stdout)
  x64 = [x.astype(np.float64) for x in planes]
  defocus = Defocus(weights)
  reference = {
    "FocusScore": focus_score, "Brenner": brenner, "Tenengrad": tenengrad, "LaplacianVariance": laplacian_variance,
    "PowerLogLogSlope": power_loglog_slope, "ClassicalPass": classical_pass(reference_definitions()),
    "DefocusScore": defocus,
  }
  for name, fn in reference.items():
    tolerance = 1e-6
    for i, x in enumerate(x64):
      a, b = ours["values"][name][i], fn(x)
      if abs(a - b) > tolerance * max(1.0, abs(b)):
        sys.exit(f"{name} differs on {files[i].name}: Swift {a}, NumPy {b}")
  n = len(planes)
  megapixels = w * h / 1e6
  print(f"{n} BBBC013 DNA sites ({w}x{h}, {megapixels:.2f} MP), one thread each side, best of {args.repeats}; "
        "values agree on every site. Machine shared with other jobs: compare ratios.")
  print(f"{'measure':20}{'ours sites/s':>14}{'NumPy sites/s':>15}{'ratio':>8}{'ours ms/MP':>12}{'NumPy ms/MP':>13}")
  for name, fn in reference.items():
    theirs = best_time(fn, x64, args.repeats)
    mine = ours["seconds"][name]
    print(f"{name:20}{n / mine:14.1f}{n / theirs:15.1f}{theirs / mine:8.1f}"
          f"{1e3 * mine / n / megapixels:12.2f}{1e3 * theirs / n / megapixels:13.2f}")
  bandwidth = copy_bandwidth()
  plane_bytes = w * h * 4
  # The classical pass reads the plane once per measure family (mean/variance, Brenner, Sobel, Laplacian, FFT
  # input, local scores, co-occurrence, saturation): about 8 reads. Its speed if every read ran at copy bandwidth:
  reads = 8
  bound = bandwidth * 1e9 / (reads * plane_bytes)
  achieved = n / ours["seconds"]["ClassicalPass"]
  print(f"memory bandwidth (NumPy copy, read+write): {bandwidth:.1f} GB/s; the classical pass at ~{reads} reads of "
        f"a {plane_bytes / 1e6:.2f} MB plane would be bandwidth-bound at {bound:.0f} sites/s; it runs at "
        f"{achieved:.1f} sites/s ({bound / achieved:.0f}x below that bound: compute-bound)")


if __name__ == "__main__":
  main()
