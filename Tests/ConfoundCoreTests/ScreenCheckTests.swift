import ConfoundImaging
import TestSupport
import XCTest

@testable import ConfoundCore

final class ScreenCheckTests: XCTestCase {
  func testRealPlateChecksClean() throws {
    let root = try sharedData("bbbc013-sbs-plate")
    var (screen, problems) = try DirectoryReader.read(root)
    problems += screen.join(try Platemap(contentsOf: root.appendingPathComponent("1049_Metadata.csv")))
    let check = ScreenCheck(screen: screen, problems: problems)
    XCTAssertEqual(check.problems, [])
    XCTAssertEqual(check.imageCount, 192)
    XCTAssertEqual(check.imageSizes, ["Channel1": [640, 640], "Channel2": [640, 640]])
    XCTAssertTrue(check.text.contains("SBS_Doses (well, numeric, 11 values)"), check.text)
  }

  /// A LoadData CSV over copies of four BBBC013 images, broken five ways; every problem is reported with its line.
  func testEveryProblemIsReportedWithFileAndLine() throws {
    let root = try sharedData("bbbc013-sbs-plate")
    let dir = try TemporaryDirectory()
    let names = ["Channel2-01-A-01.tif", "Channel2-02-A-02.tif", "Channel2-03-A-03.tif", "Channel2-04-A-04.tif"]
    for name in names { try FileManager.default.copyItem(at: root.appendingPathComponent(name), to: dir.file(name)) }
    // A-02 truncated, A-03 replaced by a smaller image, A-05 never existed.
    let bytes = try Data(contentsOf: dir.file(names[1]))
    try bytes.prefix(bytes.count / 3).write(to: dir.file(names[1]))
    try writeTIFF(
      Image(channels: 1, height: 20, width: 30, pixels: [Float](repeating: 1, count: 600)),
      to: dir.file(names[2]), as: .uint8)
    let csv =
      (["FileName_DNA,Metadata_Plate,Metadata_Well"] + names.enumerated().map { "\($1),P,A0\($0 + 1)" }
      + ["Channel2-05-A-05.tif,P,A05"]).joined(separator: "\n")
    try Data(csv.utf8).write(to: dir.file("load.csv"))
    try Data("well_position,treatment\nA01,DMSO\nA02,drug\nA03,drug\nA05,drug\nH12,drug\n".utf8)
      .write(to: dir.file("map.csv"))

    var (screen, problems) = try LoadDataReader.read(dir.file("load.csv"))
    problems += screen.join(try Platemap(contentsOf: dir.file("map.csv")))
    let check = ScreenCheck(screen: screen, problems: problems)
    let found = Set(
      check.problems.map {
        "\($0.kind.rawValue) \($0.location!.file.split(separator: "/").last!):\($0.location!.line!)"
      })
    XCTAssertEqual(
      found,
      [
        "well-without-platemap-row load.csv:5", "platemap-row-without-images map.csv:6",
        "unreadable-file load.csv:3", "mismatched-size load.csv:4", "missing-file load.csv:6",
      ])
    XCTAssertEqual(check.problems.count, 5)
    XCTAssertTrue(check.problems.first { $0.kind == .mismatchedSize }!.message.contains("30x20"))

    let decoded = try JSONDecoder().decode(ScreenCheck.self, from: JSONEncoder().encode(check))
    XCTAssertEqual(decoded.problems, check.problems)
    // Images reach A05, the platemap H12: the plate is a 96-well plate.
    XCTAssertEqual(decoded.plates, [.init(name: "P", batch: "", format: "96-well", wells: 5, sites: 5, images: 5)])
    XCTAssertTrue(check.text.contains("5 problem(s)"))
  }
}
