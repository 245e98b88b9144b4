import Foundation

/// Shape of one labelled object, matching `skimage.measure.regionprops` by value (row = y, column = x).
public struct ObjectShape: Sendable, Equatable {
  /// The object's label in the label image.
  public var label: Int32
  /// Pixel count (`area`).
  public var area: Int
  /// skimage's `perimeter` (4-connectivity border, weights 1, sqrt 2 and (1 + sqrt 2) / 2 by neighbourhood).
  public var perimeter: Double
  /// Pixel count of the convex hull image (`area_convex`).
  public var convexArea: Int
  /// Centroid, pixel centres at integer coordinates.
  public var centroidX: Double
  public var centroidY: Double
  /// Bounding box: first row/column and one past the last, as skimage's `bbox` (min_row, min_col, max_row, max_col).
  public var minRow: Int, minColumn: Int, maxRow: Int, maxColumn: Int
  /// Second central moments divided by the area (biased variances), in pixels squared.
  public var varianceRow: Double, varianceColumn: Double, covariance: Double

  /// area / convexArea.
  public var solidity: Double { Double(area) / Double(convexArea) }
  /// Eigenvalues of the inertia tensor, largest first.
  public var inertiaEigenvalues: (Double, Double) {
    let mean = (varianceRow + varianceColumn) / 2
    let root = (((varianceRow - varianceColumn) / 2) * ((varianceRow - varianceColumn) / 2)
      + covariance * covariance).squareRoot()
    return (mean + root, max(mean - root, 0))
  }
  /// 4 sqrt(largest eigenvalue) (`axis_major_length`).
  public var majorAxisLength: Double { 4 * inertiaEigenvalues.0.squareRoot() }
  /// 4 sqrt(smallest eigenvalue) (`axis_minor_length`).
  public var minorAxisLength: Double { 4 * inertiaEigenvalues.1.squareRoot() }
  /// sqrt(1 - smallest / largest eigenvalue); 0 for a single pixel.
  public var eccentricity: Double {
    let (large, small) = inertiaEigenvalues
    return large == 0 ? 0 : (1 - small / large).squareRoot()
  }
  /// Angle in radians between the row axis and the major axis, in [-pi/2, pi/2] (skimage's `orientation`).
  public var orientation: Double {
    // skimage's inertia tensor is [[a, b], [b, c]] = [[varColumn, -cov], [-cov, varRow]].
    let a = varianceColumn, b = -covariance, c = varianceRow
    if a - c == 0 { return b < 0 ? Double.pi / 4 : -Double.pi / 4 }
    return 0.5 * atan2(-2 * b, c - a)
  }
}
