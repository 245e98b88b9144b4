import CSQLite
import Foundation

/// A thin, owning wrapper over one SQLite connection: prepared statements, typed binding, transactions.
///
/// Not shared between threads: each thread that writes opens its own connection (SQLite serialises writers).
final class SQLiteDatabase {
  private(set) var handle: OpaquePointer?
  let path: String

  /// Opens (or creates) the database at `path`; `readOnly` opens an existing file only, never creating one.
  init(path: String, readOnly: Bool = false) throws {
    self.path = path
    let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
    let status = sqlite3_open_v2(path, &handle, flags, nil)
    guard status == SQLITE_OK else {
      let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
      sqlite3_close(handle)
      throw StoreError(path: path, message: "cannot open the database (\(message))")
    }
    // Another connection may hold the write lock briefly (a reader in a notebook): wait instead of failing.
    sqlite3_busy_timeout(handle, 10_000)
  }

  deinit { sqlite3_close_v2(handle) }

  func error(_ what: String) -> StoreError {
    damaged() ?? StoreError(path: path, message: "\(what): \(String(cString: sqlite3_errmsg(handle)))")
  }

  /// The error to give when SQLite's last failure says the file is damaged or not a database: every statement
  /// goes through here, so a damaged store is named as one wherever the damage is met, with what to do.
  private func damaged() -> StoreError? {
    let code = sqlite3_errcode(handle) & 0xFF
    guard code == SQLITE_CORRUPT || code == SQLITE_NOTADB else { return nil }
    return StoreError(path: path, message: StoreError.damagedAdvice(path: path, sqlite: String(cString: sqlite3_errmsg(handle))))
  }

  func execute(_ sql: String) throws {
    var message: UnsafeMutablePointer<CChar>?
    guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
      let text = message.map { String(cString: $0) } ?? "unknown error"
      sqlite3_free(message)
      throw damaged() ?? StoreError(path: path, message: "\(text) in: \(sql.prefix(80))")
    }
  }

  func prepare(_ sql: String) throws -> SQLiteStatement {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
      throw error("cannot prepare \(sql.prefix(80))")
    }
    return SQLiteStatement(statement, database: self)
  }

  /// Runs one statement with `values` bound, stepping it to completion.
  func run(_ sql: String, _ values: [SQLiteValue] = []) throws {
    let statement = try prepare(sql)
    try statement.bind(values)
    while try statement.step() {}
  }

  /// The rows of a query, each as its column values.
  func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
    let statement = try prepare(sql)
    try statement.bind(values)
    var rows: [[SQLiteValue]] = []
    while try statement.step() { rows.append(statement.row()) }
    return rows
  }

  var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

  /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; any throw rolls everything back.
  func transaction<R>(_ body: () throws -> R) throws -> R {
    try execute("BEGIN IMMEDIATE")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }
}

/// A value stored in or read from SQLite.
enum SQLiteValue: Equatable {
  case integer(Int64)
  case real(Double)
  case text(String)
  case null

  var text: String? { if case .text(let s) = self { s } else { nil } }
  var integer: Int64? { if case .integer(let i) = self { i } else { nil } }
  var real: Double? {
    switch self {
    case .real(let d): d
    case .integer(let i): Double(i)
    default: nil
    }
  }
}

/// A prepared statement, finalised when released.
final class SQLiteStatement {
  let statement: OpaquePointer
  unowned let database: SQLiteDatabase
  // SQLITE_TRANSIENT: SQLite copies bound text before the Swift buffer goes away.
  private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  init(_ statement: OpaquePointer, database: SQLiteDatabase) {
    self.statement = statement
    self.database = database
  }

  deinit { sqlite3_finalize(statement) }

  func bind(_ values: [SQLiteValue]) throws {
    sqlite3_reset(statement)
    sqlite3_clear_bindings(statement)
    for (i, value) in values.enumerated() {
      let index = Int32(i + 1)
      let status: Int32
      switch value {
      case .integer(let v): status = sqlite3_bind_int64(statement, index, v)
      case .real(let v): status = sqlite3_bind_double(statement, index, v)
      case .text(let v): status = sqlite3_bind_text(statement, index, v, -1, SQLiteStatement.transient)
      case .null: status = sqlite3_bind_null(statement, index)
      }
      guard status == SQLITE_OK else { throw database.error("cannot bind parameter \(index)") }
    }
  }

  /// Advances; true while a row is available.
  func step() throws -> Bool {
    switch sqlite3_step(statement) {
    case SQLITE_ROW: return true
    case SQLITE_DONE: return false
    default: throw database.error("statement failed")
    }
  }

  func row() -> [SQLiteValue] {
    (0..<sqlite3_column_count(statement)).map { i in
      switch sqlite3_column_type(statement, i) {
      case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, i))
      case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, i))
      case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, i)))
      default: return .null
      }
    }
  }
}

/// A run-store failure; names the database file and what went wrong.
public struct StoreError: Error, CustomStringConvertible, Sendable {
  public let path: String
  public let message: String
  public var description: String { "run store \(path): \(message)" }

  /// The message for a store SQLite reports as corrupt or not a database.
  static func damagedAdvice(path: String, sqlite: String) -> String {
    "the store is damaged (SQLite: \(sqlite)); it cannot be resumed: write this run elsewhere with --out DIR, or "
      + "delete \(path) (with its -wal and -shm files) to start the run again"
  }
}
