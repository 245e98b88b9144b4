import TestSupport
import XCTest

@testable import ConfoundCore

final class CSVTableTests: XCTestCase {
  func testQuotesCRLFAndBOMAgreeWithPythonCSV() throws {
    let text = "\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",\r\n3,,z"
    let dir = try TemporaryDirectory()
    let url = dir.file("t.csv")
    try Data(text.utf8).write(to: url)
    let table = try CSVTable(contentsOf: url)
    let rows = try pythonReference(
      "import csv,json,sys; r=list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline='')));"
        + "print(json.dumps([x for x in r if x]))", [url.path], as: [[String]].self)
    XCTAssertEqual(table.columns, rows[0])
    XCTAssertEqual(table.rows, Array(rows.dropFirst()))
    XCTAssertEqual(table.lines, [2, 4, 6])
  }

  func testTabDelimiterIsDetectedAndRaggedRowsReported() throws {
    let table = try CSVTable(text: "well_position\tdose\nA01\t1\nA02\n", file: "map.txt")
    XCTAssertEqual(table.columns, ["well_position", "dose"])
    XCTAssertEqual(table.rows, [["A01", "1"], ["A02", ""]])
    XCTAssertEqual(table.raggedLines, [3])
  }
}

/// Reading a huge LoadData CSV stops when its caller's `isCancelled` turns true (a cancelled request, Ctrl-C).
final class ReaderCancellationTests: XCTestCase {
  func testALoadDataReadStopsWhenCancelled() throws {
    let dir = try TemporaryDirectory()
    let url = dir.file("load_data.csv")
    var text = "Metadata_Plate,Metadata_Well,Metadata_Site,FileName_DNA,PathName_DNA\n"
    for i in 0..<60_000 { text += "P1,A\(String(format: "%02d", i % 12 + 1)),\(i),img\(i).tif,/data\n" }
    try Data(text.utf8).write(to: url)
    var polls = 0
    XCTAssertThrowsError(try LoadDataReader.read(url, isCancelled: {
      polls += 1
      return polls > 3
    })) { error in
      XCTAssertEqual((error as? ReadCancelled)?.file, url.path, "\(error)")
    }
    XCTAssertEqual(polls, 4, "polled while parsing, stopped at the first true")
    // Never cancelled (the default), the same file reads whole.
    XCTAssertEqual(try LoadDataReader.read(url).screen.siteCount, 60_000)
  }
}
