/// Decides whether a thresholded plane holds any real objects, because a global threshold always splits a
/// plane in two, even an empty field with only an illumination gradient and noise.
///
/// Rule: real nuclei have a sharp rim, a gradient or noise blob does not. With `mask` the thresholded plane and
/// `smoothed` the plane smoothed with sigma `smoothingSigma` (1 px, whatever the segmentation's sigma, so that
/// the cut stays calibrated), the contrast is mean(smoothed over mask pixels within 2 px of the edge) minus
/// mean(smoothed over background pixels within 2 px of the edge); the noise is the standard deviation of the
/// raw plane, estimated from second differences along rows (sigma = sqrt(pi/2) * mean|x[i-1] - 2x[i] + x[i+1]|
/// / sqrt(6), which ignores linear gradients and is insensitive to 8-bit quantisation). The score is
/// contrast / noise; the segmenter requires it to reach `minimumContrastToNoise` (default 1). A noiseless plane
/// has noise 0, and any positive contrast then gives an infinite score.
///
/// Measured with the segmenter's defaults: 1.8 to 39 on the 54 nucleus images of stardist-img2d and DSB2018;
/// 0.41 to 0.57 on simulated empty fields (gradients, vignetting, white noise, img2d's background statistics,
/// with Poisson plus Gaussian noise), because smoothing then thresholding noise yields blobs with a faint rim.
/// Known limit: the mask comes from one global threshold, so dim nuclei on an illumination gradient larger than
/// their own contrast are judged by the gradient's rim and can be called empty.
public enum ForegroundTest {
  /// The Gaussian sigma of the plane whose rim contrast is measured.
  public static let smoothingSigma = 1.0
  /// The edge ring width in pixels on each side of the mask boundary.
  public static let ringWidth = 2  // the outer ring's offsets in `evaluate` assume 2

  /// The contrast-to-noise score; 0 when the mask or its complement is empty. `squaredInside` is the squared
  /// distance of each mask pixel to the background (`DistanceTransform.squaredEuclidean(mask)`).
  public static func evaluate(
    plane: [Float], smoothed: [Float], mask: [Bool], squaredInside: [Int32], width: Int, height: Int
  ) -> Double {
    precondition(plane.count == width * height && smoothed.count == plane.count && mask.count == plane.count
      && squaredInside.count == plane.count, "sizes differ")
    // A Bool is one byte holding 0 or 1, layout-compatible with UInt8.
    let (innerSum, innerCount, outerSum, outerCount) = mask.withUnsafeBufferPointer {
      $0.withMemoryRebound(to: UInt8.self) { m in
        smoothed.withUnsafeBufferPointer { smoothed in
          squaredInside.withUnsafeBufferPointer { inside in
            ringSums(mask: m, smoothed: smoothed, squaredInside: inside, width: width, height: height)
          }
        }
      }
    }
    guard innerCount > 0, outerCount > 0 else { return 0 }
    let contrast = innerSum / Double(innerCount) - outerSum / Double(outerCount)
    let noise = noiseSigma(plane, width: width, height: height)
    guard noise > 0 else { return contrast > 0 ? .infinity : 0 }
    return contrast / noise
  }

  /// Sums and counts of `smoothed` over the inner ring (mask pixels with squared distance <= 4 to the
  /// background) and the outer ring (background pixels with a mask pixel at squared offset <= 4, i.e. in the
  /// 3x3 block or 2 px left, right, up or down: the 3-wide row dilation of rows y-1...y+1, the 5-wide one of
  /// row y, rows y +- 2). Row dilations are kept for three rows only, as bytes so that the loops have no branches.
  private static func ringSums(
    mask m: UnsafeBufferPointer<UInt8>, smoothed: UnsafeBufferPointer<Float>,
    squaredInside inside: UnsafeBufferPointer<Int32>, width: Int, height: Int
  ) -> (Double, Int, Double, Int) {
    let ring = Int32(ringWidth * ringWidth)
    var innerSum = 0.0, innerCount = 0, outerSum = 0.0, outerCount = 0
    let three = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * width)
    defer { three.deallocate() }
    let five = three + 3 * width
    func dilate(_ y: Int) {
      let row = y * width, slot = three + (y % 3) * width
      for x in 0..<width {
        slot[x] = m[row + x] | (x > 0 ? m[row + x - 1] : 0) | (x + 1 < width ? m[row + x + 1] : 0)
      }
    }
    dilate(0)
    for y in 0..<height {
      if y + 1 < height { dilate(y + 1) }
      let row = y * width
      for x in 0..<width {
        five[x] = three[(y % 3) * width + x] | (x > 1 ? m[row + x - 2] : 0) | (x + 2 < width ? m[row + x + 2] : 0)
      }
      let up = ((y > 0 ? y - 1 : y) % 3) * width, down = ((y + 1 < height ? y + 1 : y) % 3) * width
      let up2 = y > 1 ? row - 2 * width : row, down2 = y + 2 < height ? row + 2 * width : row
      for x in 0..<width {
        let index = row + x
        if m[index] != 0 {
          if inside[index] <= ring { innerSum += Double(smoothed[index]); innerCount += 1 }
        } else if (three[up + x] | three[down + x] | five[x] | m[up2 + x] | m[down2 + x]) != 0 {
          outerSum += Double(smoothed[index]); outerCount += 1
        }
      }
    }
    return (innerSum, innerCount, outerSum, outerCount)
  }

  /// Noise standard deviation from second differences along rows (exact for white Gaussian noise on a
  /// linear background); 0 when the plane is narrower than 3 pixels.
  public static func noiseSigma(_ plane: [Float], width: Int, height: Int) -> Double {
    guard width >= 3 else { return 0 }
    var total = 0.0
    plane.withUnsafeBufferPointer { plane in
      for y in 0..<height {
        let row = y * width
        // Per row in four Float lanes (so the loop vectorises; exact enough over one row), summed in Double.
        var lanes = SIMD4<Float>()
        var x = 1
        while x + 4 <= width - 1 {
          let left = SIMD4<Float>(plane[row + x - 1], plane[row + x], plane[row + x + 1], plane[row + x + 2])
          let centre = SIMD4<Float>(plane[row + x], plane[row + x + 1], plane[row + x + 2], plane[row + x + 3])
          let right = SIMD4<Float>(plane[row + x + 1], plane[row + x + 2], plane[row + x + 3], plane[row + x + 4])
          let second = left - 2 * centre + right
          lanes += SIMD4<Float>(abs(second[0]), abs(second[1]), abs(second[2]), abs(second[3]))
          x += 4
        }
        var rowTotal = Double(lanes.sum())
        for x in x..<(width - 1) {
          rowTotal += Double(abs(plane[row + x - 1] - 2 * plane[row + x] + plane[row + x + 1]))
        }
        total += rowTotal
      }
    }
    let mean = total / Double(height * (width - 2))
    return (Double.pi / 2).squareRoot() * mean / 6.0.squareRoot()
  }
}
