import Foundation
import TestSupport
import XCTest

/// A nucleus image with its ground truth and scikit-image's classical pipeline's result on it, exchanged with the
/// reference Python as raw little-endian float32 / int32 files.
struct ReferenceImage {
  var name: String
  var width: Int
  var height: Int
  var pixels: [Float]
  var truth: [Int32]
  var baseline: [Int32]
  /// scikit-image's own counts for its pipeline (computed in Python, independently of `InstanceMatching`).
  var baselineCounts: MatchCountsValue
  var baselineSeconds: Double
}

/// TP/FP/FN as Python reported them.
struct MatchCountsValue { var tp: Int, fp: Int, fn: Int }

func readRaw<T>(_ url: URL, as type: T.Type) throws -> [T] {
  let data = try Data(contentsOf: url)
  return data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}

/// Runs a reference script as `python -c script [leading...] <shared data folder> <folder>` and decodes its JSON
/// output; the script writes its raw arrays into `folder`. Skips the test when the shared data is absent.
func runReference(_ script: String, leading: [String] = [], in folder: TemporaryDirectory) throws -> Any {
  let shared: URL
  do { shared = try SharedData.require("data") } catch let skip as SkipReason { throw XCTSkip(skip.description) }
  return try PythonReference.json(script, arguments: leading + [shared.path, folder.url.path])
}

enum ReferenceImages {
  /// `pipeline(im)`: scikit-image's classical pipeline as the issue states it (Python source, with `np`, `ndi`,
  /// `filters`, `measure`, `morphology`, `segmentation` and `feature` imported by the script that includes it).
  static let pipeline = #"""
def pipeline(im):
    sm = filters.gaussian(im, sigma=1.5, preserve_range=True)
    mask = morphology.remove_small_objects(sm > filters.threshold_otsu(sm), max_size=39)
    dist = ndi.distance_transform_edt(mask)
    coords = feature.peak_local_max(dist, min_distance=6, exclude_border=False, labels=measure.label(mask))
    markers = np.zeros(dist.shape, np.int32); markers[tuple(coords.T)] = np.arange(1, len(coords) + 1)
    return segmentation.watershed(-dist, markers, mask=mask)
"""#

  /// The scikit-image classical pipeline (Gaussian 1.5, Otsu, remove_small_objects 40, EDT watershed with
  /// peak_local_max min_distance 6, exclude_border=False, which reproduces FINDINGS' 0.565 on DSB) and the
  /// DSB matching rule, on img2d or on the grey (R == G == B) images of DSB2018 stage-1 test.
  static let script = #"""
import sys, os, json, time, numpy as np, tifffile
from skimage import io, filters, measure, morphology, segmentation, feature
from scipy import ndimage as ndi
which, shared, out = sys.argv[1], sys.argv[2], sys.argv[3]
def images():
    if which == 'img2d':
        d = f'{shared}/stardist-img2d'
        yield 'img2d', tifffile.imread(f'{d}/img2d.tif'), tifffile.imread(f'{d}/mask2d.tif')
        return
    root = f'{shared}/dsb2018-stage1-test/stage1_test'
    for d in sorted(os.listdir(root)):
        rgb = io.imread(f'{root}/{d}/images/{d}.png')[..., :3]
        if (rgb[..., 0] != rgb[..., 1]).any() or (rgb[..., 1] != rgb[..., 2]).any():
            continue
        gt = np.zeros(rgb.shape[:2], np.int32)
        for i, m in enumerate(sorted(os.listdir(f'{root}/{d}/masks'))):
            gt[io.imread(f'{root}/{d}/masks/{m}') > 0] = i + 1
        yield d[:12], rgb[..., 0], gt
\#(pipeline)
def match(gt, pr):
    tp = 0
    for t in np.unique(gt[gt > 0]):
        m = gt == t
        ps, counts = np.unique(pr[m], return_counts=True)
        for p, c in zip(ps, counts):
            if p and c / (m.sum() + (pr == p).sum() - c) > 0.5: tp += 1
    return tp, len(np.unique(pr[pr > 0])) - tp, len(np.unique(gt[gt > 0])) - tp
rows = []
for name, im, gt in images():
    im = np.ascontiguousarray(im, np.float32)
    t = time.perf_counter(); pr = pipeline(im); seconds = time.perf_counter() - t
    im.tofile(f'{out}/{name}.f32'); gt.astype(np.int32).tofile(f'{out}/{name}.truth.i32')
    pr.astype(np.int32).tofile(f'{out}/{name}.base.i32')
    tp, fp, fn = match(gt, pr)
    rows.append(dict(name=name, width=im.shape[1], height=im.shape[0], tp=tp, fp=fp, fn=fn, seconds=seconds))
print(json.dumps(rows))
"""#

  /// Runs the reference on set `which` ("img2d" or "dsb") in `folder` and reads everything back.
  static func load(_ which: String, into folder: TemporaryDirectory) throws -> [ReferenceImage] {
    let rows = try runReference(script, leading: [which], in: folder) as! [[String: Any]]
    return try rows.map { row in
      let name = row["name"] as! String
      return ReferenceImage(
        name: name, width: row["width"] as! Int, height: row["height"] as! Int,
        pixels: try readRaw(folder.file("\(name).f32"), as: Float.self),
        truth: try readRaw(folder.file("\(name).truth.i32"), as: Int32.self),
        baseline: try readRaw(folder.file("\(name).base.i32"), as: Int32.self),
        baselineCounts: MatchCountsValue(tp: row["tp"] as! Int, fp: row["fp"] as! Int, fn: row["fn"] as! Int),
        baselineSeconds: row["seconds"] as! Double)
    }
  }
}
