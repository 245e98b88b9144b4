import XCTest

@testable import FocusMeasures

/// The four-lane FFT and the half power spectrum built on it, against the defining sums.
final class PowerSpectrumTests: XCTestCase {
  /// The four-lane transform against the defining sum, lane by lane, for the same lengths (a power of two, the
  /// batched mixed radix, and 97 and 1 run lane by lane through `FFTPlan`); where both run the mixed radix (1080)
  /// its lanes equal `FFTPlan`'s transforms bit for bit.
  func testFourLaneFFTMatchesDirectSum() {
    var rng = SplitMix(seed: 5)
    for n in [1, 2, 8, 13, 45, 97, 1080] {
      let re = (0..<n).map { _ in SIMD4<Double>((0..<4).map { _ in rng.unit() - 0.5 }) }
      let im = (0..<n).map { _ in SIMD4<Double>((0..<4).map { _ in rng.unit() - 0.5 }) }
      var fr = re
      var fi = im
      fr.withUnsafeMutableBufferPointer { r in fi.withUnsafeMutableBufferPointer { i in
        FourLaneFFTPlan(length: n).forward(r.baseAddress!, i.baseAddress!)
      } }
      for lane in 0..<4 {
        var single = (re.map { $0[lane] }, im.map { $0[lane] })
        single.0.withUnsafeMutableBufferPointer { r in single.1.withUnsafeMutableBufferPointer { i in
          FFTPlan(length: n).forward(r.baseAddress!, i.baseAddress!)
        } }
        let direct = directDFT(re.map { $0[lane] }, im.map { $0[lane] })
        for k in 0..<n {
          XCTAssertEqual(fr[k][lane], direct.re[k], accuracy: 1e-10 * Double(n), "n \(n) lane \(lane) k \(k)")
          XCTAssertEqual(fi[k][lane], direct.im[k], accuracy: 1e-10 * Double(n), "n \(n) lane \(lane) k \(k)")
          if n == 1080 {
            XCTAssertEqual(fr[k][lane], single.0[k], "n \(n) lane \(lane) k \(k)")
            XCTAssertEqual(fi[k][lane], single.1[k], "n \(n) lane \(lane) k \(k)")
          }
        }
      }
    }
  }

  /// Every bin of the stored half and of its mirror against `|sum_yx (x_yx - mean) e^(-2 pi i (iy/h + jx/w))|^2`,
  /// on sizes whose row count is not a multiple of the eight rows a row pass takes (odd and even widths).
  func testPowerMatchesDirectSum() throws {
    var rng = SplitMix(seed: 7)
    for (w, h) in [(11, 13), (10, 9), (6, 17), (1, 3)] {
      let pixels = (0..<(w * h)).map { _ in Float(rng.unit()) }
      let mean = pixels.reduce(0.0) { $0 + Double($1) } / Double(w * h)
      let spectrum = PowerSpectrum(try FocusPlane(pixels: pixels, width: w, height: h))
      for i in 0..<h {
        for j in 0..<w {
          var (re, im) = (0.0, 0.0)
          for y in 0..<h {
            for x in 0..<w {
              let angle = -2 * Double.pi * (Double((i * y) % h) / Double(h) + Double((j * x) % w) / Double(w))
              re += (Double(pixels[y * w + x]) - mean) * cos(angle)
              im += (Double(pixels[y * w + x]) - mean) * sin(angle)
            }
          }
          XCTAssertEqual(spectrum.power(i, j), re * re + im * im, accuracy: 1e-9, "\(w) x \(h) bin (\(i), \(j))")
        }
      }
    }
  }

  /// The band sums, which count each stored bin for itself and its mirror, against a walk over every bin.
  func testRingPowersMatchEveryBin() throws {
    var rng = SplitMix(seed: 11)
    for (w, h) in [(11, 13), (10, 9), (20, 17), (16, 16)] {
      let pixels = (0..<(w * h)).map { _ in Float(rng.unit()) }
      let spectrum = PowerSpectrum(try FocusPlane(pixels: pixels, width: w, height: h))
      let rings = RingPowers(spectrum, upTo: 0.5)
      let side = Double(min(w, h))
      var sums = [Double](repeating: 0, count: rings.sums.count)
      var counts = sums
      for i in 0..<h {
        for j in 0..<w {
          let (fi, fj) = (PowerLogLogSlope.signedFrequency(i, h), PowerLogLogSlope.signedFrequency(j, w))
          let k = Int(((fi * fi + fj * fj).squareRoot() * side).rounded(.down))
          if k < sums.count {
            sums[k] += spectrum.power(i, j)
            counts[k] += 1
          }
        }
      }
      XCTAssertEqual(rings.counts, counts, "\(w) x \(h)")
      for k in sums.indices {
        XCTAssertEqual(rings.sums[k], sums[k], accuracy: 1e-12 * max(1, sums[k]), "\(w) x \(h) ring \(k)")
      }
    }
  }
}
