import Foundation

/// t-SNE's repulsive forces by polynomial interpolation on an equispaced grid with FFT convolution (FIt-SNE,
/// Linderman et al. 2019, Nature Methods), the scheme openTSNE uses from 10,000 points; O(N + G log G) per step for
/// a grid of G nodes instead of O(N log N) tree walks.
///
/// The square spanning the embedding is cut into boxes x boxes equal boxes, each with 3 x 3 Lagrange nodes at the
/// thirds' midpoints. Every point spreads the four charges 1, y1, y2, |y|^2 onto its box's 9 nodes with the
/// interpolation weights; the kernel 1 / (1 + d^2)^2 between all node pairs is applied to each charge grid as one
/// 2-D convolution (circulant embedding of size 2M per side for M nodes per side, evaluated by FFT); the four
/// potentials are interpolated back to each point. With w_ij = 1 / (1 + d_ij^2), they give
/// sum_j w_ij = (1 + |y_i|^2) phi_1 - 2 y_i . (phi_y1, phi_y2) + phi_|y|^2 (since w = (1 + d^2) w^2) and
/// sum_j w_ij^2 (y_i - y_j) = y_i phi_1 - (phi_y1, phi_y2).
///
/// Boxes per side: the span in embedding units (one box per unit, as openTSNE's `ints_in_interval` 1), at least 20
/// and at most 1,000, rounded up to a product of 2s and 3s so the FFT length 6 x boxes is too (openTSNE rounds up
/// to FFTW's fast sizes, a superset of these, so our grid is never coarser than its).
enum TSNEInterpolation {
  /// The boxes per side for an embedding spanning `span` units on its longer side.
  static func boxes(span: Double) -> Int {
    let wanted = span.isFinite ? Int(min(max(span.rounded(.up), 20), 1000)) : 1000
    return TSNEFourier.smoothLength(atLeast: wanted)
  }

  /// Whether this step is expected to be faster by interpolation than by Barnes-Hut: grid work L^2 log2 L (FFT side
  /// L = 6 x boxes) against tree work N log2 N, weighted 1 : 28 as measured for the two implementations here on 2
  /// cores (at 10,000 points the crossover is near 100 boxes, at 50,000 near 250 boxes).
  static func cheaperThanBarnesHut(_ y: [Double], count n: Int) -> Bool {
    var lo = Double.infinity, hi = -Double.infinity
    for v in y {
      lo = min(lo, v)
      hi = max(hi, v)
    }
    let side = Double(6 * boxes(span: hi - lo))
    return side * side * log2(side) < 28 * Double(n) * log2(Double(max(n, 2)))
  }

  /// Z = sum over ordered pairs i != j of w_ij, and `force[2i...]` = sum_j w_ij^2 (y_i - y_j), as
  /// `TSNEObjective.exactRepulsion` defines them, to interpolation accuracy. Deterministic: every sum has a fixed
  /// order whatever the thread timing.
  static func repulsion(_ y: [Double], count n: Int, force: inout [Double], threads: Int) -> Double {
    var lo = Double.infinity, hi = -Double.infinity
    for e in 0..<(2 * n) {
      lo = min(lo, y[e])
      hi = max(hi, y[e])
    }
    let boxes = boxes(span: hi - lo)
    let width = max(hi - lo, 1e-12) / Double(boxes)
    let m = 3 * boxes
    let spacing = width / 3
    let workers = max(1, threads)

    // Each point's lower-left node and its 3 + 3 Lagrange weights along x and y.
    var cornerFill = [Int32](repeating: 0, count: n)
    var weightFill = [Double](repeating: 0, count: 6 * n)
    for i in 0..<n {
      var node = (0, 0)
      for axis in 0..<2 {
        let u = (y[2 * i + axis] - lo) / width
        let box = min(Int(u), boxes - 1)
        lagrange(u - Double(box), into: &weightFill, at: 6 * i + 3 * axis)
        if axis == 0 { node.0 = 3 * box } else { node.1 = 3 * box }
      }
      cornerFill[i] = Int32(node.1 * m + node.0)
    }
    let corner = cornerFill, weights = weightFill

    // Charges on the M x M nodes: grid A holds 1 (real) and y1 (imaginary), grid B y2 and |y|^2.
    let grid = TSNEConvolution(nodes: m, spacing: spacing, threads: workers)
    var charges = [Double](repeating: 0, count: 4 * m * m)
    charges.withUnsafeMutableBufferPointer { charges in
      DispatchQueue.concurrentPerform(iterations: 4) { term in
        let c = charges.baseAddress! + term * m * m
        for i in 0..<n {
          let q: Double
          switch term {
          case 0: q = 1
          case 1: q = y[2 * i]
          case 2: q = y[2 * i + 1]
          default: q = y[2 * i] * y[2 * i] + y[2 * i + 1] * y[2 * i + 1]
          }
          let base = Int(corner[i])
          for b in 0..<3 {
            let wy = weights[6 * i + 3 + b] * q
            for a in 0..<3 { c[base + b * m + a] += weights[6 * i + a] * wy }
          }
        }
      }
    }
    let potentials = grid.convolve(charges)

    // Back to the points, in fixed chunks whose partial sums of Z are added in order.
    let mm = m * m
    let z = force.withUnsafeMutableBufferPointer { f in
      potentials.withUnsafeBufferPointer { g in
        TSNEObjective.chunkedSum(count: n) { _, points in
          var s = 0.0
          for i in points {
            var phi = (0.0, 0.0, 0.0, 0.0)
            let base = Int(corner[i])
            for b in 0..<3 {
              for a in 0..<3 {
                let w = weights[6 * i + a] * weights[6 * i + 3 + b]
                let node = base + b * m + a
                phi.0 += w * g[node]
                phi.1 += w * g[mm + node]
                phi.2 += w * g[2 * mm + node]
                phi.3 += w * g[3 * mm + node]
              }
            }
            let y1 = y[2 * i], y2 = y[2 * i + 1]
            s += (1 + y1 * y1 + y2 * y2) * phi.0 - 2 * (y1 * phi.1 + y2 * phi.2) + phi.3
            f[2 * i] = y1 * phi.0 - phi.1
            f[2 * i + 1] = y2 * phi.0 - phi.2
          }
          return s
        }
      }
    }
    // Each point's own term (j = i) contributes w_ii = 1 to the sums above and nothing to the forces.
    return z - Double(n)
  }

  /// The three Lagrange basis polynomials on the nodes 1/6, 1/2, 5/6 of the unit box, at `t` in [0, 1].
  private static func lagrange(_ t: Double, into out: inout [Double], at start: Int) {
    let a = t - 1.0 / 6, b = t - 0.5, c = t - 5.0 / 6
    out[start] = 4.5 * b * c
    out[start + 1] = -9 * a * c
    out[start + 2] = 4.5 * a * b
  }
}

/// The 2-D convolution of M x M node grids with the kernel 1 / (1 + d^2)^2 between nodes `spacing` apart: the
/// Toeplitz-block-Toeplitz product embedded in a circulant one of side L = 2M (L >= 2M - 1, so nothing wraps), then
/// FFT, multiply by the kernel's spectrum, inverse FFT. Grids are row-major with the node (x index a, y index b)
/// at b M + a.
struct TSNEConvolution {
  let nodes: Int
  let side: Int
  let threads: Int
  private let fourier: TSNEFourier
  /// The kernel's 2-D spectrum divided by L^2 (real: the kernel is even; symmetric in x and y, so it is the same
  /// in the transposed layout `forward` leaves).
  private let spectrum: [Double]

  init(nodes m: Int, spacing: Double, threads: Int) {
    nodes = m
    side = 2 * m
    self.threads = threads
    let fourier = TSNEFourier(length: 2 * m)!
    self.fourier = fourier
    let l = 2 * m
    // The kernel on the circulant layout, offsets (a, b) at (a mod L, b mod L); offset M is never used and stays 0.
    // Every row and column is even, so its transform is real: rows b and b + M go through one complex transform
    // (as its real and imaginary parts) and come out as their two real spectra, in place.
    var grid = [Double](repeating: 0, count: l * l)
    let scale = 1 / Double(l * l)
    let profile = (0..<m).map { Double($0 * $0) * spacing * spacing }
    grid.withUnsafeMutableBufferPointer { g in
      for row in 0..<l where row != m {
        let d2y = profile[row < m ? row : l - row]
        let target = g.baseAddress! + row * l
        for a in 0..<m {
          let d2 = profile[a] + d2y
          let k = scale / ((1 + d2) * (1 + d2))
          target[a] = k
          if a > 0 { target[l - a] = k }
        }
      }
      let p = g.baseAddress!
      Self.rows(p, p + m * l, count: m, side: l, fourier: fourier, inverse: false, threads: threads)
      Self.transpose(p, side: l)
      Self.rows(p, p + m * l, count: m, side: l, fourier: fourier, inverse: false, threads: threads)
    }
    spectrum = grid
  }

  /// The four charge grids (M x M each, one after the other) convolved with the kernel, packed two to a complex
  /// transform (the kernel is real, so the real and imaginary parts of the result are the two convolutions).
  func convolve(_ charges: [Double]) -> [Double] {
    let m = nodes, l = side
    var out = [Double](repeating: 0, count: 4 * m * m)
    for pair in 0..<2 {
      var re = [Double](repeating: 0, count: l * l)
      var im = re
      let first = 2 * pair * m * m, second = first + m * m
      charges.withUnsafeBufferPointer { c in
        re.withUnsafeMutableBufferPointer { re in
          im.withUnsafeMutableBufferPointer { im in
            for b in 0..<m {
              (re.baseAddress! + b * l).update(from: c.baseAddress! + first + b * m, count: m)
              (im.baseAddress! + b * l).update(from: c.baseAddress! + second + b * m, count: m)
            }
          }
        }
      }
      Self.forward(&re, &im, rows: m, side: l, fourier: fourier, threads: threads)
      spectrum.withUnsafeBufferPointer { k in
        re.withUnsafeMutableBufferPointer { re in
          im.withUnsafeMutableBufferPointer { im in
            for e in 0..<(l * l) {
              re[e] *= k[e]
              im[e] *= k[e]
            }
          }
        }
      }
      // Inverse: along the (transposed) first axis for every row; transpose back (only the M rows wanted), then along
      // the second axis.
      Self.rows(&re, &im, count: l, side: l, fourier: fourier, inverse: true, threads: threads)
      Self.transpose(&re, side: l)
      Self.transpose(&im, side: l)
      Self.rows(&re, &im, count: m, side: l, fourier: fourier, inverse: true, threads: threads)
      re.withUnsafeBufferPointer { re in
        im.withUnsafeBufferPointer { im in
          out.withUnsafeMutableBufferPointer { o in
            for b in 0..<m {
              (o.baseAddress! + first + b * m).update(from: re.baseAddress! + b * l, count: m)
              (o.baseAddress! + second + b * m).update(from: im.baseAddress! + b * l, count: m)
            }
          }
        }
      }
    }
    return out
  }

  /// 2-D forward transform of an L x L grid whose rows from `rows` on are zero; leaves it transposed.
  private static func forward(
    _ re: inout [Double], _ im: inout [Double], rows: Int, side l: Int, fourier: TSNEFourier, threads: Int
  ) {
    Self.rows(&re, &im, count: rows, side: l, fourier: fourier, inverse: false, threads: threads)
    transpose(&re, side: l)
    transpose(&im, side: l)
    Self.rows(&re, &im, count: l, side: l, fourier: fourier, inverse: false, threads: threads)
  }

  private static func rows(
    _ re: inout [Double], _ im: inout [Double], count: Int, side l: Int, fourier: TSNEFourier, inverse: Bool,
    threads: Int
  ) {
    re.withUnsafeMutableBufferPointer { re in
      im.withUnsafeMutableBufferPointer { im in
        rows(
          re.baseAddress!, im.baseAddress!, count: count, side: l, fourier: fourier, inverse: inverse,
          threads: threads)
      }
    }
  }

  /// 1-D transforms of the first `count` rows, split among `threads` workers (rows are independent).
  private static func rows(
    _ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, count: Int, side l: Int,
    fourier: TSNEFourier, inverse: Bool, threads: Int
  ) {
    let workers = max(1, min(threads, count))
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 2 * l)
      defer { scratch.deallocate() }
      for r in min(count, w * chunk)..<min(count, (w + 1) * chunk) {
        fourier.transform(re + r * l, im + r * l, scratch: scratch, scratch + l, inverse: inverse)
      }
    }
  }

  private static func transpose(_ g: inout [Double], side l: Int) {
    g.withUnsafeMutableBufferPointer { transpose($0.baseAddress!, side: l) }
  }

  /// In-place transpose of a square row-major grid, in 32 x 32 tiles for the cache.
  private static func transpose(_ g: UnsafeMutablePointer<Double>, side l: Int) {
    for bi in stride(from: 0, to: l, by: 32) {
      for bj in stride(from: bi, to: l, by: 32) {
        for i in bi..<min(bi + 32, l) {
          for j in max(bj, i + 1)..<min(bj + 32, l) { swap(&g[i * l + j], &g[j * l + i]) }
        }
      }
    }
  }
}
