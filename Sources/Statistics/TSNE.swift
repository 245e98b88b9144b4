import Foundation

/// t-distributed stochastic neighbour embedding into 2-D, following openTSNE's defaults so that the two can be
/// compared on the same data: perplexity-calibrated affinities on 3 x perplexity exact nearest neighbours, a PCA
/// initialisation rescaled to standard deviation 1e-4 (with 1% jitter), 250 iterations of early exaggeration 12,
/// then 500 plain ones; momentum 0.8, per-coordinate gains (+0.2 when the gradient changes sign, x0.8 + 0.01
/// otherwise), learning rate N / exaggeration, steps clipped to norm 5, the embedding re-centred every step.
///
/// Repulsion, as openTSNE chooses it: exact below `exactBelow` (1,000) points, Barnes-Hut (theta 0.5) below
/// `interpolationFrom` (10,000), FFT-accelerated interpolation (FIt-SNE, `TSNEInterpolation`) from there, except
/// that `.auto` takes Barnes-Hut for the steps where the interpolation grid would cost more (see `stepMethod`). The
/// result is a pure function of the data and `seed`: every parallel sum is taken in a fixed order.
public struct TSNE: Sendable {
  /// How the repulsive forces are computed.
  public enum Method: String, Sendable, Codable {
    case auto, exact, barnesHut = "barnes-hut", fft
  }

  public var perplexity = 30.0
  public var earlyExaggeration = 12.0
  public var earlyExaggerationIterations = 250
  public var iterations = 500
  public var momentum = 0.8
  /// nil: N / exaggeration in each phase (openTSNE's "auto").
  public var learningRate: Double?
  public var theta = 0.5
  public var method = Method.auto
  /// With `.auto`, exact repulsion for fewer points than this.
  public var exactBelow = 1000
  /// With `.auto`, FFT interpolation from this many points on (Barnes-Hut between `exactBelow` and this).
  public var interpolationFrom = 10_000
  public var seed: UInt64 = 1
  public var threads = ProcessInfo.processInfo.activeProcessorCount

  public init() {}

  /// The embedding of `x`'s rows, with the affinities and the final objective.
  public struct Result: Sendable {
    /// `rows x 2`.
    public let embedding: FeatureMatrix
    public let affinities: TSNEAffinities
    /// KL(P || Q) of the final embedding: exact up to 10,000 points, else with the method's estimate of Z.
    public let klDivergence: Double
    /// The method resolved from `.auto`; `.fft` also when some of its steps were taken by Barnes-Hut.
    public let method: Method
  }

  public func embed(_ x: FeatureMatrix) throws -> Result {
    guard x.rows >= 4 else { throw StatisticsError.invalidArgument("t-SNE: need at least 4 rows, got \(x.rows)") }
    let affinities = try TSNEAffinities(points: x, perplexity: perplexity, threads: threads)
    return try embed(affinities: affinities, initial: try initialisation(x))
  }

  /// Optimises from `initial` (row-major N x 2) for the given affinities.
  public func embed(affinities p: TSNEAffinities, initial: [Double]) throws -> Result {
    let n = p.count
    guard initial.count == 2 * n else {
      throw StatisticsError.shape("t-SNE: initial embedding has \(initial.count) values, expected \(2 * n)")
    }
    guard theta > 0, theta < 0.7 else {
      throw StatisticsError.invalidArgument("t-SNE: theta \(theta) must be in (0, 0.7)")
    }
    let resolved: Method =
      method != .auto ? method : (n < exactBelow ? .exact : (n < interpolationFrom ? .barnesHut : .fft))
    var y = initial
    var update = [Double](repeating: 0, count: 2 * n)
    var gains = [Double](repeating: 1, count: 2 * n)
    var gradient = [Double](repeating: 0, count: 2 * n)
    for (steps, exaggeration) in [(earlyExaggerationIterations, earlyExaggeration), (iterations, 1.0)] {
      let rate = learningRate ?? max(Double(n) / exaggeration, 50)
      for _ in 0..<steps {
        TSNEObjective.gradient(
          p, embedding: y, exaggeration: exaggeration, method: stepMethod(resolved, y, count: n), theta: theta,
          into: &gradient, threads: threads)
        step(&y, &update, &gains, gradient, rate: rate, count: n)
      }
    }
    let z: Double
    if n <= 10_000 {
      z = TSNEObjective.exactRepulsion(y, count: n, force: nil, threads: threads)
    } else {
      z = TSNEObjective.gradient(
        p, embedding: y, method: stepMethod(resolved, y, count: n), theta: theta, into: &gradient, threads: threads)
    }
    let kl = TSNEObjective.klDivergence(p, embedding: y, normalisation: z)
    return Result(
      embedding: try FeatureMatrix(rows: n, columns: 2, values: y), affinities: p, klDivergence: kl,
      method: resolved)
  }

  /// The repulsion for one step. Under `.auto`, FFT interpolation gives way to Barnes-Hut for the steps where its
  /// grid would take longer than the tree (`TSNEInterpolation.cheaperThanBarnesHut`): openTSNE's grid grows with the
  /// square of the embedding's span, and late in a run at 10,000-50,000 points our tree is the faster of the two.
  private func stepMethod(_ resolved: Method, _ y: [Double], count n: Int) -> Method {
    guard resolved == .fft, method == .auto else { return resolved }
    return TSNEInterpolation.cheaperThanBarnesHut(y, count: n) ? .fft : .barnesHut
  }

  /// One momentum step with gains, as openTSNE's gradient descent does it.
  private func step(
    _ y: inout [Double], _ update: inout [Double], _ gains: inout [Double], _ g: [Double],
    rate: Double, count n: Int
  ) {
    for e in 0..<(2 * n) {
      // numpy's sign: a zero update (the first step) counts as a sign change.
      let flipped = sign(update[e]) != sign(g[e])
      gains[e] = flipped ? gains[e] + 0.2 : gains[e] * 0.8 + 0.01
      update[e] = momentum * update[e] - rate * gains[e] * g[e]
    }
    var meanX = 0.0, meanY = 0.0
    for i in 0..<n {
      let norm = (update[2 * i] * update[2 * i] + update[2 * i + 1] * update[2 * i + 1]).squareRoot()
      if norm > 5 {
        update[2 * i] *= 5 / norm
        update[2 * i + 1] *= 5 / norm
      }
      y[2 * i] += update[2 * i]
      y[2 * i + 1] += update[2 * i + 1]
      meanX += y[2 * i]
      meanY += y[2 * i + 1]
    }
    meanX /= Double(n)
    meanY /= Double(n)
    for i in 0..<n {
      y[2 * i] -= meanX
      y[2 * i + 1] -= meanY
    }
  }

  private func sign(_ v: Double) -> Int { v > 0 ? 1 : (v < 0 ? -1 : 0) }

  /// The first two principal components of `x`, scaled so the first has standard deviation 1e-4, plus Gaussian
  /// jitter of 1% of that (openTSNE's `pca` initialisation), drawn from `seed`.
  public func initialisation(_ x: FeatureMatrix) throws -> [Double] {
    let scores = try PrincipalComponents(fitting: x, components: 2).transform(x)
    let n = x.rows
    var mean = 0.0
    for i in 0..<n { mean += scores[i, 0] }
    mean /= Double(n)
    var variance = 0.0
    for i in 0..<n { variance += (scores[i, 0] - mean) * (scores[i, 0] - mean) }
    let sd = (variance / Double(n)).squareRoot()
    let scale = sd > 0 ? 1e-4 / sd : 1
    var random = SeededGenerator(seed: seed)
    return (0..<(2 * n)).map { e in scores.values[e] * scale + 1e-6 * random.nextGaussian() }
  }
}
