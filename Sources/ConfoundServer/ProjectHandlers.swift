import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PlateMaps
import Statistics

extension HostHandlers {
  /// `probe/project`: a t-SNE or PCA of a feature table, its scatter figure and batch-mixing scores.
  static func registerProject(on server: HostServer) {
    server.on(ProjectRequest.self) { params, context in
      context.beginProgress("project \(params.method ?? "tsne")")
      let table = try LayoutTable(path: params.table)
      guard !params.color.isEmpty else {
        throw ResponseError(
          .invalidParams, "color: name at least one column to colour the points by", data: ["field": "color"])
      }
      let csv = table.csv
      let candidates = try ProbeTableInput.featureColumns(csv, selector: params.features)
      let kept = candidates.filter { c in csv.rows.allSatisfy { Double($0[c]).map(\.isFinite) ?? false } }
      guard !kept.isEmpty else {
        throw ResponseError(
          .invalidParams, "features: no numeric feature column without missing values in \(csv.file)",
          data: ["field": "features"])
      }
      let x = try FeatureMatrix(
        rows: csv.rows.count, columns: kept.count,
        values: csv.rows.flatMap { row in kept.map { Double(row[$0])! } })
      let covariates = try params.color.map { (name: $0, values: try table.values($0, field: "color")) }
      let projection = try Projection(
        method: params.method ?? "tsne", perplexity: params.perplexity,
        seed: UInt64(params.seed ?? 1), standardize: params.standardize ?? true)
      let out = URL(fileURLWithPath: params.out)
      let result = try projection.run(
        x, covariates: covariates, out: out,
        title: "\(URL(fileURLWithPath: params.table).lastPathComponent): \(projection.name)")
      var mixing: ProjectRequest.Mixing?
      if let batch = params.batch {
        mixing = try Projection.mixing(
          result.features, batch: try table.values(batch, field: "batch"), name: batch,
          labels: try params.labels.map { try table.values($0, field: "labels") })
      }
      context.endProgress()
      return ProjectRequest.Response(
        method: projection.method, rows: x.rows, featuresUsed: result.features.columns,
        featuresDropped: candidates.count - result.features.columns, coordinates: result.coordinates.path,
        png: result.png.path, svg: result.svg.path, panels: params.color, klDivergence: result.klDivergence,
        explainedVarianceRatio: result.explainedVarianceRatio, perplexity: result.perplexity, mixing: mixing,
        seconds: result.seconds)
    }
  }
}

/// A feature matrix projected to 2-D (t-SNE or PCA), written as coordinates and drawn once per covariate.
/// Shared by `probe/project` and the audit's projection stage.
struct Projection {
  let method: String
  let perplexity: Double?
  let seed: UInt64
  let standardize: Bool

  init(method: String, perplexity: Double?, seed: UInt64, standardize: Bool) throws {
    guard ["tsne", "pca"].contains(method) else {
      throw ResponseError(.invalidParams, "method: \"\(method)\" is not tsne or pca", data: ["field": "method"])
    }
    self.method = method
    self.perplexity = perplexity
    self.seed = seed
    self.standardize = standardize
  }

  var name: String { method == "tsne" ? "t-SNE" : "PCA" }

  struct Result {
    /// The features projected (standardised, constant columns dropped).
    var features: FeatureMatrix
    /// rows x 2, row-major.
    var coordinates2D: [Double]
    var coordinates: URL
    var png: URL
    var svg: URL
    var klDivergence: Double?
    var explainedVarianceRatio: [Double]?
    var perplexity: Double?
    var seconds: Double
  }

  /// Projects `x`, writes `<out>/<stem>-coordinates.csv`, `<stem>.png` and `<stem>.svg` (stem: the method).
  /// `identifiers` (plate, well, ...) go into the CSV only, before the covariates.
  func run(
    _ x: FeatureMatrix, covariates: [(name: String, values: [String])], out: URL, title: String,
    stem: String? = nil, identifiers: [(name: String, values: [String])] = []
  ) throws -> Result {
    let features = standardize ? Self.standardized(x) : x
    guard features.columns >= 2 || (features.columns >= 1 && method == "tsne") else {
      throw ResponseError(
        .invalidParams, "features: \(features.columns) non-constant feature column(s); a projection needs 2+",
        data: ["field": "features"])
    }
    guard x.rows >= 10 else {
      throw ResponseError(
        .invalidParams, "table: \(x.rows) rows; a projection needs at least 10", data: ["field": "table"])
    }
    let started = Date()
    var coordinates: [Double]
    var kl: Double?
    var ratio: [Double]?
    var usedPerplexity: Double?
    var axes = ("t-SNE 1", "t-SNE 2")
    do {
      if method == "pca" {
        let pca = try PrincipalComponents(fitting: features, components: 2)
        coordinates = try pca.transform(features).values
        ratio = pca.explainedVarianceRatio
        axes = (
          String(format: "PC1 (%.0f%%)", 100 * pca.explainedVarianceRatio[0]),
          String(format: "PC2 (%.0f%%)", 100 * pca.explainedVarianceRatio[1])
        )
      } else {
        var tsne = TSNE()
        tsne.seed = seed
        tsne.perplexity = min(perplexity ?? 30, (Double(x.rows) - 1) / 3 - 0.01)
        let result = try tsne.embed(features)
        coordinates = result.embedding.values
        kl = result.klDivergence
        usedPerplexity = tsne.perplexity
      }
    } catch let error as StatisticsError {
      throw ResponseError(.invalidParams, "\(name): \(error)", data: ["field": "features"])
    }
    let seconds = Date().timeIntervalSince(started)
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let base = stem ?? method
    let csvURL = out.appendingPathComponent("\(base)-coordinates.csv")
    try Self.coordinatesCSV(coordinates, covariates: identifiers + covariates)
      .write(to: csvURL, atomically: true, encoding: .utf8)
    let panels = covariates.map { ScatterPlot.Panel(covariate: $0.name, colouring: Self.colouring($0.values)) }
    let plot = try ScatterPlot(
      x: stride(from: 0, to: coordinates.count, by: 2).map { coordinates[$0] },
      y: stride(from: 1, to: coordinates.count, by: 2).map { coordinates[$0] },
      panels: panels, xLabel: axes.0, yLabel: axes.1, title: title)
    let drawing = try plot.render()
    let png = out.appendingPathComponent("\(base).png")
    let svg = out.appendingPathComponent("\(base).svg")
    try writePNG(drawing.image, to: png)
    try drawing.svg.write(to: svg, atomically: true, encoding: .utf8)
    return Result(
      features: features, coordinates2D: coordinates, coordinates: csvURL, png: png, svg: svg, klDivergence: kl,
      explainedVarianceRatio: ratio, perplexity: usedPerplexity, seconds: seconds)
  }

  /// Z-scores of each column (population standard deviation), constant columns dropped.
  static func standardized(_ x: FeatureMatrix) -> FeatureMatrix {
    var columns: [[Double]] = []
    for j in 0..<x.columns {
      let v = (0..<x.rows).map { x[$0, j] }
      let mean = v.reduce(0, +) / Double(x.rows)
      let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.rows)).squareRoot()
      guard sd > 1e-12 * max(1, abs(mean)) else { continue }
      columns.append(v.map { ($0 - mean) / sd })
    }
    let values = (0..<x.rows).flatMap { r in columns.map { $0[r] } }
    return (try? FeatureMatrix(rows: x.rows, columns: columns.count, values: values)) ?? x
  }

  /// Numbers with more than 12 distinct values get a colour bar; anything else is a category.
  static func colouring(_ values: [String]) -> ScatterPlot.Colouring {
    let present = values.filter { !ScatterPlot.isMissingLabel($0) }
    let numbers = present.compactMap(Double.init)
    if numbers.count == present.count, Set(present).count > 12 {
      return .numeric(values.map { Double($0) ?? .nan })
    }
    return .categorical(values)
  }

  static func coordinatesCSV(_ xy: [Double], covariates: [(name: String, values: [String])]) -> String {
    func field(_ s: String) -> String {
      s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
    var lines = [(["row", "x", "y"] + covariates.map(\.name)).map(field).joined(separator: ",")]
    for r in 0..<(xy.count / 2) {
      lines.append(
        ([String(r), String(xy[2 * r]), String(xy[2 * r + 1])] + covariates.map { field($0.values[r]) })
          .joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// scib's batch-mixing scores of `features` by `batch`; nil when there is one batch. Tables over 5,000 rows are
  /// scored on a seeded subsample of 5,000 (the silhouette is quadratic in rows).
  static func mixing(_ features: FeatureMatrix, batch: [String], name: String, labels: [String]? = nil) throws
    -> ProjectRequest.Mixing?
  {
    guard Set(batch).count >= 2 else { return nil }
    var rows = Array(0..<features.rows)
    if rows.count > 5000 {
      var random = SeededGenerator(seed: 1)
      random.shuffle(&rows)
      rows = Array(rows.prefix(5000)).sorted()
    }
    let m: BatchMixing
    do {
      m = try BatchMixing(
        features.selecting(rows: rows), batch: rows.map { batch[$0] }, labels: labels.map { l in rows.map { l[$0] } })
    } catch let error as StatisticsError {
      throw ResponseError(.invalidParams, "batch mixing by \(name): \(error)", data: ["field": "batch"])
    }
    let state = m.iLISI >= 0.7 ? "mix well" : (m.iLISI >= 0.2 ? "mix partly" : "stay apart")
    let verdict =
      "Batches (\(name), \(m.batches) levels) \(state) in the feature space of \(m.points) rows: iLISI "
      + String(
        format: "%.2f (0 = separate, 1 = fully mixed), kNN batch entropy %.2f, batch silhouette %.2f, ", m.iLISI,
        m.knnBatchEntropy, m.silhouetteBatch)
      + String(
        format: "%.0f%% of the variance of the first principal components explained by %@ (PCR).",
        100 * m.pcRegression, name)
    return .init(
      batch: name, batches: m.batches, rows: m.points, iLISI: m.iLISI, knnBatchEntropy: m.knnBatchEntropy,
      silhouetteBatch: m.silhouetteBatch, pcRegression: m.pcRegression, verdict: verdict)
  }
}
