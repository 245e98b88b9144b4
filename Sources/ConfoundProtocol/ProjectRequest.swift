/// `probe/project`: a 2-D projection (t-SNE or PCA) of a feature table's rows, written as a coordinates CSV and a
/// scatter figure (PNG and SVG, one panel per covariate, the paper's Figure 3), with batch-mixing scores of the
/// feature space when a batch column is named.
///
/// Features are standardised (z-scores) first unless `standardize` is false; feature columns with a missing or
/// non-numeric value in any row are dropped and counted. A colour column that does not exist is an invalid-params
/// error naming it and listing close matches.
public enum ProjectRequest: RequestType {
  public static let method = "probe/project"

  public struct Params: Codable, Sendable {
    public var table: String
    /// Covariates to colour by, one panel each (`row` and `column` are derived from a well column).
    public var color: [String]
    /// Folder for `coordinates.csv`, `<method>.png`, `<method>.svg` (created when missing).
    public var out: String
    /// `tsne` (default) or `pca`.
    public var method: String?
    /// A column-name prefix or a comma-separated list; default: every numeric column not starting `Metadata_`.
    public var features: String?
    /// The batch column for the mixing scores; default: none (no scores).
    public var batch: String?
    /// Silhouettes by batch within each value of this column (scib's label key).
    public var labels: String?
    /// t-SNE perplexity (default 30, lowered to (rows - 1) / 3 for small tables).
    public var perplexity: Double?
    public var seed: Int?
    public var standardize: Bool?
    public init(
      table: String, color: [String], out: String, method: String? = nil, features: String? = nil,
      batch: String? = nil, labels: String? = nil, perplexity: Double? = nil, seed: Int? = nil,
      standardize: Bool? = nil
    ) {
      self.table = table
      self.color = color
      self.out = out
      self.method = method
      self.features = features
      self.batch = batch
      self.labels = labels
      self.perplexity = perplexity
      self.seed = seed
      self.standardize = standardize
    }
  }

  /// scib's batch-mixing scores of the (standardised) feature space; see `Statistics.BatchMixing`.
  public struct Mixing: Codable, Sendable, Equatable {
    public var batch: String
    public var batches: Int
    public var rows: Int
    public var iLISI: Double
    public var knnBatchEntropy: Double
    public var silhouetteBatch: Double
    public var pcRegression: Double
    /// One sentence with the numbers.
    public var verdict: String
    public init(
      batch: String, batches: Int, rows: Int, iLISI: Double, knnBatchEntropy: Double, silhouetteBatch: Double,
      pcRegression: Double, verdict: String
    ) {
      self.batch = batch
      self.batches = batches
      self.rows = rows
      self.iLISI = iLISI
      self.knnBatchEntropy = knnBatchEntropy
      self.silhouetteBatch = silhouetteBatch
      self.pcRegression = pcRegression
      self.verdict = verdict
    }
  }

  public struct Response: Codable, Sendable {
    public var method: String
    public var rows: Int
    public var featuresUsed: Int
    public var featuresDropped: Int
    /// `row,x,y,<colour columns>` per table row.
    public var coordinates: String
    public var png: String
    public var svg: String
    public var panels: [String]
    /// t-SNE: the final KL(P || Q); PCA: absent.
    public var klDivergence: Double?
    /// PCA: the share of variance of the two components; t-SNE: absent.
    public var explainedVarianceRatio: [Double]?
    public var perplexity: Double?
    public var mixing: Mixing?
    /// Wall time of the projection alone (affinities and optimisation, or the PCA).
    public var seconds: Double
    public init(
      method: String, rows: Int, featuresUsed: Int, featuresDropped: Int, coordinates: String, png: String,
      svg: String, panels: [String], klDivergence: Double? = nil, explainedVarianceRatio: [Double]? = nil,
      perplexity: Double? = nil, mixing: Mixing? = nil, seconds: Double
    ) {
      self.method = method
      self.rows = rows
      self.featuresUsed = featuresUsed
      self.featuresDropped = featuresDropped
      self.coordinates = coordinates
      self.png = png
      self.svg = svg
      self.panels = panels
      self.klDivergence = klDivergence
      self.explainedVarianceRatio = explainedVarianceRatio
      self.perplexity = perplexity
      self.mixing = mixing
      self.seconds = seconds
    }
  }
}
