/// CellProfiler MeasureImageQuality's blur and saturation measures computed from intensities alone.
public enum ImageQuality {
  /// `ImageQuality_FocusScore`: the normalised variance `var(x) / mean(x)` (population variance), 0 when the mean
  /// is not positive. Uniform noise on [0, 1) scores 1/6. Scales linearly with intensity: CellProfiler's values
  /// assume intensities divided by the bit depth's maximum.
  public static func focusScore(_ plane: FocusPlane) -> Double {
    focusScore(plane.pixels.withUnsafeBufferPointer(PlaneMoments.init))
  }

  /// `focusScore` of a plane with moments `m`.
  static func focusScore(_ m: PlaneMoments) -> Double { m.mean > 0 ? m.variance / m.mean : 0 }

  /// `ImageQuality_LocalFocusScore_<scale>`: the image is cut into `ceil(height/scale) x ceil(width/scale)` tiles
  /// (row `y` falls in tile row `floor(y * tileRows / height)`, likewise for columns, as CellProfiler does); each
  /// tile whose mean is non-zero gets its normalised variance `var / mean`; the score is the population variance
  /// of those values divided by their median (0 when the median is not positive or there are no tiles).
  public static func localFocusScore(_ plane: FocusPlane, scale: Int) throws -> Double {
    guard scale >= 1 else {
      throw FocusMeasuresError.invalidArgument("localFocusScore: scale \(scale) must be at least 1 pixel")
    }
    let tiles = TileGrid(width: plane.width, height: plane.height, scale: scale)
    var sums = [Double](repeating: 0, count: tiles.count)
    var counts = [Double](repeating: 0, count: tiles.count)
    var squares = [Double](repeating: 0, count: tiles.count)
    var means: [Double] = []
    // Each row crosses the tiles of its tile row in runs of columns; a run is summed in a register, in the same
    // order as pixel by pixel, so every tile's sums are the same as a per-pixel loop's.
    let runs = tiles.columnRuns
    plane.pixels.withUnsafeBufferPointer { p in
      for y in 0..<plane.height {
        let rowBase = tiles.rowTile[y] * tiles.columns
        let row = p.baseAddress! + y * plane.width
        for (c, run) in runs.enumerated() {
          var sum = sums[rowBase + c]
          for x in run { sum += Double(row[x]) }
          sums[rowBase + c] = sum
          counts[rowBase + c] += Double(run.count)
        }
      }
      means = zip(sums, counts).map { $0 / $1 }
      // Second pass around each tile's mean: exact enough for dim, flat tiles where E[x^2]-E[x]^2 would cancel.
      for y in 0..<plane.height {
        let rowBase = tiles.rowTile[y] * tiles.columns
        let row = p.baseAddress! + y * plane.width
        for (c, run) in runs.enumerated() {
          let mean = means[rowBase + c]
          var square = squares[rowBase + c]
          for x in run {
            let d = Double(row[x]) - mean
            square += d * d
          }
          squares[rowBase + c] = square
        }
      }
    }
    var normalised: [Double] = []
    for t in 0..<tiles.count where means[t] != 0 && !means[t].isNaN {
      normalised.append(squares[t] / (counts[t] * means[t]))
    }
    guard !normalised.isEmpty else { return 0 }
    let median = SampleStatistics.median(normalised)
    guard median.isFinite, median > 0 else { return 0 }
    return SampleStatistics.variance(normalised) / median
  }

  /// `ImageQuality_PercentMaximal` and `ImageQuality_PercentMinimal`: the percentage of pixels equal to the
  /// image's own maximum and minimum (not the bit depth's), in one pass.
  public static func percentMaximalMinimal(_ plane: FocusPlane) -> (maximal: Double, minimal: Double) {
    var hi = -Float.infinity
    var lo = Float.infinity
    var nHi = 0
    var nLo = 0
    plane.pixels.withUnsafeBufferPointer { p in
      for v in p {
        if v > hi {
          hi = v
          nHi = 1
        } else if v == hi {
          nHi += 1
        }
        if v < lo {
          lo = v
          nLo = 1
        } else if v == lo {
          nLo += 1
        }
      }
    }
    let n = Double(plane.count)
    return (100 * Double(nHi) / n, 100 * Double(nLo) / n)
  }
}

/// CellProfiler's tiling of an image at a spatial scale: `ceil(size/scale)` tiles per axis, pixel `i` of an axis
/// of length `n` in tile `floor(i * tiles / n)` (so tiles differ in size by at most one pixel).
struct TileGrid {
  let rows: Int
  let columns: Int
  let rowTile: [Int]
  let columnTile: [Int]
  var count: Int { rows * columns }

  init(width: Int, height: Int, scale: Int) {
    rows = (height + scale - 1) / scale
    columns = (width + scale - 1) / scale
    rowTile = (0..<height).map { [rows] in $0 * rows / height }
    columnTile = (0..<width).map { [columns] in $0 * columns / width }
  }

  /// The columns of each tile column, in order (tile columns are contiguous: `columnTile` never decreases).
  var columnRuns: [Range<Int>] {
    (0..<columns).map { c in
      (columnTile.firstIndex(of: c) ?? 0)..<((columnTile.lastIndex(of: c) ?? -1) + 1)
    }
  }
}
