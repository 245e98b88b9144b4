import JSONRPC
import Statistics
import XCTest

/// A bounded, seeded fuzz run of the framer and the JSON parser (fixed seed, fixed number of frames, well under a
/// second): mutated frames never crash either, every frame the framer completes is parsed or refused with an
/// error, and a clean frame after the noise is always read back. The longer run is Tests/fuzz/README.md.
final class FramingFuzzTests: XCTestCase {

  static let seeds = [
    #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1}}"#,
    #"[{"jsonrpc":"2.0","id":2,"method":"plugins/list"},{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}]"#,
    #"{"jsonrpc":"2.0","id":"x","method":"plugins/run","params":{"plugin":"a","inputs":[{"name":"image","npy":"/t.npy"}],"timeoutSeconds":1.5e0}}"#,
    #"{"jsonrpc":"2.0","id":3.0,"result":{"a":[true,false,null,-0.5e-3,"\u00e9\ud83d\ude00"]}}"#,
  ]

  /// One mutation of `bytes`: flip, insert, delete, duplicate a span, or splice in a structural byte.
  static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
    var out = bytes
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
      let at = out.isEmpty ? 0 : Int.random(in: 0..<out.count, using: &rng)
      switch Int.random(in: 0..<5, using: &rng) {
      case 0 where !out.isEmpty: out[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
      case 1: out.insert(Array("{}[]\",:\\0123456789eE.-+ \r\n\u{1}\u{ff}".utf8).randomElement(using: &rng)!, at: at)
      case 2 where !out.isEmpty: out.remove(at: at)
      case 3 where !out.isEmpty:
        let end = min(out.count, at + Int.random(in: 1...16, using: &rng))
        out.insert(contentsOf: out[at..<end], at: at)
      default: out.insert(UInt8.random(in: 0...255, using: &rng), at: at)
      }
    }
    return out
  }

  func testMutatedFramesNeverBreakTheFramerOrTheParser() {
    var rng = SeededGenerator(seed: 18)
    var framer = MessageFramer(maxBodyBytes: 4096)
    var bodies = 0
    var errors = 0
    let frames = 20_000
    for i in 0..<frames {
      let seed = Array(Self.seeds[i % Self.seeds.count].utf8)
      let body = Self.mutate(seed, &rng)
      var header = Array("Content-Length: \(body.count)\r\n\r\n".utf8)
      // Every fourth frame gets its header mutated too.
      if i % 4 == 0 { header = Self.mutate(header, &rng) }
      let stream = header + body
      var offset = 0
      while offset < stream.count {
        let n = Int.random(in: 1...64, using: &rng)
        for event in framer.push(stream[offset..<min(stream.count, offset + n)]) {
          switch event {
          case .body(let b):
            bodies += 1
            // The parser must answer every body: a message, a batch or a failure, never a crash.
            switch Incoming.parse(b) {
            case .single, .batch: break
            }
          case .error: errors += 1
          }
        }
        offset += n
      }
    }
    // After any noise, a clean frame is read back (after at most one more resync of a dangling header).
    let clean = Array(#"{"jsonrpc":"2.0","id":99,"method":"plugins/list"}"#.utf8)
    var found = false
    for _ in 0..<3 where !found {
      for case .body(let b) in framer.push(MessageFramer.frame(clean)) where b == clean { found = true }
    }
    XCTAssertTrue(found, "the framer did not recover")
    XCTAssertGreaterThan(bodies, frames / 2, "most frames framed")
    XCTAssertGreaterThan(errors, 0, "some headers broke")
  }
}
