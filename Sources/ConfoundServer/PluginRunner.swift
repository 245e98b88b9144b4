import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// What the server needs of the plugins: the loaded ones, and a call to one of them. `PluginRegistry` runs calls in
/// worker processes (the host's way); tests run the same server code with plugins called in process.
public protocol PluginRunner: AnyObject {
  var plugins: [PluginInfo] { get }
  /// How many calls of one plugin may run at once.
  var maxWorkersPerPlugin: Int { get }
  func run(_ params: PluginsRunRequest.Params, isCancelled: @escaping () -> Bool,
           progress: @escaping (Double, String?) -> Void, log: @escaping (Int32, String) -> Void) throws
    -> PluginsRunRequest.Response
}

extension PluginRegistry: PluginRunner {}

extension InProcessPlugins: PluginRunner {}
