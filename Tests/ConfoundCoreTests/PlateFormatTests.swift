import XCTest

@testable import ConfoundCore

final class PlateFormatTests: XCTestCase {
  func testFormatsHaveStandardGeometry() {
    XCTAssertEqual(PlateFormat.all.map(\.wellCount), [6, 24, 96, 384, 1536])
    XCTAssertEqual(PlateFormat.all.map(\.rows), [2, 4, 8, 16, 32])
    XCTAssertEqual(PlateFormat(wellCount: 384), .wells384)
    XCTAssertNil(PlateFormat(wellCount: 100))
  }

  func testWellNamesParseInEveryForm() throws {
    XCTAssertEqual(try WellPosition(parsing: "A01"), WellPosition(row: 0, column: 0))
    XCTAssertEqual(try WellPosition(parsing: "a1"), WellPosition(row: 0, column: 0))
    XCTAssertEqual(try WellPosition(parsing: "A001"), WellPosition(row: 0, column: 0))
    XCTAssertEqual(try WellPosition(parsing: "p24"), WellPosition(row: 15, column: 23))
    XCTAssertEqual(try WellPosition(parsing: "AA01"), WellPosition(row: 26, column: 0))
    XCTAssertEqual(try WellPosition(parsing: "AF48"), WellPosition(row: 31, column: 47))
    XCTAssertEqual(try WellPosition(parsing: "r01c01"), WellPosition(row: 0, column: 0))
    XCTAssertEqual(try WellPosition(parsing: "R16C24"), WellPosition(row: 15, column: 23))
    XCTAssertEqual(WellPosition(row: 26, column: 4).name, "AA05")
    XCTAssertEqual(WellPosition(row: 7, column: 11).name, "H12")
  }

  func testEveryWellNameRoundTripsOn1536() throws {
    for position in PlateFormat.wells1536.positions {
      XCTAssertEqual(try PlateFormat.wells1536.parse(position.name), position)
    }
  }

  func testBadWellNamesAreNamedInTheError() {
    for bad in ["", "01", "A", "A0", "1A", "ZZ01", "A1B", "r0c1", "rc01"] {
      XCTAssertThrowsError(try WellPosition(parsing: bad), bad) { error in
        XCTAssertTrue("\(error)".contains("\"\(bad)\""), "\(error)")
      }
    }
    XCTAssertThrowsError(try PlateFormat.wells96.parse("I01")) { error in
      XCTAssertEqual(error as? WellNameError, .outsidePlate(name: "I01", format: .wells96))
    }
  }

  func testDerivedPositionsFollowThePlateGeometry() {
    let f = PlateFormat.wells96
    XCTAssertEqual(f.wellIndex(WellPosition(row: 1, column: 0)), 12)
    XCTAssertEqual(f.wellIndex(WellPosition(row: 7, column: 11)), 95)
    XCTAssertEqual(f.edgeDistance(WellPosition(row: 0, column: 5)), 0)
    XCTAssertEqual(f.edgeDistance(WellPosition(row: 3, column: 5)), 3)
    XCTAssertEqual(f.edgeDistance(WellPosition(row: 6, column: 10)), 1)
    XCTAssertEqual(f.positions.filter { f.edgeDistance($0) == 0 }.count, 2 * 12 + 2 * 6)
    XCTAssertEqual(f.radialDistance(WellPosition(row: 0, column: 0)), 1, accuracy: 1e-12)
    XCTAssertEqual(PlateFormat.smallest(fitting: [WellPosition(row: 8, column: 2)]), .wells384)
  }

  func testCovariateKindsAreInferredFromValues() {
    XCTAssertEqual(CovariateKind.infer(["1", "2.5", "", "-3e2"]), .numeric)
    XCTAssertEqual(CovariateKind.infer(["1", "DMSO"]), .categorical)
    XCTAssertEqual(CovariateKind.infer(["", ""]), .categorical)
    XCTAssertEqual(CovariateColumn(name: "dose", level: .well, values: ["10", "2", "2"]).values, ["2", "10"])
  }
}
