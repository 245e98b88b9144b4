/// Float values in ascending order by a least-significant-digit radix sort of their bit patterns: three passes
/// of 11 bits, linear in the count, where `sorted()`'s comparison merge sort was a tenth of an audit's CPU time
/// (a million background pixels per channel and site).
///
/// The order is `sorted()`'s for every value but NaN (not expected in images): the key flips the sign bit of
/// positive values and every bit of negative ones, so unsigned key order is numeric order. `-0.0` sorts just
/// below `0.0` (`sorted()` keeps them in input order; they are equal, so no statistic differs).
func ascending(_ values: [Float]) -> [Float] {
  let n = values.count
  guard n > 1 else { return values }
  var keys = values.map { value -> UInt32 in
    let bits = value.bitPattern
    return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
  }
  var other = [UInt32](repeating: 0, count: n)
  var counts = [Int](repeating: 0, count: 2048)
  for shift in [0, 11, 22] as [UInt32] {
    keys.withUnsafeBufferPointer { source in
      other.withUnsafeMutableBufferPointer { target in
        counts.withUnsafeMutableBufferPointer { count in
          for i in 0..<2048 { count[i] = 0 }
          for key in source { count[Int((key >> shift) & 0x7FF)] += 1 }
          var offset = 0
          for i in 0..<2048 {
            let c = count[i]
            count[i] = offset
            offset += c
          }
          // Stable scatter: equal digits keep the order of the previous pass.
          for key in source {
            let digit = Int((key >> shift) & 0x7FF)
            target[count[digit]] = key
            count[digit] += 1
          }
        }
      }
    }
    swap(&keys, &other)
  }
  return keys.map { key in Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key) }
}
