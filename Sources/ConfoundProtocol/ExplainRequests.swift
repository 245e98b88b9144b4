import JSONRPC

/// `explain/table`: what the probe's model on a feature table (CSV or CSV.gz) relies on, through an explainer
/// plugin's method "probe": partial dependence and ICE of the standardised logistic regression fitted on all rows,
/// and permutation importance over grouped folds, per feature and per feature family.
///
/// Rows and features are chosen as `probe/table` chooses them (feature columns with a missing value are dropped and
/// counted). The host gives each feature its family from its CellProfiler name (`Count_*` density,
/// `ImageQuality_*` focus, `*_Location_*` position, intensity, texture, shape, embedding); features of no family are
/// permuted alone only.
public enum ExplainTableRequest: RequestType {
  public static let method = "explain/table"

  public struct Params: Codable, Sendable {
    public var table: String
    /// The column the model predicts (row and column are derived from a well column when absent).
    public var target: String
    /// The column kept on one side of every fold; default: each table row is its own group.
    public var groups: String?
    /// A column-name prefix or a comma-separated list; default: every numeric column not starting `Metadata_`.
    public var features: String?
    /// Features whose partial dependence is wanted; default: the explainer's `top` most important.
    public var partialDependence: [String]?
    /// An explainer plugin id; default: the host's explainer.
    public var plugin: String?
    /// The explainer's parameters: `c`, `folds`, `n_repeats`, `seed`, `kind`, `top`, `grid_resolution`, ...
    public var parameters: JSONObject?
    public init(
      table: String, target: String, groups: String? = nil, features: String? = nil,
      partialDependence: [String]? = nil, plugin: String? = nil, parameters: JSONObject? = nil
    ) {
      self.table = table
      self.target = target
      self.groups = groups
      self.features = features
      self.partialDependence = partialDependence
      self.plugin = plugin
      self.parameters = parameters
    }
  }

  public struct Response: Codable, Sendable {
    public var plugin: String
    /// The explainer's result: classes, model, baseline, partial_dependence, permutation_importance (see
    /// Protocol/README.md, "explainer").
    public var result: JSONValue
    public var table: ProbeTableRequest.TableSummary
    /// Family name -> the features the host put in it, in table order.
    public var families: [String: [String]]
    public init(plugin: String, result: JSONValue, table: ProbeTableRequest.TableSummary, families: [String: [String]])
    {
      self.plugin = plugin
      self.result = result
      self.table = table
      self.families = families
    }
  }
}
