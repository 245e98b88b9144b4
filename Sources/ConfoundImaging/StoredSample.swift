/// A fixed-size number type that image files store, convertible to and from the `Float` samples of `Image`.
protocol StoredSample {
  /// The value as float32 (rounded to nearest above 2^24 for 32-bit integers).
  var floatValue: Float { get }
  /// The nearest representable value: for integers rounded (halves away from zero) and clamped, NaN stored as 0.
  init(clamping value: Float)
}

extension StoredSample where Self: FixedWidthInteger {
  var floatValue: Float { Float(self) }
  init(clamping value: Float) {
    if value.isNaN {
      self = 0
    } else if value <= Float(Self.min) {
      self = Self.min
    } else if value >= Float(Self.max) {
      // Float(Self.max) may round up past max (UInt32, Int32), so compare before converting.
      self = Self.max
    } else {
      self = Self(value.rounded())
    }
  }
}

extension UInt8: StoredSample {}
extension UInt16: StoredSample {}
extension UInt32: StoredSample {}
extension Int8: StoredSample {}
extension Int16: StoredSample {}
extension Int32: StoredSample {}
extension Int64: StoredSample {}
extension UInt64: StoredSample {}

extension Float: StoredSample {
  var floatValue: Float { self }
  init(clamping value: Float) { self = value }
}

extension Double: StoredSample {
  var floatValue: Float { Float(self) }
  init(clamping value: Float) { self = Double(value) }
}

/// Where one decoded block (a TIFF strip or tile) lands in the [channel][row][col] output.
struct BlockPlacement {
  /// First output channel the block fills (the plane for planar TIFFs, 0 for interleaved).
  var firstChannel: Int
  /// Samples interleaved per pixel in the block (1 for planar TIFFs).
  var samplesPerPixel: Int
  var top: Int
  var left: Int
  /// Rows and columns of the block that fall inside the image.
  var rows: Int
  var columns: Int
  /// Pixels per stored block row (tile width; image width for strips).
  var stride: Int
  /// Output row length (image width) and plane size (width x height).
  var width: Int
  var planeCount: Int
}

/// Copies a decoded block of `T` samples into planes of `width`-wide rows, converting to Float.
/// The block must hold at least `rows * stride * samplesPerPixel` samples; the output must be large enough.
func scatter<T: StoredSample>(
  _: T.Type, block: UnsafeRawPointer, into output: UnsafeMutablePointer<Float>, placement p: BlockPlacement
) {
  let source = block.assumingMemoryBound(to: T.self)
  for row in 0..<p.rows {
    let sourceRow = source + row * p.stride * p.samplesPerPixel
    for sample in 0..<p.samplesPerPixel {
      let target = output + (p.firstChannel + sample) * p.planeCount + (p.top + row) * p.width + p.left
      if p.samplesPerPixel == 1 {
        for column in 0..<p.columns { target[column] = sourceRow[column].floatValue }
      } else {
        for column in 0..<p.columns { target[column] = sourceRow[column * p.samplesPerPixel + sample].floatValue }
      }
    }
  }
}

/// Copies a block of one-sample palette indices into one plane per table, each index replaced by its entry.
/// Every table must have 2^(bits of T) entries, so any stored index is in range.
func scatterIndexed<T: FixedWidthInteger & UnsignedInteger>(
  _: T.Type, block: UnsafeRawPointer, into output: UnsafeMutablePointer<Float>, placement p: BlockPlacement,
  tables: [[Float]]
) {
  let source = block.assumingMemoryBound(to: T.self)
  for (channel, table) in tables.enumerated() {
    table.withUnsafeBufferPointer { lookup in
      for row in 0..<p.rows {
        let sourceRow = source + row * p.stride
        let target = output + channel * p.planeCount + (p.top + row) * p.width + p.left
        for column in 0..<p.columns { target[column] = lookup[Int(sourceRow[column])] }
      }
    }
  }
}

/// Converts `count` floats to `T` into raw storage (rounded and clamped for integers).
func gather<T: StoredSample>(
  _: T.Type, from source: UnsafePointer<Float>, count: Int, into target: UnsafeMutableRawPointer
) {
  let typed = target.assumingMemoryBound(to: T.self)
  for index in 0..<count { typed[index] = T(clamping: source[index]) }
}
