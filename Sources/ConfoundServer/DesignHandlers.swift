import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

extension HostHandlers {
  /// `design/init`: a design file drafted from a screen's columns.
  static func registerDesign(on server: HostServer) {
    server.on(DesignInitRequest.self) { params, context in
      let request = AuditRequest.Params(screen: params.screen, out: NSTemporaryDirectory(), template: params.template,
                                        platemap: params.platemap, barcodePlatemap: params.barcodePlatemap)
      var simulated: AuditRequest.StageSummary?
      let input = try AuditInput.load(request, out: URL(fileURLWithPath: NSTemporaryDirectory()), context: context,
                                      simulated: &simulated)
      let columns = input.screen.designColumns
      let text = StudyDesign.initFile(columns: columns, source: params.screen)
      if let out = params.out {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch {
          throw ResponseError(.badInputFile, "cannot write \(out) (\(error.localizedDescription)): choose another --out",
                              data: ["file": .string(out)])
        }
      }
      return .init(text: text, out: params.out, columns: columns.keys.sorted())
    }
  }
}
