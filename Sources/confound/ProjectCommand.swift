import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound project --table FILE --color COL[,COL...] --out DIR`: a t-SNE or PCA of a feature table drawn once per
/// covariate (PNG and SVG), the coordinates as CSV, and how well the batches mix when `--batch` is given.
struct ProjectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "project",
    abstract: "Project a feature table to 2-D (t-SNE or PCA) and plot it coloured by each covariate.",
    discussion: """
      Writes DIR/<method>-coordinates.csv, DIR/<method>.png and DIR/<method>.svg (one panel per --color column).
      With --batch COL it also scores how well COL's batches mix in the standardised feature space, with scib's
      definitions: iLISI, kNN batch entropy, batch silhouette and principal-component regression.
      """)
  @OptionGroup var hostOptions: HostOptions
  @Option(help: "The feature table (CSV or CSV.gz, e.g. CellProfiler or pycytominer profiles).") var table: String
  @Option(help: "Feature column prefix or comma-separated list (default: numeric non-Metadata_ columns).")
  var features: String?
  @Option(help: "Columns to colour by, comma-separated: one panel each (row/column come from a well column).")
  var color: String
  @Option(help: "Output folder.") var out: String
  @Option(help: "tsne (default) or pca.") var method: String = "tsne"
  @Option(help: "Batch column: report how well its batches mix.") var batch: String?
  @Option(help: "With --batch: silhouettes within each value of this column (e.g. the treatment).") var labels: String?
  @Option(help: "t-SNE perplexity (default 30).") var perplexity: Double?
  @Option(help: "Seed of the t-SNE initialisation's jitter.") var seed: Int?
  @Flag(help: "Project the raw features instead of z-scores.") var noStandardize = false
  @Flag(help: "Print the result as JSON.") var json = false

  func run() throws {
    let params = ProjectRequest.Params(
      table: table, color: color.split(separator: ",").map(String.init), out: out, method: method, features: features,
      batch: batch, labels: labels, perplexity: perplexity, seed: seed, standardize: !noStandardize)
    let response = try withHost(hostOptions) { try $0.request(ProjectRequest.self, params, progressTitle: "project") }
    if json { return printJSON(try JSONCodec.encode(response)) }
    print(
      "\(response.rows) rows, \(response.featuresUsed) features (\(response.featuresDropped) dropped), "
        + "\(response.method) in \(String(format: "%.1f", response.seconds)) s")
    if let kl = response.klDivergence, let p = response.perplexity {
      print(String(format: "t-SNE perplexity %.1f, KL divergence %.3f", p, kl))
    }
    if let ratio = response.explainedVarianceRatio {
      print(String(format: "PC1 %.1f%%, PC2 %.1f%% of the variance", 100 * ratio[0], 100 * ratio[1]))
    }
    print("coordinates: \(response.coordinates)")
    print("figure (\(response.panels.count) panels): \(response.png), \(response.svg)")
    if let mixing = response.mixing { print(mixing.verdict) }
  }
}
