import Foundation
import Statistics
import TestSupport
import XCTest

/// t-SNE: closed-form checks (calibrated perplexity, gradient = finite differences of KL, Barnes-Hut close to exact)
/// and the objective reached against openTSNE on real CNN embeddings (DeepProfiler, BBBC021, 1,532 cells).
final class TSNETests: XCTestCase {
  /// Points of a three-cluster Gaussian mixture in 5-D, drawn from `seed`.
  private func mixture(_ n: Int, seed: UInt64 = 3) throws -> FeatureMatrix {
    var random = SeededGenerator(seed: seed)
    func uniform() -> Double { Double(random.next() >> 11) / 9_007_199_254_740_992 }
    let values = (0..<n).flatMap { i in (0..<5).map { j in Double((i % 3 == j % 3) ? 4 : 0) + uniform() - 0.5 } }
    return try FeatureMatrix(rows: n, columns: 5, values: values)
  }

  func testEveryRowHitsTheTargetPerplexityAndPSumsToOne() throws {
    let p = try TSNEAffinities(points: try mixture(300), perplexity: 20)
    for i in 0..<300 { XCTAssertEqual(p.perplexity(of: i), 20, accuracy: 1e-6, "row \(i)") }
    XCTAssertEqual(p.values.reduce(0, +), 1, accuracy: 1e-12)
    // Symmetric: p_ij == p_ji for every stored entry.
    for i in stride(from: 0, to: 300, by: 7) {
      for e in p.rowStart[i]..<p.rowStart[i + 1] {
        let j = Int(p.columns[e])
        let back = (p.rowStart[j]..<p.rowStart[j + 1]).first { p.columns[$0] == Int32(i) }
        XCTAssertEqual(p.values[back!], p.values[e], accuracy: 1e-18)
      }
    }
  }

  /// 4 x the returned gradient is dKL/dy: compare with central differences of the exact KL.
  func testGradientEqualsFiniteDifferencesOfKL() throws {
    let x = try mixture(40)
    let p = try TSNEAffinities(points: x, perplexity: 5)
    var random = SeededGenerator(seed: 9)
    var y = (0..<80).map { _ in Double(random.next() >> 11) / 9_007_199_254_740_992 * 4 - 2 }
    var g = [Double](repeating: 0, count: 80)
    TSNEObjective.gradient(p, embedding: y, theta: nil, into: &g)
    let h = 1e-6
    for e in [0, 1, 17, 40, 79] {
      let saved = y[e]
      y[e] = saved + h
      let plus = TSNEObjective.klDivergence(p, embedding: y)
      y[e] = saved - h
      let minus = TSNEObjective.klDivergence(p, embedding: y)
      y[e] = saved
      XCTAssertEqual(4 * g[e], (plus - minus) / (2 * h), accuracy: 1e-6 * max(1, abs(4 * g[e])), "coordinate \(e)")
    }
  }

  func testBarnesHutApproachesTheExactGradient() throws {
    let p = try TSNEAffinities(points: try mixture(500), perplexity: 30)
    var random = SeededGenerator(seed: 5)
    let y = (0..<1000).map { _ in Double(random.next() >> 11) / 9_007_199_254_740_992 * 20 - 10 }
    var exact = [Double](repeating: 0, count: 1000)
    var loose = exact
    var tight = exact
    TSNEObjective.gradient(p, embedding: y, theta: nil, into: &exact)
    TSNEObjective.gradient(p, embedding: y, theta: 0.5, into: &loose)
    TSNEObjective.gradient(p, embedding: y, theta: 0.05, into: &tight)
    func relativeError(_ a: [Double]) -> Double {
      zip(a, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        / exact.map { $0 * $0 }.reduce(0, +).squareRoot()
    }
    XCTAssertLessThan(relativeError(loose), 0.05)
    XCTAssertLessThan(relativeError(tight), 1e-3)
    XCTAssertLessThan(relativeError(tight), relativeError(loose))
  }

  func testSameSeedSameEmbedding() throws {
    var tsne = TSNE()
    tsne.perplexity = 10
    tsne.iterations = 100
    tsne.method = .barnesHut
    let x = try mixture(200)
    let a = try tsne.embed(x)
    let b = try tsne.embed(x)
    XCTAssertEqual(a.embedding, b.embedding)
    // Three well-separated clusters stay separated: each point's nearest embedded neighbour is in its own cluster.
    let y = a.embedding
    var same = 0
    for i in 0..<200 {
      let nearest = (0..<200).filter { $0 != i }.min { j, k in
        pow(y[i, 0] - y[j, 0], 2) + pow(y[i, 1] - y[j, 1], 2) < pow(y[i, 0] - y[k, 0], 2) + pow(y[i, 1] - y[k, 1], 2)
      }!
      if nearest % 3 == i % 3 { same += 1 }
    }
    XCTAssertEqual(same, 200)
  }

  /// Same data (1,532 DeepProfiler cell embeddings, 50-D), perplexity 30: P entry by entry against openTSNE's
  /// exact-neighbour affinities, and the final KL of both embeddings within 5% (openTSNE: Barnes-Hut, 750 steps).
  func testKLWithinFivePercentOfOpenTSNEOnDeepProfilerEmbeddings() throws {
    let folder = try TemporaryDirectory()
    let (x, klTheirs) = try openTSNEOnDeepProfiler(negativeGradient: "bh", in: folder)
    let n = x.rows
    let theirs = try readDoubles(folder.file("P.bin"))
    var tsne = TSNE()
    tsne.method = .barnesHut
    let result = try tsne.embed(x)
    let p = result.affinities
    var ours = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for e in p.rowStart[i]..<p.rowStart[i + 1] { ours[i * n + Int(p.columns[e])] = p.values[e] } }
    let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
    XCTAssertLessThan(worst, 1e-4 * theirs.max()!, "P differs from openTSNE's")
    let klOurs = TSNEObjective.klDivergence(p, embedding: result.embedding.values)
    XCTAssertEqual(result.klDivergence, klOurs, accuracy: 1e-9)
    XCTAssertLessThan(abs(klOurs - klTheirs) / klTheirs, 0.05, "KL ours \(klOurs), openTSNE \(klTheirs)")
    print("t-SNE on \(n) DeepProfiler cells: KL ours \(klOurs), openTSNE \(klTheirs)")
  }
}

/// openTSNE on the 1,532 DeepProfiler BBBC021 cell embeddings (50-D) at perplexity 30 with exact neighbours and the
/// given `negative_gradient_method` ("bh" or "fft"): the data (also written to `folder` as X.bin, with openTSNE's P
/// as a dense P.bin) and the exact KL(P || Q) of openTSNE's embedding. Skips when the data or the venv is missing.
func openTSNEOnDeepProfiler(negativeGradient method: String, in folder: TemporaryDirectory) throws
  -> (x: FeatureMatrix, kl: Double)
{
  let embeddings: URL
  do { embeddings = try SharedData.require("data/deepprofiler-bbbc021-embeddings") } catch let s as SkipReason {
    throw XCTSkip(s.description)
  }
  let script = """
    import glob, json, sys, numpy as np, openTSNE
    files = sorted(glob.glob("\(embeddings.path)/*/*.npz"))
    X = np.concatenate([np.load(f, allow_pickle=True)["features"] for f in files]).astype(np.float64)
    X.tofile(sys.argv[1] + "/X.bin")
    tsne = openTSNE.TSNE(perplexity=30, neighbors="exact", negative_gradient_method="\(method)", n_jobs=2,
                         random_state=1)
    emb = tsne.fit(X)
    P = emb.affinities.P.toarray()
    P.tofile(sys.argv[1] + "/P.bin")
    Y = np.asarray(emb)
    d2 = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    W = 1 / (1 + d2); np.fill_diagonal(W, 0)
    Q = W / W.sum(); nz = P > 0
    print(json.dumps({"n": X.shape[0], "d": X.shape[1], "kl": float((P[nz] * np.log(P[nz] / Q[nz])).sum())}))
    """
  let ref = try reference(script, in: folder)
  let values = try readDoubles(folder.file("X.bin"))
  let x = try FeatureMatrix(rows: ref["n"] as! Int, columns: ref["d"] as! Int, values: values)
  return (x, ref["kl"] as! Double)
}
