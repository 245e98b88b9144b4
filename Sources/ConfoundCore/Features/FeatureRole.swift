import Foundation

/// What a per-site or per-well measurement says about a sample, which decides the feature sets the audit builds
/// (density alone, focus alone, hand features, embeddings) and the families the explainer permutes together.
///
/// A plugin declares the role of each output in its manifest (`OutputSpec.role`, the raw values here); a table
/// imported from CellProfiler or pycytominer gets roles from CellProfiler's measurement names
/// (`FeatureRole.infer(cellProfilerName:)`), since such a file carries no manifest.
public enum FeatureRole: String, Codable, Sendable, CaseIterable, Comparable {
  /// Image quality: focus and blur measures, saturation, the learned defocus score. A nuisance, never biology.
  case focus
  /// Cell density: nuclei counts per site. A nuisance that biology can cause (the paper's ALS confounder).
  case density
  /// Intensity statistics of the image or of objects.
  case intensity
  /// Texture (co-occurrence, granularity, correlation between channels).
  case texture
  /// Object size and shape.
  case shape
  /// Where the well or object is: row, column, distance to the edge, object location in the image.
  case position
  /// A learned embedding (CNN features).
  case embedding
  /// Anything else (identifiers, counts of other objects, unknown CellProfiler modules).
  case other

  /// Whether the role describes the cells themselves (the "hand features" of the paper), not the imaging or the layout.
  public var isHandFeature: Bool {
    switch self {
    case .intensity, .texture, .shape, .density, .other: return true
    case .focus, .position, .embedding: return false
    }
  }

  public static func < (a: FeatureRole, b: FeatureRole) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }

  /// The role of a CellProfiler / pycytominer measurement from its name (`Cells_AreaShape_Area`,
  /// `ImageQuality_FocusScore_DNA`, `Count_Nuclei`, `Nuclei_Texture_Contrast_DNA_3_00_256`), or nil for
  /// metadata and bookkeeping columns (`Metadata_*`, `ImageNumber`, `ObjectNumber`, file and path names,
  /// execution times), also behind an object or `Image_` prefix as ExportToDatabase writes them
  /// (`Image_Metadata_Plate`, `Image_ExecutionTime_01LoadData`, `Nuclei_Number_Object_Number`).
  public static func infer(cellProfilerName name: String) -> FeatureRole? {
    let parts = name.split(separator: "_").map(String.init)
    guard let first = parts.first else { return nil }
    if bookkeeping.contains(first) || identifiers.contains(name) { return nil }
    if let role = roles[first] { return role }
    // Object-level names start with the object (Cells, Nuclei, Cytoplasm, Image, or any other object the
    // pipeline named): the module comes second.
    guard parts.count > 1 else { return .other }
    let module = parts[1]
    if bookkeeping.contains(module) || ["Number", "Parent", "TableNumber"].contains(module)
      || identifiers.contains(parts.dropFirst().joined(separator: "_"))
    {
      return nil
    }
    return roles[module] ?? .other
  }

  /// CellProfiler modules (the first part of an image measurement, the second of an object's) and their roles.
  static let roles: [String: FeatureRole] = [
    "ImageQuality": .focus, "Focus": .focus, "Defocus": .focus,
    "Count": .density,
    "Intensity": .intensity, "ImageStats": .intensity, "ImageIntensity": .intensity, "RadialDistribution": .intensity,
    "Texture": .texture, "Granularity": .texture, "Correlation": .texture,
    "AreaShape": .shape, "Neighbors": .shape,
    "Location": .position, "Position": .position,
    "Embedding": .embedding, "DeepProfiler": .embedding,
  ]

  /// Column prefixes that describe the run, not the sample.
  static let bookkeeping: Set<String> = [
    "Metadata", "FileName", "PathName", "URL", "Series", "Frame", "MD5Digest", "Height", "Width", "Scaling",
    "ExecutionTime", "ModuleError", "Group", "Channel", "Threshold",
  ]
  static let identifiers: Set<String> = ["ImageNumber", "ObjectNumber", "TableNumber", "Number_Object_Number"]
}
