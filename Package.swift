// swift-tools-version:6.0
// Confound: audits high-content microscopy screens for bias and confounding.
//
// Dependency direction (one way only):
//   C system libraries -> pure numerics / imaging -> ConfoundKit (plugin SDK, static) -> Plugins/<Name> (.so)
//   JSONRPC -> ConfoundProtocol -> PluginHost -> ConfoundServer -> confound-host / confound-worker
//   JSONRPC -> ConfoundProtocol -> ConfoundClient -> confound
// Plugins never import the host; the wire types never import the numerics; executables hold no logic.
import PackageDescription

/// A system library found through pkg-config, installed from Debian by `.ci/setup`.
func systemLibrary(_ name: String, pkgConfig: String, apt: [String]) -> Target {
  .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

/// A built-in plugin: a dynamic library under Plugins/<folder>, loaded by the host like any third-party .so.
func plugin(_ target: String, folder: String, dependencies: [Target.Dependency]) -> Target {
  .target(name: target, dependencies: ["ConfoundKit", "CConfoundPlugin", "ConfoundProtocol"] + dependencies, path: "Plugins/\(folder)")
}

/// Numerics compiled with -O in debug builds too: tests on real data would otherwise take minutes.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
  name: "Confound",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "confound", targets: ["confound"]),
    .executable(name: "confound-host", targets: ["confound-host"]),
    .executable(name: "confound-worker", targets: ["confound-worker"]),
    // The plugin SDK. Static on purpose: each plugin carries its own copy, so no Swift type crosses a .so.
    .library(name: "ConfoundKit", type: .static, targets: ["ConfoundKit"]),
    .library(name: "confound-plugin-focus", type: .dynamic, targets: ["FocusPlugin"]),
    .library(name: "confound-plugin-probe", type: .dynamic, targets: ["ProbePlugin"]),
    .library(name: "confound-plugin-segmenter", type: .dynamic, targets: ["SegmenterPlugin"]),
    .library(name: "confound-plugin-embedder", type: .dynamic, targets: ["EmbedderPlugin"]),
    .library(name: "confound-plugin-explainer", type: .dynamic, targets: ["ExplainerPlugin"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // C libraries from Debian.
    systemLibrary("CTIFF", pkgConfig: "libtiff-4", apt: ["libtiff-dev"]),
    systemLibrary("CPNG", pkgConfig: "libpng", apt: ["libpng-dev"]),
    systemLibrary("COpenBLAS", pkgConfig: "openblas", apt: ["libopenblas-dev"]),
    systemLibrary("CJansson", pkgConfig: "jansson", apt: ["libjansson-dev"]),
    systemLibrary("CSQLite", pkgConfig: "sqlite3", apt: ["libsqlite3-dev"]),
    // Figures: Cairo's image, SVG and PDF surfaces; text in DejaVu Sans (fonts-dejavu-core, through fontconfig).
    systemLibrary("CCairo", pkgConfig: "cairo", apt: ["libcairo2-dev", "fonts-dejavu-core"]),
    // The plugin ABI header, Protocol/confound_plugin.h, as a Clang module.
    .systemLibrary(name: "CConfoundPlugin", path: "Sources/CConfoundPlugin"),
    // prctl(2) for the worker's parent-death signal (ParentWatch).
    .systemLibrary(name: "CProcessControl", path: "Sources/CProcessControl"),

    // Wire level.
    .target(name: "JSONRPC"),
    .target(name: "ConfoundProtocol", dependencies: ["JSONRPC"]),

    // Numerics and imaging: pure functions, no knowledge of hosts or plugins.
    .target(name: "ConfoundImaging", dependencies: ["CTIFF", "CPNG"], swiftSettings: optimisedInDebug),
    // Optimised even in debug builds: the tests run them on real images and models.
    .target(name: "FocusMeasures", dependencies: ["Statistics"], swiftSettings: optimisedInDebug),
    .target(name: "Segmentation", swiftSettings: optimisedInDebug),
    .target(name: "Statistics", dependencies: ["COpenBLAS"], swiftSettings: optimisedInDebug),
    .target(name: "NeuralNet", dependencies: ["COpenBLAS", "CNeuralKernels", "Statistics"],
            swiftSettings: optimisedInDebug),
    // NeuralNet's SIMD kernels in C, built for several x86-64 levels (target_clones) and chosen at load.
    .target(name: "CNeuralKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
    .target(name: "PlateMaps", dependencies: ["ConfoundImaging", "CCairo"]),

    // Screens, layouts, the run store and the simulated screen.
    .target(name: "ConfoundCore", dependencies: ["ConfoundImaging", "CSQLite"], swiftSettings: optimisedInDebug),
    // The audit's one-page HTML report: a model, its renderer, and its builder from a run folder.
    .target(name: "Report", dependencies: ["PlateMaps", "ConfoundCore"]),

    // The plugin SDK.
    .target(name: "ConfoundKit", dependencies: ["CConfoundPlugin", "JSONRPC", "ConfoundProtocol"]),

    // Host side.
    .target(name: "PluginHost", dependencies: ["CConfoundPlugin", "CProcessControl", "JSONRPC", "ConfoundProtocol", "ConfoundImaging"]),
    .target(name: "ConfoundServer", dependencies: ["JSONRPC", "ConfoundProtocol", "PluginHost", "ConfoundCore", "Statistics", "PlateMaps", "ConfoundImaging", "Report", "Segmentation"]),
    .target(name: "ConfoundClient", dependencies: ["JSONRPC", "ConfoundProtocol", "PluginHost", "ConfoundImaging"]),
    .executableTarget(name: "confound-host", dependencies: ["ConfoundServer"]),
    .executableTarget(name: "confound-worker", dependencies: ["PluginHost"]),
    .executableTarget(
      name: "confound",
      dependencies: [
        "ConfoundClient", "ConfoundProtocol", "FocusMeasures", "ConfoundImaging", "Report",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // Built-in plugins.
    plugin("FocusPlugin", folder: "Focus", dependencies: ["FocusMeasures"]),
    plugin("ProbePlugin", folder: "Probe", dependencies: ["Statistics"]),
    plugin("SegmenterPlugin", folder: "Segmenter", dependencies: ["Segmentation"]),
    plugin("EmbedderPlugin", folder: "Embedder", dependencies: ["NeuralNet", "Statistics"]),
    plugin("ExplainerPlugin", folder: "Explainer", dependencies: ["Statistics", "NeuralNet"]),

    // Tests.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC", "Statistics"]),
    .testTarget(name: "ConfoundProtocolTests", dependencies: ["ConfoundProtocol", "JSONRPC"]),
    .testTarget(name: "ConfoundImagingTests", dependencies: ["ConfoundImaging", "Statistics", "TestSupport"]),
    .testTarget(name: "FocusMeasuresTests", dependencies: ["FocusMeasures", "Statistics", "ConfoundImaging", "TestSupport"]),
    .testTarget(name: "SegmentationTests", dependencies: ["Segmentation", "ConfoundImaging", "TestSupport"]),
    .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "TestSupport"]),
    .testTarget(name: "ProbeTests", dependencies: ["Statistics", "JSONRPC", "TestSupport"]),
    .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "CNeuralKernels", "Statistics", "TestSupport"]),
    .testTarget(name: "PlateMapsTests", dependencies: ["PlateMaps", "ConfoundImaging", "FocusMeasures", "TestSupport"]),
    .testTarget(name: "ReportTests", dependencies: ["Report", "PlateMaps", "ConfoundCore", "ConfoundImaging", "TestSupport"]),
    .testTarget(name: "ConfoundCoreTests", dependencies: ["ConfoundCore", "ConfoundImaging", "TestSupport"]),
    .testTarget(name: "ConfoundServerTests", dependencies: ["ConfoundServer", "ConfoundProtocol", "PluginHost", "ConfoundCore", "JSONRPC", "Statistics", "TestSupport"]),
    // The plugin registry and its workers against misbehaving C plugins (needs the built confound-worker).
    .testTarget(name: "PluginHostTests", dependencies: ["PluginHost", "JSONRPC", "ConfoundProtocol", "ConfoundImaging", "TestSupport"]),
    .testTarget(name: "EndToEndTests", dependencies: ["JSONRPC", "ConfoundImaging", "ConfoundCore", "TestSupport"]),
  ],
  // Swift 5 mode: the code is concurrency-safe by construction (locks, queues) without Swift 6's checker.
  swiftLanguageModes: [.v5]
)
