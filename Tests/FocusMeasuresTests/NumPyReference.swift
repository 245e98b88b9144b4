import Foundation
import TestSupport

@testable import FocusMeasures

/// The same definitions as FocusMeasures, written independently in NumPy and run in the test venv on the same
/// images: Python reads each image (tifffile / scikit-image), writes the float32 plane as raw little-endian bytes
/// for Swift to read, and prints the reference measures as JSON.
enum NumPyReference {
  /// One image as both sides see it.
  struct Sample {
    let name: String
    let plane: FocusPlane
    let reference: [String: Double]
  }

  static let script = #"""
import sys, json, os
import numpy as np, tifffile
from skimage import io

def load(path):
    img = tifffile.imread(path) if path.lower().endswith(('.tif', '.tiff')) else io.imread(path)
    assert img.ndim == 2, path
    return img.astype(np.float32)

def focus_score(x):
    m = x.mean()
    return float(((x - m) ** 2).sum() / (x.size * m)) if m > 0 else 0.0

def local_focus_score(x, s):
    h, w = x.shape
    m, n = (h + s - 1) // s, (w + s - 1) // s
    i = (np.arange(h) * float(m) / float(h)).astype(int)
    j = (np.arange(w) * float(n) / float(w)).astype(int)
    g = (i[:, None] * n + j[None, :]).ravel()
    v = x.ravel()
    cnt = np.bincount(g, minlength=m * n).astype(float)
    mean = np.bincount(g, v, minlength=m * n) / cnt
    ssd = np.bincount(g, (v - mean[g]) ** 2, minlength=m * n)
    ok = (mean != 0) & ~np.isnan(mean)
    lnv = ssd[ok] / (cnt[ok] * mean[ok])
    if len(lnv) == 0: return 0.0
    med = np.median(lnv)
    return float(np.var(lnv) / med) if np.isfinite(med) and med > 0 else 0.0

def correlation(x, s, levels=8):
    lo, hi = x.min(), x.max()
    d = hi - lo if hi > lo else 1.0
    q = np.clip(((x - lo) / d) // (1.0 / levels), 0, levels - 1).astype(int)
    n = q.max() + 1
    a, b = q[:, :-s].ravel(), q[:, s:].ravel()
    p = np.bincount(a * n + b, minlength=n * n).reshape(n, n) / a.size
    px, py = p.sum(1), p.sum(0)
    px, py = px / px.sum(), py / py.sum()
    lv = np.arange(1, n + 1)
    mx, my = (lv * px).sum(), (lv * py).sum()
    sx, sy = np.sqrt(((lv - mx) ** 2 * px).sum()), np.sqrt(((lv - my) ** 2 * py).sum())
    with np.errstate(all='ignore'):
        c = (((lv[:, None] * lv[None, :]) * p).sum() - mx * my) / (sx * sy)
    return float(c) if np.isfinite(c) else 0.0

def power(x):
    y = x / np.median(np.abs(x - x.mean())) if np.ptp(x) > 0 else x
    return np.abs(np.fft.fft2(y - y.mean())) ** 2

def cp_slope(x, pw):
    h, w = x.shape
    ri = np.minimum(np.arange(h), np.arange(h)[::-1])
    rj = np.minimum(np.arange(w), np.arange(w)[::-1])
    radii = np.floor(np.sqrt(ri[:, None] ** 2 + rj[None, :] ** 2)).astype(int) + 1
    labels = np.arange(2, np.floor(min(h, w) / 8.0)).astype(int)
    sums = np.bincount(radii.ravel(), pw.ravel())[labels]
    ok = sums > 0
    return float(np.polyfit(np.log(labels[ok]), np.log(sums[ok]), 1)[0]) if ok.sum() > 1 else 0.0

def band_slope(x, pw, limit):
    h, w = x.shape
    side = float(min(h, w))
    fi = np.array([(k if k < (h + 1) // 2 else k - h) / h for k in range(h)])
    fj = np.array([(k if k < (w + 1) // 2 else k - w) / w for k in range(w)])
    ring = np.floor(np.sqrt(fi[:, None] ** 2 + fj[None, :] ** 2) * side).astype(int).ravel()
    rings = int(np.floor(limit * side))
    keep = ring < rings
    sums = np.bincount(ring[keep], pw.ravel()[keep], minlength=rings)
    counts = np.bincount(ring[keep], minlength=rings)
    k = np.arange(rings)
    ok = (k >= 1) & (counts > 0) & (sums > 0)
    return float(np.polyfit(np.log((k[ok] + 0.5) / side), np.log(sums[ok] / counts[ok]), 1)[0])

def gradients(x):
    m2 = x.mean() ** 2
    bren = 0.5 * (((x[:, 2:] - x[:, :-2]) ** 2).mean() + ((x[2:, :] - x[:-2, :]) ** 2).mean())
    gx = (x[:-2, 2:] + 2 * x[1:-1, 2:] + x[2:, 2:]) - (x[:-2, :-2] + 2 * x[1:-1, :-2] + x[2:, :-2])
    gy = (x[2:, :-2] + 2 * x[2:, 1:-1] + x[2:, 2:]) - (x[:-2, :-2] + 2 * x[:-2, 1:-1] + x[:-2, 2:])
    ten = (gx ** 2 + gy ** 2).mean()
    lap = (x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] - 4 * x[1:-1, 1:-1]).var()
    out = {}
    for name, raw in (('Brenner', bren), ('Tenengrad', ten), ('LaplacianVariance', lap)):
        out['ImageQuality_' + name] = float(raw)
        out['ImageQuality_' + name + 'Normalized'] = float(raw / m2)
    return out

out_dir, scale, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
result = []
for k, path in enumerate(paths):
    x32 = load(path)
    raw = os.path.join(out_dir, '%d.f32' % k)
    x32.astype('<f4').tofile(raw)
    x = x32.astype(np.float64)
    pw = power(x)
    m = {
        'ImageQuality_FocusScore': focus_score(x),
        'ImageQuality_LocalFocusScore_%d' % scale: local_focus_score(x, scale),
        'ImageQuality_Correlation_%d' % scale: correlation(x, scale),
        'ImageQuality_PowerLogLogSlope': cp_slope(x, pw),
        'ImageQuality_PowerLogLogSlopeLowBand': band_slope(x, pw, 0.1),
        'ImageQuality_PowerLogLogSlopeFullBand': band_slope(x, pw, 0.5),
        'ImageQuality_PercentMaximal': float(100.0 * (x == x.max()).sum() / x.size),
        'ImageQuality_PercentMinimal': float(100.0 * (x == x.min()).sum() / x.size),
    }
    m.update(gradients(x))
    result.append({'name': os.path.basename(path), 'raw': raw, 'width': int(x.shape[1]),
                   'height': int(x.shape[0]), 'measures': m})
print(json.dumps(result))
"""#

  /// Runs the reference on `paths` at `scale` and loads each plane it wrote.
  static func run(_ paths: [URL], scale: Int) throws -> [Sample] {
    let scratch = try TemporaryDirectory(prefix: "focus-reference")
    let json = try PythonReference.json(script, arguments: [scratch.url.path, String(scale)] + paths.map(\.path))
    guard let rows = json as? [[String: Any]] else { throw ReferenceFormatError(what: "top-level list") }
    return try rows.map { row in
      guard let name = row["name"] as? String, let raw = row["raw"] as? String,
        let width = row["width"] as? Int, let height = row["height"] as? Int,
        let measures = row["measures"] as? [String: Double]
      else { throw ReferenceFormatError(what: "sample fields") }
      let data = try Data(contentsOf: URL(fileURLWithPath: raw))
      var pixels = [Float](repeating: 0, count: data.count / MemoryLayout<Float>.size)
      _ = pixels.withUnsafeMutableBytes { data.copyBytes(to: $0) }
      return Sample(name: name, plane: try FocusPlane(pixels: pixels, width: width, height: height),
                    reference: measures)
    }
  }
}

/// The reference script printed JSON of an unexpected shape.
struct ReferenceFormatError: Error, CustomStringConvertible {
  let what: String
  var description: String { "NumPy reference output lacks \(what): check the script in NumPyReference.swift" }
}
