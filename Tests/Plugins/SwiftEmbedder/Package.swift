// swift-tools-version:6.0
// An out-of-tree Swift plugin: a package of its own that depends on Confound's SDK (the static ConfoundKit
// library) and builds one .so. The tests build it and load it into an already-built host.
import PackageDescription

let package = Package(
  name: "SwiftEmbedder",
  products: [.library(name: "lab-swift-embedder", type: .dynamic, targets: ["SwiftEmbedder"])],
  dependencies: [.package(name: "Confound", path: "../../..")],
  targets: [.target(name: "SwiftEmbedder", dependencies: [.product(name: "ConfoundKit", package: "Confound")])],
  swiftLanguageModes: [.v5]
)
