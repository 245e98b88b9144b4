import JSONRPC

/// Checks a manifest the way the host does before it accepts a plugin. Each problem says how to fix it.
public enum ManifestValidation {
  /// The manifest's JSON text, decoded and checked; throws `ManifestError` listing every problem.
  public static func validate(json text: String, hostABI: Int) throws -> PluginManifest {
    let value: JSONValue
    do {
      value = try JSONParser.parse(Array(text.utf8))
    } catch {
      throw ManifestError(problems: ["manifest_json is not valid JSON (\(error)): return a JSON object"])
    }
    guard case .object(let object) = value else {
      throw ManifestError(problems: ["manifest_json must be a JSON object, got \(value.typeName)"])
    }
    var problems: [String] = []
    for field in ["id", "kind", "version", "abi_version"] where object[field] == nil {
      problems.append("manifest has no \"\(field)\": add it (see Protocol/README.md, \"The manifest\")")
    }
    if let kind = object["kind"]?.stringValue, PluginKind(rawValue: kind) == nil {
      let kinds = PluginKind.allCases.map(\.rawValue).joined(separator: ", ")
      problems.append("manifest kind \"\(kind)\" is not a plugin kind: use one of \(kinds)")
    }
    if !problems.isEmpty { throw ManifestError(problems: problems) }
    let manifest: PluginManifest
    do {
      manifest = try JSONCodec.decode(PluginManifest.self, from: value)
    } catch {
      throw ManifestError(problems: ["manifest does not fit the schema: \(JSONCodec.describe(error).message)"])
    }
    problems += check(manifest, hostABI: hostABI)
    if !problems.isEmpty { throw ManifestError(problems: problems) }
    return manifest
  }

  /// The problems of a decoded manifest; empty when it is valid.
  public static func check(_ m: PluginManifest, hostABI: Int) -> [String] {
    var problems: [String] = []
    let idCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
    if m.id.isEmpty || !m.id.allSatisfy(idCharacters.contains) {
      problems.append("id \"\(m.id)\" must be non-empty lowercase letters, digits, '.', '-' or '_' (e.g. \"lab.focus-cnn\")")
    }
    let parts = m.version.split(separator: ".", omittingEmptySubsequences: false)
    if parts.count != 3 || !parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
      problems.append("version \"\(m.version)\" must be MAJOR.MINOR.PATCH, e.g. \"1.0.0\"")
    }
    if m.abiVersion < 1 || m.abiVersion > hostABI {
      problems.append("abi_version \(m.abiVersion) is not supported by this host (1...\(hostABI)): rebuild the plugin against this host's confound_plugin.h")
    }
    if !m.methods.contains(m.kind.operation) {
      problems.append("methods must include the kind's operation \"\(m.kind.operation)\"")
    }
    var seen = Set<String>()
    for p in m.parameters {
      if !seen.insert(p.name).inserted { problems.append("parameter \(p.name) is declared twice: keep one") }
      if let problem = p.problem(with: p.defaultValue) { problems.append("the default of \(problem.dropFirst(10))") }
      if let lo = p.minimum, let hi = p.maximum, lo > hi {
        problems.append("parameter \(p.name) has minimum \(lo) above maximum \(hi): swap them")
      }
    }
    for o in m.outputs {
      if let role = o.role, !OutputSpec.roles.contains(role) {
        problems.append("output \(o.name) has role \"\(role)\": use one of \(OutputSpec.roles.joined(separator: ", "))")
      }
    }
    return problems
  }

  /// Fills defaults and checks the values a request gives for a plugin's parameters.
  /// Unknown names and values of the wrong type or out of range are errors naming the parameter.
  public static func resolve(_ given: JSONObject?, against specs: [ParameterSpec]) throws -> JSONObject {
    var resolved = JSONObject()
    let known = Set(specs.map(\.name))
    for member in given ?? JSONObject() where !known.contains(member.key) {
      let list = specs.map(\.name).joined(separator: ", ")
      throw ParameterError(field: "parameters.\(member.key)",
                           message: "unknown parameter \(member.key); this plugin takes: \(list.isEmpty ? "none" : list)")
    }
    for spec in specs {
      let value = given?[spec.name] ?? spec.defaultValue
      if let problem = spec.problem(with: value) { throw ParameterError(field: "parameters.\(spec.name)", message: problem) }
      resolved[spec.name] = value
    }
    return resolved
  }
}

/// A manifest the host refused, with every problem found.
public struct ManifestError: Error, CustomStringConvertible {
  public let problems: [String]
  public var description: String { "invalid manifest: " + problems.joined(separator: "; ") }
}

/// A request parameter that does not fit the manifest.
public struct ParameterError: Error, CustomStringConvertible {
  public let field: String
  public let message: String
  public var description: String { message }
}
