import ConfoundCore
import Foundation
import JSONRPC
import PluginHost
import TestSupport
import XCTest

@testable import ConfoundServer

/// The host's server in this process, over a connected pair of in-memory pipes with the real framing on both
/// sides: every method the binary serves (`HostHandlers.registerAll`), without a host process.
final class InProcessHostTests: XCTestCase {
  /// A server on one end of two pipes and a client on the other.
  final class Connection {
    let toServer = Pipe(), toClient = Pipe()
    let server: HostServer
    let registry: PluginRegistry
    private var framer = MessageFramer()
    private var pending: [JSONValue] = []
    var exitStatus: Int32?

    init(plugins: [String]) throws {
      registry = try InProcessAudit.registry(plugins)
      let channel = FrameChannel(readFD: toServer.fileHandleForReading.fileDescriptor,
                                 writeFD: toClient.fileHandleForWriting.fileDescriptor)
      server = HostServer(channel: channel, log: HostLog(threshold: .error))
      server.onExit = { [unowned self] status in exitStatus = status }
      HostHandlers.registerAll(on: server, registry: registry, maxMessageBytes: 64 << 20)
      Thread { [server] in server.run() }.start()
    }

    func send(_ json: JSONValue) { toServer.fileHandleForWriting.write(Data(MessageFramer.frame(JSONWriter.bytes(json)))) }

    /// The next message with this id (notifications and other replies are skipped).
    func reply(to id: Int64) throws -> JSONValue {
      while true {
        if let i = pending.firstIndex(where: { $0["id"] == .int(id) }) { return pending.remove(at: i) }
        let data = toClient.fileHandleForReading.availableData
        guard !data.isEmpty else { throw XCTSkip("the server closed its output") }
        for case .body(let body) in framer.push(Array(data)) { pending.append(try JSONParser.parse(body)) }
      }
    }

    func request(_ id: Int64, _ method: String, _ params: JSONValue = .object([:])) throws -> JSONValue {
      send(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params])
      return try reply(to: id)
    }

    func close() {
      try? toServer.fileHandleForWriting.close()
      registry.shutdown()
    }
  }

  func testTheAuditOverAnInMemoryConnection() throws {
    let dir = try TemporaryDirectory()
    var config = SimulationConfig()
    (config.seed, config.plates, config.batches, config.sites, config.channels) = (2, 1, 1, 1, 1)
    (config.width, config.height, config.linesPerClass) = (64, 64, 2)
    config.plant = ["focus-gradient": 0.8]
    _ = try Simulator(config).render(to: dir.file("screen"))
    let connection = try Connection(plugins: ["focus"])
    defer { connection.close() }
    let initialized = try connection.request(1, "initialize", ["processId": .null, "protocolVersion": "1.0"])
    XCTAssertEqual(initialized["result"]?["serverInfo"]?["name"]?.stringValue, "confound-host")
    connection.send(["jsonrpc": "2.0", "method": "initialized", "params": .object([:])])
    let audit = try connection.request(2, "audit/run", [
      "screen": .string(dir.file("screen").path), "out": .string(dir.file("run").path), "stages": ["focus", "spatial"],
    ])
    let findings = try XCTUnwrap(audit["result"]?["findings"]?.arrayValue, "\(audit)")
    XCTAssertEqual(findings.first?["kind"]?.stringValue, "spatial")
    XCTAssertEqual(findings.first?["significant"], .bool(true), "the planted gradient, through the wire")
    XCTAssertEqual(audit["result"]?["input"]?.stringValue, "folder")
    let bad = try connection.request(3, "audit/run", [
      "screen": .string(dir.file("screen").path), "out": .string(dir.file("other").path), "design": ["target": "genotype"],
    ])
    XCTAssertEqual(bad["error"]?["code"]?.intValue, -32602)
    XCTAssertEqual(bad["error"]?["data"]?["field"]?.stringValue, "--target", "\(bad)")
    connection.send(["jsonrpc": "2.0", "id": 4, "method": "shutdown"])
    let shutdown = try connection.reply(to: 4)
    XCTAssertNil(shutdown["error"], "\(shutdown)")
    connection.send(["jsonrpc": "2.0", "method": "exit"])
    let deadline = Date(timeIntervalSinceNow: 5)
    while connection.exitStatus == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    XCTAssertEqual(connection.exitStatus, 0, "exit after shutdown ends the server with status 0")
  }
}
