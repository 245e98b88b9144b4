import ConfoundCore
import ConfoundImaging
import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Headless Chromium (Debian's `chromium`) with networking off: the pages it loaded, what it logged to the console,
/// the requests the page made (from Chromium's net log: requests with an initiator; Chromium's own background
/// requests have none), the rendered DOM and a screenshot.
struct HeadlessChromium {
  let dom: String
  let console: [String]
  let pageRequests: [String]
  let screenshot: Image

  static let flags = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--enable-logging=stderr",
    "--v=0", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--window-size=1400,2400",
  ]

  /// Opens `page`; skips when Chromium is not installed.
  static func open(_ page: URL, scratch: URL) throws -> HeadlessChromium {
    guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
      FileManager.default.isExecutableFile(atPath: $0)
    }) else { throw XCTSkip("no chromium: apt-get install chromium (.ci/setup-tests installs it)") }
    let dom = scratch.appendingPathComponent("dom.html")
    let log = scratch.appendingPathComponent("console.txt")
    let net = scratch.appendingPathComponent("net.json")
    let shot = scratch.appendingPathComponent("screenshot.png")
    func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let common = ([chromium] + flags).map(quoted).joined(separator: " ")
    // A profile of its own, so a test never reads another run's state.
    let profile = quoted("--user-data-dir=" + scratch.appendingPathComponent("profile").path)
    try runCommand("/bin/sh", ["-c", "\(common) \(profile) --log-net-log=\(quoted(net.path)) --dump-dom "
                                 + "\(quoted(page.absoluteString)) > \(quoted(dom.path)) 2> \(quoted(log.path)); true"])
    try runCommand("/bin/sh", ["-c", "\(common) \(profile) --screenshot=\(quoted(shot.path)) "
                                 + "\(quoted(page.absoluteString)) > /dev/null 2>> \(quoted(log.path)); true"])
    let console = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
      .filter { $0.contains(":CONSOLE") }
    return HeadlessChromium(dom: try String(contentsOf: dom, encoding: .utf8), console: console,
                            pageRequests: try Self.pageRequests(net), screenshot: try readPNG(shot))
  }

  /// URLs of the requests a page started, from a net log.
  static func pageRequests(_ file: URL) throws -> [String] {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
    let types = (json["constants"] as? [String: Any])?["logEventTypes"] as? [String: Int] ?? [:]
    let start = types["URL_REQUEST_START_JOB"]
    XCTAssertNotNil(start, "net log without event types")
    return (json["events"] as? [[String: Any]] ?? []).compactMap { event in
      guard event["type"] as? Int == start, let params = event["params"] as? [String: Any],
        let url = params["url"] as? String, let initiator = params["initiator"] as? String,
        initiator != "not an origin"
      else { return nil }
      return url
    }
  }

  /// Share of the screenshot's pixels that are not white, and how many colours it has.
  var inked: (fraction: Double, colours: Int) {
    let n = screenshot.width * screenshot.height
    var inked = 0
    var colours = Set<Int>()
    for i in stride(from: 0, to: n, by: 7) {
      let r = Int(screenshot.pixels[i])
      let g = Int(screenshot.pixels[n + i])
      let b = Int(screenshot.pixels[2 * n + i])
      if r + g + b < 3 * 245 { inked += 1 }
      colours.insert(r << 16 | g << 8 | b)
    }
    return (Double(inked) / Double(n / 7), colours.count)
  }
}

/// The report of a real small audit (the simulated demo screen, 2 plates, 1 site a well), opened in headless
/// Chromium with networking off. The audit runs once for the class.
final class ReportChromiumTests: XCTestCase {
  nonisolated(unsafe) static var run: (dir: TemporaryDirectory, folder: URL)?

  func audited() throws -> URL {
    if let run = Self.run { return run.folder }
    let dir = try TemporaryDirectory()
    let folder = dir.file("run")
    try runCommandStdout(try LiveHost.binary("confound").path,
                         ["audit", "--out", folder.path, "--sim-plates", "2", "--sites", "1", "--seed", "3"])
    Self.run = (dir, folder)
    return folder
  }

  func testReportOpensOfflineWithEveryImageAndTheVerdicts() throws {
    let folder = try audited()
    let report = folder.appendingPathComponent("report.html")
    try runCommandStdout(try LiveHost.binary("confound").path, ["report", folder.path, "--out", report.path])
    let scratch = try TemporaryDirectory()
    let page = try HeadlessChromium.open(report, scratch: scratch.url)
    XCTAssertEqual(page.console, [], "console messages (errors, blocked loads)")
    XCTAssertEqual(page.pageRequests, [], "requests left the file")
    let images = try XCTUnwrap(page.dom.range(of: "data-images=\"[0-9]+/[0-9]+\"", options: .regularExpression))
    let counts = page.dom[images].dropFirst(13).dropLast().split(separator: "/").map { Int($0)! }
    XCTAssertGreaterThanOrEqual(counts[1], 4, "plate maps, density, projections at least")
    XCTAssertEqual(counts[0], counts[1], "every image decoded")
    let ink = page.inked
    XCTAssertGreaterThan(ink.fraction, 0.05, "screenshot blank")
    XCTAssertGreaterThan(ink.colours, 50)
    let findings = try JSONSerialization.jsonObject(
      with: Data(contentsOf: folder.appendingPathComponent("findings.json"))) as? [[String: Any]] ?? []
    XCTAssertFalse(findings.isEmpty)
    for verdict in findings.compactMap({ $0["verdict"] as? String }) {
      let escaped = verdict.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
      XCTAssertTrue(page.dom.contains(escaped), "verdict not on the page: \(verdict)")
    }
  }

  /// The demo audit's design and explanation figures: drawn by their stages into plots/ with their data, registered
  /// in the store, on the page in their sections (their numbers: AuditFigureTests).
  func testTheDemoReportShowsTheDesignAndTheExplanationFigures() throws {
    let folder = try audited()
    let store = try RunStore(url: folder.appendingPathComponent("run.sqlite"))
    let artifacts = Dictionary(try store.artifacts().map { ($0.path, $0.stage) }, uniquingKeysWith: { a, _ in a })
    for (stem, stage) in [("design-layout", "design"), ("explanation-importance", "explain"),
                          ("explanation-partial-dependence", "explain")] {
      for ext in ["png", "svg", "csv"] {
        XCTAssertEqual(artifacts["plots/\(stem).\(ext)"], stage, "\(stem).\(ext) registered")
        let file = folder.appendingPathComponent("plots/\(stem).\(ext)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path)
      }
    }
    let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
    for (section, figure) in [("design", "design-layout"), ("explanations", "explanation-importance"),
                              ("explanations", "explanation-partial-dependence")] {
      let start = try XCTUnwrap(html.range(of: "<section id=\"\(section)\">"))
      let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
      XCTAssertTrue(html[start.upperBound..<end.lowerBound].contains("id=\"fig-\(figure)\""), figure)
    }
  }

  /// The same checks catch a page that fetches, logs an error and holds an image that does not decode.
  func testTheChecksSeeABadPage() throws {
    let scratch = try TemporaryDirectory()
    let bad = scratch.file("bad.html")
    try """
      <!DOCTYPE html><html><body><img src="http://example.invalid/x.png"><img src="data:image/png;base64,iVBORw0KGgo=">
      <script>window.addEventListener('load',function(){var ok=0;for(var i=0;i<document.images.length;i++){
      if(document.images[i].naturalWidth>0)ok++;}document.body.dataset.images=ok+'/'+document.images.length;
      console.error('broken');});</script></body></html>
      """.write(to: bad, atomically: true, encoding: .utf8)
    let page = try HeadlessChromium.open(bad, scratch: scratch.url)
    XCTAssertEqual(page.pageRequests, ["http://example.invalid/x.png"])
    XCTAssertTrue(page.console.contains { $0.contains("broken") }, "\(page.console)")
    XCTAssertTrue(page.dom.contains("data-images=\"0/2\""))
  }

  /// `confound report` on one run store twice, without the time stamp: the same bytes.
  func testReportCommandIsByteIdenticalOnTheSameStore() throws {
    let folder = try audited()
    let confound = try LiveHost.binary("confound").path
    // Same file names in two folders: the pages link their data folders by name.
    let a = folder.appendingPathComponent("a/report.html")
    let b = folder.appendingPathComponent("b/report.html")
    for page in [a, b] {
      try FileManager.default.createDirectory(at: page.deletingLastPathComponent(), withIntermediateDirectories: true)
      try runCommandStdout(confound, ["report", folder.path, "--out", page.path, "--no-timestamp"])
    }
    XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
    XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("a/report-data").path))
  }
}
