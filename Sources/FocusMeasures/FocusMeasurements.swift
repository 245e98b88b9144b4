/// Every focus and image-quality measure of one plane, with CellProfiler's names where the definition is
/// CellProfiler's (`ImageQuality_*`), so downstream code written for CellProfiler's Image table keeps working.
///
/// Which to use as "the" focus score: on the shared test data the intensity-normalised gradient measures
/// (`brenner.normalised`, `tenengrad.normalised`) and the low-band power slope rank defocus correctly; `focusScore`
/// depends on brightness and `powerLogLogSlopeFullBand` ranks noisy far-from-focus images as sharp.
public struct FocusMeasurements: Sendable, Equatable {
  /// The spatial scale in pixels used by `localFocusScore` and `correlation` (CellProfiler's default is 20).
  public let scale: Int
  public let focusScore: Double
  public let localFocusScore: Double
  public let correlation: Double
  public let powerLogLogSlope: Double
  public let powerLogLogSlopeLowBand: Double
  public let powerLogLogSlopeFullBand: Double
  public let percentMaximal: Double
  public let percentMinimal: Double
  public let brenner: GradientSharpness.Value
  public let tenengrad: GradientSharpness.Value
  public let laplacianVariance: GradientSharpness.Value

  /// Measures `plane` at `scale` pixels. Throws when `scale < 1`.
  public init(_ plane: FocusPlane, scale: Int = 20) throws {
    self.scale = scale
    // One mean for every measure that needs it (each would otherwise take its own pass).
    let moments = plane.pixels.withUnsafeBufferPointer(PlaneMoments.init)
    focusScore = ImageQuality.focusScore(moments)
    localFocusScore = try ImageQuality.localFocusScore(plane, scale: scale)
    correlation = try ImageQuality.correlation(plane, scale: scale)
    let slopes = try PowerLogLogSlope.slopes(plane, mean: moments.mean)
    powerLogLogSlope = slopes.cellProfiler
    powerLogLogSlopeLowBand = slopes.lowBand
    powerLogLogSlopeFullBand = slopes.fullBand
    (percentMaximal, percentMinimal) = ImageQuality.percentMaximalMinimal(plane)
    brenner = GradientSharpness.normalise(GradientSharpness.rawBrenner(plane), plane, mean: moments.mean)
    tenengrad = GradientSharpness.normalise(GradientSharpness.rawTenengrad(plane), plane, mean: moments.mean)
    laplacianVariance = GradientSharpness.normalise(
      GradientSharpness.rawLaplacianVariance(plane), plane, mean: moments.mean)
  }

  /// `(name, value)` pairs without a channel, e.g. `ImageQuality_FocusScore`, `ImageQuality_LocalFocusScore_20`.
  public var named: [(String, Double)] { named(channel: nil) }

  /// `(name, value)` pairs in CellProfiler's pattern `ImageQuality_<Feature>_<channel>[_<scale>]`, e.g.
  /// `ImageQuality_LocalFocusScore_DNA_20`; without a channel the channel part is left out. Measures that
  /// CellProfiler does not have follow the same pattern; `...Normalized` is raw / mean^2.
  public func named(channel: String?) -> [(String, Double)] {
    let suffix = channel.map { "_\($0)" } ?? ""
    let scaled = "\(suffix)_\(scale)"
    return [
      ("ImageQuality_FocusScore\(suffix)", focusScore),
      ("ImageQuality_LocalFocusScore\(scaled)", localFocusScore),
      ("ImageQuality_Correlation\(scaled)", correlation),
      ("ImageQuality_PowerLogLogSlope\(suffix)", powerLogLogSlope),
      ("ImageQuality_PowerLogLogSlopeLowBand\(suffix)", powerLogLogSlopeLowBand),
      ("ImageQuality_PowerLogLogSlopeFullBand\(suffix)", powerLogLogSlopeFullBand),
      ("ImageQuality_PercentMaximal\(suffix)", percentMaximal),
      ("ImageQuality_PercentMinimal\(suffix)", percentMinimal),
      ("ImageQuality_Brenner\(suffix)", brenner.raw),
      ("ImageQuality_BrennerNormalized\(suffix)", brenner.normalised),
      ("ImageQuality_Tenengrad\(suffix)", tenengrad.raw),
      ("ImageQuality_TenengradNormalized\(suffix)", tenengrad.normalised),
      ("ImageQuality_LaplacianVariance\(suffix)", laplacianVariance.raw),
      ("ImageQuality_LaplacianVarianceNormalized\(suffix)", laplacianVariance.normalised),
    ]
  }
}
