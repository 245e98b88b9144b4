import Foundation

/// Where the host looks for plugins, in order: the built-in folder beside the host executable
/// (`libconfound-plugin-*.so`, or every `.so` in `<host dir>/plugins/`), each `--plugin-dir`, then each entry of
/// `CONFOUND_PLUGIN_PATH` (folders or files, separated by ':').
public enum PluginDiscovery {
  public static func candidates(hostDirectory: String, pluginDirs: [String], environment: [String: String]) -> [String] {
    var paths: [String] = []
    paths += sharedObjects(in: hostDirectory).filter { ($0 as NSString).lastPathComponent.hasPrefix("libconfound-plugin-") }
    paths += sharedObjects(in: (hostDirectory as NSString).appendingPathComponent("plugins"))
    for dir in pluginDirs { paths += sharedObjects(in: dir) }
    for entry in (environment["CONFOUND_PLUGIN_PATH"] ?? "").split(separator: ":").map(String.init) where !entry.isEmpty {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: entry, isDirectory: &isDirectory), isDirectory.boolValue {
        paths += sharedObjects(in: entry)
      } else {
        paths.append(entry)
      }
    }
    var seen = Set<String>()
    return paths.filter { seen.insert(URL(fileURLWithPath: $0).resolvingSymlinksInPath().path).inserted }
  }

  static func sharedObjects(in directory: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
    return names.filter { $0.hasSuffix(".so") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
  }

  /// The folder of the running executable (resolving /proc/self/exe), where built-in plugins and the worker live.
  public static var executableDirectory: String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (exe as NSString).deletingLastPathComponent
  }
}
