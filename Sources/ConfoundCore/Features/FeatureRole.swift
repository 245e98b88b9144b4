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
  /// metadata columns (`Metadata_*`, `ImageNumber`, `ObjectNumber`, file and path names).
  public static func infer(cellProfilerName name: String) -> FeatureRole? {
    let parts = name.split(separator: "_").map(String.init)
    guard let first = parts.first else { return nil }
    if first == "Metadata" || ["ImageNumber", "ObjectNumber", "TableNumber"].contains(name) { return nil }
    if ["FileName", "PathName", "URL", "Series", "Frame", "MD5Digest", "Height", "Width", "Scaling", "ExecutionTime",
        "ModuleError", "Group", "Channel", "Threshold"].contains(first)
    {
      return nil
    }
    // Object-level names start with the object (Cells, Nuclei, Cytoplasm, ...): the module comes second.
    let modules = parts.first.map { ["Image", "Cells", "Nuclei", "Cytoplasm"].contains($0) } == true ? Array(parts.dropFirst()) : parts
    let module = modules.first ?? first
    switch module {
    case "ImageQuality", "Focus", "Defocus": return .focus
    case "Count": return .density
    case "Intensity", "ImageStats", "ImageIntensity", "RadialDistribution": return .intensity
    case "Texture", "Granularity", "Correlation": return .texture
    case "AreaShape", "Neighbors": return .shape
    case "Location", "Position": return .position
    case "Embedding", "DeepProfiler": return .embedding
    default:
      // pycytominer object prefixes for objects other than the three usual ones: look one part further.
      if parts.count > 2, ["AreaShape", "Intensity", "Texture", "Granularity", "Correlation", "RadialDistribution",
                           "Location", "Neighbors", "Count"].contains(parts[1])
      {
        return infer(cellProfilerName: "Cells_" + parts.dropFirst().joined(separator: "_"))
      }
      return .other
    }
  }
}
