import Foundation

/// The writes of one unit of work, handed to the body of `RunStore.complete(stage:key:_:)`.
///
/// Valid only inside that body: everything written here commits or rolls back with the unit.
public final class UnitWriter {
  let db: SQLiteDatabase
  private lazy var measurement = try? db.prepare(
    "INSERT OR REPLACE INTO measurements (site_id, name, value) VALUES (?, ?, ?)")
  private lazy var object = try? db.prepare(
    "INSERT OR REPLACE INTO objects (site_id, object, name, value) VALUES (?, ?, ?, ?)")

  init(db: SQLiteDatabase) { self.db = db }

  /// One per-site value, named CellProfiler-style (`ImageQuality_FocusScore_DNA`); NaN is stored as NULL.
  public func measure(site: Int64, _ name: String, _ value: Double) throws {
    guard let measurement else { throw db.error("cannot prepare the measurement insert") }
    try measurement.bind([.integer(site), .text(name), value.isNaN ? .null : .real(value)])
    while try measurement.step() {}
  }

  /// One per-object value (`AreaShape_Area` of nucleus 3).
  public func measure(site: Int64, object id: Int, _ name: String, _ value: Double) throws {
    guard let object else { throw db.error("cannot prepare the object insert") }
    try object.bind([.integer(site), .integer(Int64(id)), .text(name), value.isNaN ? .null : .real(value)])
    while try object.step() {}
  }

  /// Records an array file already written beside the store (see `RunStore.arrayURL(name:)`).
  public func recordArray(name: String, path: String, shape: [Int], dtype: String) throws {
    try db.run(
      "INSERT OR REPLACE INTO arrays (name, path, shape, dtype) VALUES (?, ?, ?, ?)",
      [.text(name), .text(path), .text(json(shape)), .text(dtype)])
  }
}
