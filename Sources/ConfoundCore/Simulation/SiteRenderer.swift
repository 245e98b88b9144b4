import Foundation

/// Renders one simulated site: textured nuclei (DNA) and cytoplasm (other channels), blur, illumination and
/// camera noise, as 16-bit ADU values stored in float planes.
///
/// The image model, in photo-electrons before the camera: each cell is a nucleus ellipse (semi-axes about
/// `nucleusRadius`) inside a cytoplasm ellipse about twice as large, each with a soft edge, a per-cell brightness
/// (log-normal, sigma 0.3) and a smooth multiplicative texture. The clean image is blurred (Gaussian, the well's
/// sigma), shaded by the batch's vignetting, scaled by plate gain and well intensity, then the camera adds
/// Poisson shot noise, a 100-ADU-ish offset and Gaussian read noise (sigma 3 ADU), and clips to 0...65535.
struct SiteRenderer {
  let config: SimulationConfig
  let plate: SimulationTruth.PlateTruth
  let well: SimulationTruth.WellTruth

  /// One plane per channel, `width * height` row-major, and the number of cells drawn.
  func render(site: Int, plateIndex: Int, wellIndex: Int) -> (planes: [[Float]], cells: Int) {
    var rng = RandomSource(seed: config.seed, stream: [2, UInt64(plateIndex), UInt64(wellIndex), UInt64(site)])
    let cells = drawCells(&rng)
    var planes: [[Float]] = []
    for channel in 0..<config.channels {
      var clean = [Float](repeating: 0, count: config.width * config.height)
      let texture = smoothNoise(&rng, spacing: channel == 0 ? 5 : [0, 7, 4, 9, 3][channel])
      for cell in cells { paint(cell, channel: channel, into: &clean) }
      applyTexture(texture, to: &clean)
      if well.blurSigma > 0.3 {
        gaussianBlur(&clean, width: config.width, height: config.height, sigma: well.blurSigma)
      }
      planes.append(camera(clean, &rng))
    }
    return (planes, cells.count)
  }

  struct Cell {
    var x, y, a, b, angle: Double
    var cytoScale, cytoAngle: Double
    var brightness: [Double]
  }

  func drawCells(_ rng: inout RandomSource) -> [Cell] {
    let count = Int(rng.poisson(well.meanCells))
    let r = config.nucleusRadius * well.nucleusScale
    var cells: [Cell] = []
    for _ in 0..<count {
      // Rejection keeps nuclei from piling on each other, as contact inhibition does; give up after 30 tries.
      var x = 0.0
      var y = 0.0
      for _ in 0..<30 {
        x = rng.uniform() * Double(config.width)
        y = rng.uniform() * Double(config.height)
        if !cells.contains(where: { ($0.x - x) * ($0.x - x) + ($0.y - y) * ($0.y - y) < (2.2 * r) * (2.2 * r) }) {
          break
        }
      }
      let size = r * exp(0.15 * rng.normal())
      let shared = 0.3 * rng.normal()
      cells.append(
        Cell(
          x: x, y: y, a: size * (1 + 0.12 * abs(rng.normal())), b: size / (1 + 0.12 * abs(rng.normal())),
          angle: rng.uniform() * Double.pi, cytoScale: 1.8 + 0.3 * rng.uniform(), cytoAngle: rng.uniform() * Double.pi,
          brightness: (0..<config.channels).map { _ in exp(shared + 0.2 * rng.normal()) }))
    }
    return cells
  }

  /// Soft-edged ellipse: 1 inside, 0 outside, a logistic edge about two pixels wide.
  @inline(__always) static func profile(_ rho: Double) -> Double { 1 / (1 + exp((rho - 1) * 9)) }

  func paint(_ cell: Cell, channel: Int, into plane: inout [Float]) {
    let nucleusLevel = 900.0
    let cytoLevel = [0, 260, 180, 220, 240][channel]
    let extent = channel == 0 ? 1.3 * cell.a : 1.3 * cell.a * cell.cytoScale
    let (w, h) = (config.width, config.height)
    let x0 = max(0, Int(cell.x - extent))
    let x1 = min(w - 1, Int(cell.x + extent))
    let y0 = max(0, Int(cell.y - extent))
    let y1 = min(h - 1, Int(cell.y + extent))
    guard x0 <= x1, y0 <= y1 else { return }
    let (cn, sn) = (cos(cell.angle), sin(cell.angle))
    let (cc, sc) = (cos(cell.cytoAngle), sin(cell.cytoAngle))
    let brightness = cell.brightness[channel]
    plane.withUnsafeMutableBufferPointer { p in
      for y in y0...y1 {
        for x in x0...x1 {
          let dx = Double(x) - cell.x
          let dy = Double(y) - cell.y
          let u = (dx * cn + dy * sn) / cell.a
          let v = (-dx * sn + dy * cn) / cell.b
          let nucleus = SiteRenderer.profile((u * u + v * v).squareRoot())
          let value: Double
          if channel == 0 {
            value = nucleusLevel * nucleus
          } else {
            let cu = (dx * cc + dy * sc) / (cell.a * cell.cytoScale)
            let cv = (-dx * sc + dy * cc) / (cell.b * cell.cytoScale * 0.85)
            let cyto = SiteRenderer.profile((cu * cu + cv * cv).squareRoot())
            // RNA stains nucleoli too; the other stains leave the nucleus dimmer than the cytoplasm.
            value = Double(cytoLevel) * cyto * (1 - (channel == 2 ? 0.2 : 0.55) * nucleus)
          }
          p[y * w + x] += Float(value * brightness)
        }
      }
    }
  }

  /// Value noise on a grid of `spacing` pixels, bilinearly interpolated, mean 0 and sd about 0.6.
  func smoothNoise(_ rng: inout RandomSource, spacing: Int) -> [Float] {
    let gw = config.width / spacing + 2
    let gh = config.height / spacing + 2
    let grid = (0..<gw * gh).map { _ in Float(rng.normal()) }
    var out = [Float](repeating: 0, count: config.width * config.height)
    let inv = 1 / Float(spacing)
    for y in 0..<config.height {
      let fy = Float(y) * inv
      let gy = Int(fy)
      let ty = fy - Float(gy)
      for x in 0..<config.width {
        let fx = Float(x) * inv
        let gx = Int(fx)
        let tx = fx - Float(gx)
        let top = grid[gy * gw + gx] * (1 - tx) + grid[gy * gw + gx + 1] * tx
        let bottom = grid[(gy + 1) * gw + gx] * (1 - tx) + grid[(gy + 1) * gw + gx + 1] * tx
        out[y * config.width + x] = top * (1 - ty) + bottom * ty
      }
    }
    return out
  }

  func applyTexture(_ texture: [Float], to plane: inout [Float]) {
    for i in plane.indices { plane[i] *= max(0, 1 + 0.35 * texture[i]) }
  }

  /// Gain, vignetting, shot noise, offset, read noise, 16-bit clipping; values are whole ADU.
  func camera(_ clean: [Float], _ rng: inout RandomSource) -> [Float] {
    let readNoise = 3.0
    let (w, h) = (config.width, config.height)
    let gain = plate.gain * well.intensity
    let cx = Double(w - 1) / 2
    let cy = Double(h - 1) / 2
    let r2max = cx * cx + cy * cy
    var out = [Float](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w {
        let dx = Double(x) - cx
        let dy = Double(y) - cy
        let shade = 1 - plate.vignetting * (dx * dx + dy * dy) / r2max
        // 15 e- of autofluorescence and stray light everywhere, then the signal. Above 30 e- shot noise plus read
        // noise is one normal of variance mean + 9 (the Poisson law's normal limit); below, exact Poisson.
        let mean = (15 + Double(clean[y * w + x])) * gain * shade
        let adu =
          mean >= 30
          ? plate.offset + mean + (mean + readNoise * readNoise).squareRoot() * rng.normal()
          : plate.offset + rng.poisson(mean) + readNoise * rng.normal()
        out[y * w + x] = Float(min(65535, max(0, adu.rounded())))
      }
    }
    return out
  }
}

/// Separable Gaussian blur, kernel truncated at 3 sigma, edges clamped (replicated).
func gaussianBlur(_ plane: inout [Float], width: Int, height: Int, sigma: Double) {
  let radius = max(1, Int((3 * sigma).rounded(.up)))
  var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
  let total = kernel.reduce(0, +)
  kernel = kernel.map { $0 / total }
  // Each pass reads a padded copy of one line, so the inner loop has no bounds clamping.
  var line = [Float](repeating: 0, count: max(width, height) + 2 * radius)
  plane.withUnsafeMutableBufferPointer { p in
    kernel.withUnsafeBufferPointer { k in
      line.withUnsafeMutableBufferPointer { l in
        func blurLine(count: Int, stride: Int, start: Int) {
          for i in 0..<count { l[radius + i] = p[start + i * stride] }
          for i in 0..<radius {
            l[i] = l[radius]
            l[radius + count + i] = l[radius + count - 1]
          }
          for i in 0..<count {
            var s: Float = 0
            for j in 0..<k.count { s += k[j] * l[i + j] }
            p[start + i * stride] = s
          }
        }
        for y in 0..<height { blurLine(count: width, stride: 1, start: y * width) }
        for x in 0..<width { blurLine(count: height, stride: width, start: x) }
      }
    }
  }
}
