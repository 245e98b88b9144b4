import JSONRPC

/// `probe/table`: predicts one column of a feature table (CSV or CSV.gz: CellProfiler or pycytominer profiles)
/// from its feature columns with a probe plugin, in the host.
///
/// Feature columns holding a missing or non-numeric value in any used row are dropped (and counted). A column
/// name that does not exist is an invalid-params error naming it and listing close matches.
public enum ProbeTableRequest: RequestType {
  public static let method = "probe/table"

  public struct Params: Codable, Sendable {
    public var table: String
    /// The column to predict (e.g. `Metadata_Plate`, `row`).
    public var target: String
    /// The column kept on one side of every fold; default: each table row is its own group.
    public var groups: String?
    /// The unit of replication (e.g. the well); default: each table row.
    public var units: String?
    /// Labels are permuted only within this column's values.
    public var strata: String?
    /// A column-name prefix or a comma-separated list; default: every numeric column not starting `Metadata_`.
    public var features: String?
    /// `COLUMN=VALUE`: use only rows where COLUMN equals VALUE (e.g. `Metadata_broad_sample=DMSO`).
    public var control: String?
    public var plugin: String?
    public var parameters: JSONObject?
    public init(table: String, target: String, groups: String? = nil, units: String? = nil, strata: String? = nil,
                features: String? = nil, control: String? = nil, plugin: String? = nil, parameters: JSONObject? = nil) {
      self.table = table
      self.target = target
      self.groups = groups
      self.units = units
      self.strata = strata
      self.features = features
      self.control = control
      self.plugin = plugin
      self.parameters = parameters
    }
  }

  public struct Response: Codable, Sendable {
    public var plugin: String
    /// The probe's JSON result (metrics, baseline, leakage_score, p_value, verdict, ...).
    public var result: JSONValue
    public var table: TableSummary
    /// For a position target (row, column): the other columns that follow it strongly in the rows used (Cramer's
    /// V >= 0.5, p < 0.05), e.g. compound by row on a LINCS plate.
    public var designAssociations: [DesignAuditRequest.Association]?
    /// For a predictable position target: "design-driven: ..." (treatments follow the layout) or "technical: ...".
    public var interpretation: String?
    public init(plugin: String, result: JSONValue, table: TableSummary,
                designAssociations: [DesignAuditRequest.Association]? = nil, interpretation: String? = nil) {
      self.plugin = plugin
      self.result = result
      self.table = table
      self.designAssociations = designAssociations
      self.interpretation = interpretation
    }
  }

  /// What of the table the probe used.
  public struct TableSummary: Codable, Sendable {
    public var rows: Int
    public var rowsUsed: Int
    public var featuresUsed: Int
    /// Feature columns dropped for missing or non-numeric values in the used rows.
    public var featuresDropped: Int
    public var droppedNames: [String]
    public init(rows: Int, rowsUsed: Int, featuresUsed: Int, featuresDropped: Int, droppedNames: [String]) {
      self.rows = rows
      self.rowsUsed = rowsUsed
      self.featuresUsed = featuresUsed
      self.featuresDropped = featuresDropped
      self.droppedNames = droppedNames
    }
  }
}

/// `design/audit`: from a platemap alone, before any pixel, the association of the target column with every
/// other column and with the row and column derived from a well-position column.
public enum DesignAuditRequest: RequestType {
  public static let method = "design/audit"

  public struct Params: Codable, Sendable {
    public var platemap: String
    public var target: String
    /// Columns to test; default: every other column, plus `row` and `column` when a well column exists.
    public var covariates: [String]?
    public init(platemap: String, target: String, covariates: [String]? = nil) {
      self.platemap = platemap
      self.target = target
      self.covariates = covariates
    }
  }

  public struct Response: Codable, Sendable {
    public var target: String
    public var rows: Int
    public var associations: [Association]
    public init(target: String, rows: Int, associations: [Association]) {
      self.target = target
      self.rows = rows
      self.associations = associations
    }
  }

  /// The target against one covariate: Cramér's V of their contingency table, with the chi-square p-value
  /// (Fisher's exact test for a 2x2 table).
  public struct Association: Codable, Sendable {
    public var covariate: String
    public var cramersV: Double
    public var pValue: Double
    /// "chi-square" or "fisher".
    public var test: String
    public var levels: [Int]
    /// e.g. "dose is confounded with column: Cramer's V 1.00, p < 0.001".
    public var verdict: String
    public init(covariate: String, cramersV: Double, pValue: Double, test: String, levels: [Int], verdict: String) {
      self.covariate = covariate
      self.cramersV = cramersV
      self.pValue = pValue
      self.test = test
      self.levels = levels
      self.verdict = verdict
    }
  }
}
