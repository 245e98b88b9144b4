/// How touching nuclei are split after thresholding.
public enum Declumping: Sendable, Equatable {
  /// Connected components only.
  case none
  /// Watershed on the negated Euclidean distance transform, seeded at its spaced local maxima (shape-based).
  case distance
  /// Watershed on the negated smoothed intensity, seeded at its spaced local maxima (intensity-based).
  case intensity
}

/// Which automatic threshold splits nuclei from background.
public enum ThresholdMethod: Sendable, Equatable {
  /// Otsu on a 256-bin histogram (`skimage.filters.threshold_otsu`).
  case otsu
  /// Li's minimum cross-entropy (`skimage.filters.threshold_li`, CellProfiler's default).
  case li
}

/// The result of segmenting one plane: a label image with nuclei numbered 1...count, 0 = background.
public struct NucleusSegmentation: Sendable {
  public var labels: [Int32]
  public var width: Int
  public var height: Int
  /// Number of nuclei; labels run 1...count with no gap.
  public var count: Int
  /// The intensity threshold applied to the smoothed plane (after the correction factor), or nil when the plane
  /// is constant and no threshold exists.
  public var threshold: Float?
  /// Whether the plane was judged to hold any foreground (see `ForegroundTest`); false means count == 0.
  public var foregroundPresent: Bool
  /// The boundary contrast in units of the noise standard deviation that decided `foregroundPresent`.
  public var contrastToNoise: Double
}

/// A plane the segmenter refuses, with what to do about it.
public enum SegmentationError: Error, Equatable, CustomStringConvertible {
  case sizeMismatch(values: Int, width: Int, height: Int)
  case nonFinite(count: Int, firstIndex: Int)

  public var description: String {
    switch self {
    case let .sizeMismatch(values, width, height):
      return "plane has \(values) values but width \(width) x height \(height) = \(width * height) "
        + "(width and height must be positive): pass the plane's true dimensions"
    case let .nonFinite(count, firstIndex):
      return "plane has \(count) NaN or infinite values (first at index \(firstIndex), row-major): "
        + "replace them (e.g. by the median) or mask them before segmenting"
    }
  }
}

/// Unsupervised nucleus segmentation of one fluorescence plane (bright nuclei on a dark background).
///
/// Steps: Gaussian smoothing; a global automatic threshold (times `thresholdCorrection`); optional hole filling; the
/// foreground test (`ForegroundTest`: an empty field with only an illumination gradient gives 0 nuclei); removal
/// of components below `minimumArea`; declumping by marker-controlled watershed (markers: spaced local maxima,
/// `peak_local_max`-like with `minimumPeakDistance`); removal of objects outside the size limits and, optionally,
/// of objects touching the border; relabelling 1...N in raster order.
///
/// The defaults were chosen by a grid (sigma 0.75/1/1.5, peak distance 5/6/7, correction 1/1.1, holes filled or
/// not) on stardist-img2d and the 53 grey DSB2018 stage-1 test images together, one set of defaults for both,
/// for F1 at IoU 0.5 and count error: this is a tuning set, not a held-out estimate. AccuracyTests prints the
/// numbers beside scikit-image's classical pipeline on the same images.
public struct NucleusSegmenter: Sendable {
  /// Tunable parameters; all lengths and areas are in pixels.
  public struct Parameters: Sendable, Equatable {
    /// Gaussian sigma before thresholding. Default 0.75.
    public var smoothingSigma: Double = 0.75
    /// Default `.li`: it keeps dim nuclei that Otsu drops on both evaluation sets.
    public var thresholdMethod: ThresholdMethod = .li
    /// The automatic threshold is multiplied by this (CellProfiler's "threshold correction factor"). Default 1.
    public var thresholdCorrection: Float = 1.0
    /// Holes (background not connected to the border) of at most this many pixels are filled; 0 fills none.
    /// Default unlimited: without filling, large textured nuclei break into fragments (DSB mean relative count
    /// error 0.33 instead of 0.22), although F1 gains about 0.005 because filled gaps between touching nuclei
    /// change the distance map.
    public var maximumHoleArea: Int = .max
    /// Default `.distance`.
    public var declumping: Declumping = .distance
    /// Markers closer than this (Chebyshev) to a higher one are dropped. Default 5.
    public var minimumPeakDistance: Int = 5
    /// Objects smaller than this are removed (before and after declumping). Default 40.
    public var minimumArea: Int = 40
    /// Objects larger than this are removed. Default unlimited.
    public var maximumArea: Int = .max
    /// Remove objects with a pixel on the image border (CellProfiler's default is to remove them). Default false.
    public var dropBorderObjects: Bool = false
    /// The foreground test's cut, in noise standard deviations. Default 1.0.
    public var minimumContrastToNoise: Double = 1.0
    public init() {}
  }

  public var parameters: Parameters

  public init(_ parameters: Parameters = Parameters()) { self.parameters = parameters }

  /// Segments `plane` (row-major float32, `width * height` values). Throws for a size mismatch or NaN/infinite
  /// values; a constant plane (all black, saturated, 1x1) gives count 0 and `foregroundPresent == false`.
  public func segment(_ plane: [Float], width: Int, height: Int) throws -> NucleusSegmentation {
    guard width > 0, height > 0, plane.count == width * height else {
      throw SegmentationError.sizeMismatch(values: plane.count, width: width, height: height)
    }
    if let first = plane.firstIndex(where: { !$0.isFinite }) {
      throw SegmentationError.nonFinite(count: plane.lazy.filter { !$0.isFinite }.count, firstIndex: first)
    }
    let p = parameters
    let smoothed = GaussianSmoothing.smooth(plane, width: width, height: height, sigma: p.smoothingSigma)
    func empty(threshold: Float?, contrastToNoise: Double) -> NucleusSegmentation {
      NucleusSegmentation(
        labels: [Int32](repeating: 0, count: plane.count), width: width, height: height, count: 0,
        threshold: threshold, foregroundPresent: false, contrastToNoise: contrastToNoise)
    }
    let automatic = p.thresholdMethod == .li ? Threshold.li(smoothed) : Threshold.otsu(smoothed)
    guard let automatic, smoothed.contains(where: { $0 != smoothed[0] }) else {
      return empty(threshold: nil, contrastToNoise: 0)
    }
    let threshold = automatic * p.thresholdCorrection
    var mask = smoothed.map { $0 > threshold }
    var components = Labeling.label(mask, width: width, height: height)
    Labeling.fillHoles(labels: &components.labels, mask: &mask, count: components.count, width: width,
                       height: height, maximumHoleArea: p.maximumHoleArea)
    // Mask and complement both non-empty here (the threshold lies strictly between the plane's extremes), so
    // every distance is finite; nil only for a mask with no background, which the foreground test calls empty.
    guard let inside = DistanceTransform.squaredEuclidean(mask, width: width, height: height) else {
      return empty(threshold: threshold, contrastToNoise: 0)
    }
    // The test is calibrated on its own smoothing, whatever the segmentation's sigma.
    let testSigma = ForegroundTest.smoothingSigma
    let testPlane = p.smoothingSigma == testSigma
      ? smoothed : GaussianSmoothing.smooth(plane, width: width, height: height, sigma: testSigma)
    let test = ForegroundTest.evaluate(plane: plane, smoothed: testPlane, mask: mask, squaredInside: inside,
                                       width: width, height: height)
    guard test >= p.minimumContrastToNoise else { return empty(threshold: threshold, contrastToNoise: test) }
    var (labels, count) = declump(components, squaredDistance: inside, smoothed: smoothed, width: width,
                                  height: height)
    let border = p.dropBorderObjects ? Labeling.labelsTouchingBorder(labels, width: width, height: height) : []
    count = Labeling.filterAndRelabel(&labels, count: count, minimumArea: p.minimumArea, maximumArea: p.maximumArea,
                                      keep: { !border.contains($0) })
    return NucleusSegmentation(
      labels: labels, width: width, height: height, count: count, threshold: threshold,
      foregroundPresent: true, contrastToNoise: test)
  }

  /// Components of `mask` above the minimum area, split by the chosen watershed.
  private func declump(
    _ components: consuming (labels: [Int32], count: Int), squaredDistance: [Int32], smoothed: [Float], width: Int,
    height: Int
  ) -> (labels: [Int32], count: Int) {
    var large = components
    large.count = Labeling.filterAndRelabel(&large.labels, count: large.count, minimumArea: parameters.minimumArea)
    guard parameters.declumping != .none, large.count > 0 else { return large }
    let distance = parameters.declumping == .distance
    let peaks = distance
      ? Peaks.localMaxima(squaredDistance, labels: large.labels, count: large.count, width: width, height: height,
                          minDistance: parameters.minimumPeakDistance)
      : Peaks.localMaxima(smoothed, labels: large.labels, count: large.count, width: width, height: height,
                          minDistance: parameters.minimumPeakDistance)
    guard distance else {
      var markers = [Int32](repeating: 0, count: smoothed.count)
      for (order, index) in peaks.enumerated() { markers[index] = Int32(order + 1) }
      let flooded = Watershed.flood(surface: smoothed.map { -$0 }, markers: markers, mask: large.labels.map { $0 > 0 },
                                    width: width, height: height)
      return (flooded, peaks.count)
    }
    // Squared distances are integers: the bucket flood pops in the heap's order in linear time.
    let flooded = Watershed.flood(descendingLevels: squaredDistance, seeds: peaks, objects: large.labels,
                                  count: large.count, width: width, height: height)
    return (flooded, peaks.count)
  }
}
