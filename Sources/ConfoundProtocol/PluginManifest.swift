import JSONRPC

/// The five kinds of analysis plugin. Each kind has one operation with a fixed contract (Protocol/README.md).
public enum PluginKind: String, Codable, CaseIterable, Sendable {
  case focus, segmenter, embedder, probe, explainer

  /// The operation every plugin of the kind implements, the `method` of its `cf_call`.
  public var operation: String {
    switch self {
    case .focus: return "focus.score"
    case .segmenter: return "segmenter.segment"
    case .embedder: return "embedder.embed"
    case .probe: return "probe.fit"
    case .explainer: return "explainer.explain"
    }
  }
}

/// A plugin's declaration of what it is and what it takes, readable without running it.
public struct PluginManifest: Codable, Hashable, Sendable {
  public var id: String
  public var name: String
  public var kind: PluginKind
  public var version: String
  public var abiVersion: Int
  public var description: String
  public var methods: [String]
  public var parameters: [ParameterSpec]
  public var outputs: [OutputSpec]

  enum CodingKeys: String, CodingKey {
    case id, name, kind, version, description, methods, parameters, outputs
    case abiVersion = "abi_version"
  }

  public init(
    id: String, name: String, kind: PluginKind, version: String, abiVersion: Int, description: String,
    methods: [String]? = nil, parameters: [ParameterSpec] = [], outputs: [OutputSpec] = []
  ) {
    self.id = id
    self.name = name
    self.kind = kind
    self.version = version
    self.abiVersion = abiVersion
    self.description = description
    self.methods = methods ?? [kind.operation]
    self.parameters = parameters
    self.outputs = outputs
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    name = try c.decodeIfPresent(String.self, forKey: .name) ?? id
    kind = try c.decode(PluginKind.self, forKey: .kind)
    version = try c.decode(String.self, forKey: .version)
    abiVersion = try c.decode(Int.self, forKey: .abiVersion)
    description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
    methods = try c.decodeIfPresent([String].self, forKey: .methods) ?? [kind.operation]
    parameters = try c.decodeIfPresent([ParameterSpec].self, forKey: .parameters) ?? []
    outputs = try c.decodeIfPresent([OutputSpec].self, forKey: .outputs) ?? []
  }
}

/// One tunable parameter of a plugin.
public struct ParameterSpec: Codable, Hashable, Sendable {
  public enum ValueType: String, Codable, Sendable { case integer, number, string, boolean }

  public var name: String
  public var type: ValueType
  public var defaultValue: JSONValue
  public var minimum: Double?
  public var maximum: Double?
  public var choices: [String]?
  public var description: String

  enum CodingKeys: String, CodingKey {
    case name, type, minimum, maximum, choices, description
    case defaultValue = "default"
  }

  public init(
    name: String, type: ValueType, default defaultValue: JSONValue, minimum: Double? = nil, maximum: Double? = nil,
    choices: [String]? = nil, description: String
  ) {
    self.name = name
    self.type = type
    self.defaultValue = defaultValue
    self.minimum = minimum
    self.maximum = maximum
    self.choices = choices
    self.description = description
  }

  /// Why `value` is not acceptable for this parameter, or nil when it is.
  public func problem(with value: JSONValue) -> String? {
    switch (type, value) {
    case (.integer, _) where value.intValue != nil: break
    case (.number, .int), (.number, .double), (.string, .string), (.boolean, .bool): break
    default: return "parameter \(name) must be of type \(type.rawValue), got \(value.typeName)"
    }
    if let number = value.doubleValue {
      let text = { (x: Double) in x.rounded() == x && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
      if let minimum, number < minimum { return "parameter \(name) = \(text(number)) is below its minimum \(text(minimum))" }
      if let maximum, number > maximum { return "parameter \(name) = \(text(number)) is above its maximum \(text(maximum))" }
    }
    if let choices, let s = value.stringValue, !choices.contains(s) {
      return "parameter \(name) = \"\(s)\" is not one of \(choices.joined(separator: ", "))"
    }
    return nil
  }
}

/// One output a plugin produces: a named measure, a tensor kept in the run store, or a table.
///
/// A measure's `name` is the start of the names it stands for: `ImageQuality_FocusScore` covers
/// `ImageQuality_FocusScore` of every channel, `ImageStats_Foreground` every `ImageStats_Foreground...`; the longest
/// output name that starts a measurement's name decides its `role`, which tells the audit what the measurement is
/// about (and so which feature sets it joins: focus is a nuisance, intensity a hand feature).
public struct OutputSpec: Codable, Hashable, Sendable {
  public enum OutputType: String, Codable, Sendable { case measure, tensor, table, json }
  /// The roles a measure may declare (ConfoundCore's `FeatureRole`).
  public static let roles = ["focus", "density", "intensity", "texture", "shape", "position", "embedding", "other"]
  public var name: String
  public var type: OutputType
  public var unit: String?
  /// One of `OutputSpec.roles`; nil: the host infers it from CellProfiler's naming, or calls it `other`.
  public var role: String?
  public var description: String

  public init(name: String, type: OutputType, unit: String? = nil, role: String? = nil, description: String) {
    self.name = name
    self.type = type
    self.unit = unit
    self.role = role
    self.description = description
  }
}

extension PluginManifest {
  /// The declared role of a measurement named `measure` (the output with the longest name it starts with).
  public func declaredRole(ofMeasure measure: String) -> String? {
    outputs.filter { ($0.type == .measure || $0.type == .table) && $0.role != nil && measure.hasPrefix($0.name) }
      .max { $0.name.count < $1.name.count }?.role
  }
}
