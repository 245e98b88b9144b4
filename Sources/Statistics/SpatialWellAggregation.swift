extension SpatialBias {
  /// How per-site (per-image or per-cell) values are summarised to one value per well.
  public enum WellSummary: Sendable {
    case mean
    /// Robust to a single bad site (an out-of-focus image, a debris field); NumPy's median for even counts.
    case median
  }

  /// One value per well from per-site values: `wells[k]` is the row-major well index (`row * columns + column`) of
  /// `values[k]`. Wells without sites (or with only NaN values) are nil, ready for the other `SpatialBias` functions.
  public static func wellValues(
    wells: [Int], values: [Double], rows: Int, columns: Int, summary: WellSummary = .median
  ) throws -> [Double?] {
    guard wells.count == values.count else {
      throw StatisticsError.shape(
        "SpatialBias.wellValues: \(wells.count) well indices for \(values.count) values; pass one well per value")
    }
    guard rows >= 1, columns >= 1 else {
      throw StatisticsError.shape("SpatialBias.wellValues: a \(rows) x \(columns) plate has no wells")
    }
    var groups = [[Double]](repeating: [], count: rows * columns)
    for (well, value) in zip(wells, values) where !value.isNaN {
      guard (0..<(rows * columns)).contains(well) else {
        throw StatisticsError.invalidArgument(
          "SpatialBias.wellValues: well index \(well) is outside a \(rows) x \(columns) plate (0..<\(rows * columns))")
      }
      groups[well].append(value)
    }
    return groups.map { group in
      guard !group.isEmpty else { return nil }
      switch summary {
      case .mean: return mean(group)
      case .median: return median(group)
      }
    }
  }
}
