import Foundation
import Statistics
import TestSupport
import XCTest

/// Batch-mixing scores: closed forms on toy spaces (batches far apart; one batch an exact copy of the other) and
/// scib's definitions computed with numpy / scikit-learn on real CNN embeddings (DeepProfiler BBBC021, batch = plate).
final class BatchMixingTests: XCTestCase {
  private func uniformPoints(_ n: Int, _ d: Int, seed: UInt64, offset: Double = 0) -> [Double] {
    var random = SeededGenerator(seed: seed)
    return (0..<(n * d)).map { _ in Double(random.next() >> 11) / 9_007_199_254_740_992 + offset }
  }

  func testSeparatedBatchesScoreNoMixing() throws {
    let n = 120
    let x = try FeatureMatrix(
      rows: 2 * n, columns: 3,
      values: uniformPoints(n, 3, seed: 1) + uniformPoints(n, 3, seed: 2, offset: 1000))
    let m = try BatchMixing(x, batch: Array(repeating: "A", count: n) + Array(repeating: "B", count: n))
    XCTAssertEqual(m.medianLISI, 1, accuracy: 1e-12)
    XCTAssertEqual(m.iLISI, 0, accuracy: 1e-12)
    XCTAssertEqual(m.knnBatchEntropy, 0, accuracy: 1e-12)
    XCTAssertEqual(m.silhouetteBatch, 0, accuracy: 1e-2)
    XCTAssertEqual(m.pcRegression, 1, accuracy: 1e-4)
  }

  /// Batch B is a copy of batch A: every principal component has equal batch means (PCR exactly 0); each point's
  /// silhouette is -1/n (own cluster minus itself vs other cluster with its twin at distance 0), so 1 - |s| = 1 - 1/n;
  /// with k = 2m + 1 neighbours (the twin, then m pairs) the batch counts are m + 1 and m.
  func testCopiedBatchesScoreClosedForms() throws {
    let n = 100
    let a = uniformPoints(n, 4, seed: 7)
    let x = try FeatureMatrix(rows: 2 * n, columns: 4, values: a + a)
    let batch = Array(repeating: "A", count: n) + Array(repeating: "B", count: n)
    let m = try BatchMixing(x, batch: batch, entropyNeighbors: 21)
    XCTAssertEqual(m.pcRegression, 0, accuracy: 1e-12)
    XCTAssertEqual(m.silhouetteBatch, 1 - 1 / Double(n), accuracy: 1e-12)
    let (p, q) = (11.0 / 21, 10.0 / 21)
    XCTAssertEqual(m.knnBatchEntropy, -(p * log(p) + q * log(q)) / log(2), accuracy: 1e-12)
    // LISI has no closed form here (the twin at distance 0 weighs on the other batch), but it must be near full mixing.
    XCTAssertGreaterThan(m.iLISI, 0.8)
  }

  func testMatchesNumpyAndScikitLearnOnDeepProfilerEmbeddings() throws {
    let folder = try TemporaryDirectory()
    let data: URL
    do { data = try SharedData.require("data/deepprofiler-bbbc021-embeddings") } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
    let ref = try reference(
      """
      import glob, json, sys, numpy as np
      from sklearn.metrics import silhouette_samples
      from sklearn.neighbors import NearestNeighbors
      from sklearn.decomposition import PCA
      from sklearn.linear_model import LinearRegression
      files = sorted(glob.glob("\(data.path)/*/*.npz"))
      X = np.concatenate([np.load(f, allow_pickle=True)["features"] for f in files]).astype(np.float64)
      plate = np.concatenate([[f.split("/")[-2]] * np.load(f, allow_pickle=True)["features"].shape[0] for f in files])
      well = np.concatenate([[f.split("/")[-1][:3]] * np.load(f, allow_pickle=True)["features"].shape[0] for f in files])
      X.tofile(sys.argv[1] + "/X.bin")
      codes = np.unique(plate, return_inverse=True)[1]
      sil = silhouette_samples(X, codes)
      asw = np.mean([np.mean(1 - np.abs(silhouette_samples(X[well == w], codes[well == w]))) for w in np.unique(well)])
      dist, idx = NearestNeighbors(n_neighbors=91).fit(X).kneighbors(X)
      dist, idx = dist[:, 1:], idx[:, 1:]
      def simpson(D, perplexity=30, tol=1e-5):
          logU = np.log(perplexity); beta, lo, hi = 1.0, -np.inf, np.inf
          def hb(beta):
              P = np.exp(-D * beta); s = P.sum()
              return np.log(s) + beta * (D * P).sum() / s, P / s
          H, P = hb(beta); tries = 0
          while abs(H - logU) > tol and tries < 50:
              if H > logU:
                  lo = beta; beta = beta * 2 if hi == np.inf else (beta + hi) / 2
              else:
                  hi = beta; beta = beta / 2 if lo == -np.inf else (beta + lo) / 2
              H, P = hb(beta); tries += 1
          return P
      lisi = []
      for i in range(len(X)):
          P = simpson(dist[i]); per = np.bincount(codes[idx[i]], weights=P, minlength=2)
          lisi.append(1 / np.dot(per, per))
      med = float(np.median(lisi))
      ent = []
      for i in range(len(X)):
          f = np.bincount(codes[idx[i, :50]], minlength=2) / 50; f = f[f > 0]
          ent.append(-(f * np.log(f)).sum() / np.log(2))
      pca = PCA(n_components=50, svd_solver="full").fit(X); S = pca.transform(X)
      onehot = np.eye(2)[codes]
      r2 = np.array([max(0, LinearRegression().fit(onehot, S[:, [c]]).score(onehot, S[:, [c]])) for c in range(50)])
      var = pca.explained_variance_
      print(json.dumps({"n": len(X), "plate": plate.tolist(), "well": well.tolist(), "sil": sil.tolist(),
                        "asw": float(asw), "lisi": med, "ilisi": med - 1, "entropy": float(np.mean(ent)),
                        "pcr": float((r2 * var).sum() / var.sum())}))
      """, in: folder)
    let n = ref["n"] as! Int
    let x = try FeatureMatrix(rows: n, columns: 50, values: readDoubles(folder.file("X.bin")))
    let plates = ref["plate"] as! [String]
    let codes = plates.map { $0 == plates[0] ? 0 : 1 }
    assertClose(
      try BatchMixing.silhouetteSamples(x, clusters: codes), doubles(ref["sil"]), relative: 1e-9,
      "silhouette_samples")
    let m = try BatchMixing(x, batch: plates, labels: ref["well"] as? [String])
    XCTAssertEqual(m.silhouetteBatch, ref["asw"] as! Double, accuracy: 1e-9)
    XCTAssertEqual(m.medianLISI, ref["lisi"] as! Double, accuracy: 1e-6)
    XCTAssertEqual(m.iLISI, ref["ilisi"] as! Double, accuracy: 1e-6)
    XCTAssertEqual(m.knnBatchEntropy, ref["entropy"] as! Double, accuracy: 1e-9)
    XCTAssertEqual(m.pcRegression, ref["pcr"] as! Double, accuracy: 1e-8)
    print(
      "DeepProfiler BBBC021 by plate: iLISI \(m.iLISI), entropy \(m.knnBatchEntropy), batch ASW \(m.silhouetteBatch), PCR \(m.pcRegression)"
    )
  }
}
