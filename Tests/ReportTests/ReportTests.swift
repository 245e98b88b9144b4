import ConfoundCore
import ConfoundImaging
import Foundation
import PlateMaps
import TestSupport
import XCTest

@testable import Report

/// A run folder made with the real run store: two plates of a 96-well screen, focus scores and nucleus counts per
/// site, a failed site, a findings.json in the new schema, a plugin and an input recorded.
func makeRun(in folder: URL, findings: String) throws {
  func wells(_ plate: Int) -> [Well] {
    (0..<24).map { k in
      let position = WellPosition(row: k / 6, column: k % 6)
      let covariates = ["disease": k % 2 == 0 ? "healthy" : "disease", "control": k < 4 ? "1" : "0",
                        "batch": "B\(plate)", "cell_line": "line-\(k % 4)"]
      return Well(position: position, covariates: covariates, sites: [Site(number: 1), Site(number: 2)])
    }
  }
  let screen = Screen(batches: [Batch(name: "B1", plates: [Plate(name: "P1", format: .wells96, wells: wells(1))]),
                                Batch(name: "B2", plates: [Plate(name: "P2", format: .wells96, wells: wells(2))])],
                      channels: ["DNA"])
  let store = try RunStore(url: folder.appendingPathComponent("run.sqlite"))
  try store.recordRun(parametersJSON: #"{"out":"x","simulate":{"seed":7,"plates":2}}"#)
  try store.recordPlugin(id: "org.confound.focus", version: "1.2.0", abi: 1)
  let input = folder.appendingPathComponent("input.txt")
  try "spec".write(to: input, atomically: true, encoding: .utf8)
  try store.recordInput(input)
  let ids = try store.registerSites(of: screen)
  for (key, id) in ids.sorted(by: { $0.value < $1.value }) {
    if key.plate == "P2" && key.well == "A01" && key.site == 2 {
      try store.fail(stage: "focus", key: "P2/A01/2", message: "P2/A01/2: corrupt TIFF")
      continue
    }
    let position = try WellPosition(parsing: key.well)
    try store.complete(stage: "focus", key: "\(key.plate)/\(key.well)/\(key.site)") { unit in
      try unit.measure(site: id, "Focus_score_DNA", Double(position.column) / 5)
      try unit.measure(site: id, "Count_Nuclei", Double(100 + 10 * position.row))
    }
  }
  try findings.write(to: folder.appendingPathComponent("findings.json"), atomically: true, encoding: .utf8)
}

let newSchemaFindings = """
  [
   {"kind": "target-probe", "covariate": "disease", "measure": "hand features", "verdict": "disease from hand features: ROC AUC 0.71",
    "metric": {"name": "ROC AUC", "value": 0.71, "ciLow": 0.6, "ciHigh": 0.8}, "baseline": {"name": "permuted", "value": 0.5,
    "ciLow": 0.4, "ciHigh": 0.6}, "units": {"name": "cell lines", "count": 8}, "pValue": 0.03, "correction": "Holm over 6 tests",
    "evidence": ["4 folds"], "folds": [{"value": 0.7, "composition": "lab A"}, {"value": 0.75, "composition": "lab B"}]},
   {"kind": "confound-alert", "covariate": "disease", "measure": "density alone", "verdict": "Confound alert: density alone predicts disease <&>",
    "metric": {"name": "ROC AUC", "value": 0.69}},
   {"kind": "nuisance-probe", "covariate": "plate", "measure": "hand features", "verdict": "Plate from controls: no leak",
    "metric": {"name": "leakage score", "value": 0.02, "ciLow": -0.1, "ciHigh": 0.12}, "baseline": 0, "pValue": 0.4},
   {"kind": "spatial", "covariate": "well position", "measure": "Focus_score_DNA", "verdict": "Focus falls across the plate",
    "effect": 0.8, "ciLow": 0.7, "ciHigh": 0.9, "pValue": 0.001, "plates": ["P1", "P2"]}
  ]
  """

final class FindingReaderTests: XCTestCase {
  func testReadsBothSchemasAndToleratesAbsentOrOddFields() throws {
    let verdicts = try FindingReader.read(Data(newSchemaFindings.utf8), file: "findings.json")
    XCTAssertEqual(verdicts.count, 4)
    let probe = verdicts[0]
    XCTAssertEqual(probe.metric, Verdict.Metric(name: "ROC AUC", value: 0.71, ciLow: 0.6, ciHigh: 0.8))
    XCTAssertEqual(probe.baseline?.ciHigh, 0.6)
    XCTAssertEqual(probe.units, Verdict.Units(name: "cell lines", count: 8))
    XCTAssertEqual(probe.correction, "Holm over 6 tests")
    XCTAssertEqual(probe.folds.map(\.composition), ["lab A", "lab B"])
    XCTAssertEqual(probe.section, "target-probe")
    XCTAssertEqual(verdicts[2].baseline?.value, 0, "a bare number is the baseline's value")
    XCTAssertEqual(verdicts[3].metric, Verdict.Metric(name: "effect", value: 0.8, ciLow: 0.7, ciHigh: 0.9), "old schema")
    XCTAssertEqual(verdicts[3].section, "image-quality")
    let odd = FindingReader.verdict(["kind": "density", "metric": "not an object", "pValue": NSNull(), "units": 3,
                                     "effect": "nan"])
    XCTAssertNil(odd.metric)
    XCTAssertNil(odd.pValue)
    XCTAssertNil(odd.units)
    XCTAssertEqual(odd.text, "density")
    XCTAssertThrowsError(try FindingReader.read(Data("{\"x\": 1}".utf8), file: "f.json")) { error in
      XCTAssertTrue("\(error)".contains("f.json"))
    }
  }

  /// A probe's folds carry ROC AUC and balanced accuracy: the dots drawn beside a finding are of its own metric.
  func testFoldValuesAreOfTheFindingsOwnMetric() throws {
    let folds: [[String: Any]] = [["auc": 0.74, "balanced_accuracy": 0.21], ["auc": 0.79, "balanced_accuracy": 0.26]]
    let nuisance = FindingReader.verdict(["kind": "nuisance", "metric": ["name": "balanced accuracy", "value": 0.23],
                                          "evidence": ["folds": folds]])
    XCTAssertEqual(nuisance.folds.map(\.value), [0.21, 0.26])
    let target = FindingReader.verdict(["kind": "target-probe", "metric": ["name": "ROC AUC", "value": 0.77],
                                        "evidence": ["folds": folds]])
    XCTAssertEqual(target.folds.map(\.value), [0.74, 0.79])
  }

  func testVerdictsRankConfoundAlertsFirstAndQuietFindingsLast() throws {
    let model = ReportModel(title: "t", verdicts: try FindingReader.read(Data(newSchemaFindings.utf8), file: "f"))
    XCTAssertEqual(model.rankedVerdicts.map(\.kind), ["confound-alert", "spatial", "target-probe", "nuisance-probe"])
  }
}

final class ReportBuildTests: XCTestCase {
  func testReportOfARunStatesFindingsFailuresAndSkippedStagesAndKeepsFigureData() throws {
    let dir = try TemporaryDirectory()
    try makeRun(in: dir.url, findings: newSchemaFindings)
    let model = try ReportBuilder(folder: dir.url).build()
    XCTAssertEqual(model.failedUnits, [FailedUnit(stage: "focus", key: "P2/A01/2", message: "P2/A01/2: corrupt TIFF")])
    XCTAssertTrue(model.skippedStages.contains { $0.stage == "embed" })
    XCTAssertTrue(model.skippedStages.contains { $0.stage == "explain" })
    XCTAssertFalse(model.skippedStages.contains { $0.stage == "segment" }, "nucleus counts are in the store")
    XCTAssertEqual(model[section: "image-quality"].figures.map(\.id), ["plate-Focus_score_DNA"])
    XCTAssertEqual(model[section: "density"].figures.map(\.id), ["plate-Count_Nuclei", "density-by-disease"])
    XCTAssertEqual(model[section: "target-probe"].figures.map(\.id), ["target-probe-auc"])
    XCTAssertEqual(model.provenance.plugins.map(\.id), ["org.confound.focus"])
    XCTAssertEqual(model.provenance.seeds.map(\.1), ["7"])
    XCTAssertEqual(model.provenance.stages.map(\.name), ["focus"])
    XCTAssertEqual(model.provenance.stages.first?.failed, 1)
    XCTAssertEqual(model.provenance.inputs.first?.sha256.count, 64)
    // The plate map draws the stored values: column c of P1 has focus score c/5 over the range 0...1.
    let map = try XCTUnwrap(model[section: "image-quality"].figures.first?.figure as? PlateMapFigure)
    XCTAssertEqual(map.range, 0...1)
    let raster = try map.raster()
    let cell = map.layout.site(0, in: map.layout.well(panel: 0, row: 1, column: 5))
    let n = raster.image.width * raster.image.height
    let i = cell.centre.y * raster.image.width + cell.centre.x
    XCTAssertEqual(RGB(UInt8(raster.image.pixels[i]), UInt8(raster.image.pixels[n + i]),
                       UInt8(raster.image.pixels[2 * n + i])), Viridis.colour(1))

    // Every figure of the report: no two texts meet, none leaves its page.
    for figure in model.sections.flatMap(\.figures) {
      let boxes = try figure.figure.textBoxes()
      XCTAssertEqual(overlappingTexts(boxes).count, 0, figure.id)
      for box in boxes where !box.text.isEmpty {
        XCTAssertLessThanOrEqual(box.rect.maxX, Double(figure.figure.width) + 0.5, "\(figure.id): \(box.text)")
      }
    }
    let file = dir.url.appendingPathComponent("report.html")
    let written = try ReportHTML.write(model, to: file, generated: nil)
    let html = try String(contentsOf: file, encoding: .utf8)
    XCTAssertTrue(html.contains("Confound alert: density alone predicts disease &lt;&amp;&gt;"))
    XCTAssertLessThan(try XCTUnwrap(html.range(of: "Confound alert")).lowerBound,
                      try XCTUnwrap(html.range(of: "Focus falls across the plate")).lowerBound, "alerts first")
    XCTAssertTrue(html.contains("ROC AUC 0.71 [95% CI 0.6, 0.8]"))
    XCTAssertTrue(html.contains("baseline permuted 0.5 [0.4, 0.6]"))
    XCTAssertTrue(html.contains("p = 0.03 (Holm over 6 tests)"))
    XCTAssertTrue(html.contains("units: 8 cell lines"))
    XCTAssertTrue(html.contains("P2/A01/2: corrupt TIFF"))
    XCTAssertTrue(html.contains("no images to show (a profiles-only input)"), "the input is not a LoadData CSV")
    XCTAssertTrue(html.contains("no cell embeddings in the store (no embedder model"))
    XCTAssertTrue(html.contains("href=\"#target-probe\""))
    XCTAssertFalse(html.contains("http://") || html.contains("https://"), "no address to fetch")
    // Every figure is an inline PNG that decodes to its declared size, and has its CSV beside the report.
    let images = html.components(separatedBy: "src=\"data:image/png;base64,").dropFirst()
    XCTAssertEqual(images.count, model.sections.flatMap(\.figures).count)
    for (k, chunk) in images.enumerated() {
      let data = try XCTUnwrap(Data(base64Encoded: String(chunk.prefix { $0 != "\"" })))
      let png = dir.url.appendingPathComponent("figure\(k).png")
      try data.write(to: png)
      XCTAssertGreaterThan(try readPNG(png).width, 100)
    }
    for figure in model.sections.flatMap(\.figures) {
      let csv = try String(contentsOf: written.data.appendingPathComponent("\(figure.id).csv"), encoding: .utf8)
      XCTAssertEqual(csv, figure.csv)
      XCTAssertGreaterThan(csv.split(separator: "\n").count, 1, figure.id)
    }
    XCTAssertEqual(try String(contentsOf: written.data.appendingPathComponent("plate-Focus_score_DNA.csv"), encoding: .utf8)
      .split(separator: "\n").count, 1 + 2 * 24 * 2, "a row per site")
  }

  /// Two builds of one store give the same bytes without a time stamp, and differ only in its line with one.
  func testRebuildingFromTheSameStoreIsByteIdentical() throws {
    let dir = try TemporaryDirectory()
    try makeRun(in: dir.url, findings: newSchemaFindings)
    let a = try ReportHTML.render(try ReportBuilder(folder: dir.url).build(), generated: nil, dataFolder: "d")
    let b = try ReportHTML.render(try ReportBuilder(folder: dir.url).build(), generated: nil, dataFolder: "d")
    XCTAssertEqual(a, b)
    let c = try ReportHTML.render(try ReportBuilder(folder: dir.url).build(), generated: Date(timeIntervalSince1970: 0),
                                  dataFolder: "d")
    let d = try ReportHTML.render(try ReportBuilder(folder: dir.url).build(), generated: Date(), dataFolder: "d")
    XCTAssertNotEqual(c, d)
    XCTAssertEqual(ReportHTML.removingTimestamp(c), ReportHTML.removingTimestamp(d))
    XCTAssertEqual(ReportHTML.removingTimestamp(c), a)
  }

  func testAFolderWithoutAStoreIsAClearError() throws {
    let dir = try TemporaryDirectory()
    XCTAssertThrowsError(try ReportBuilder(folder: dir.url)) { error in
      XCTAssertTrue("\(error)".contains("holds no run.sqlite"), "\(error)")
      XCTAssertTrue("\(error)".contains(dir.url.path))
    }
  }

  /// A flat object in a finding's evidence reads as words with formatted numbers, not as JSON; nested ones stay JSON.
  func testFlatEvidenceObjectsReadAsWords() {
    let flat: [String: Any] = ["rocAUC": 0.33161580129475493, "pValue": 0.995, "ciLow": 0.2570267900338655]
    XCTAssertEqual(FindingReader.compact(flat), "ciLow 0.257, pValue 0.995, rocAUC 0.3316")
    XCTAssertEqual(FindingReader.compact(["a": ["b": 1]]), "{\"a\":{\"b\":1}}")
  }
}
