import ConfoundCore
import ConfoundProtocol

extension PluginManifest {
  /// The role the manifest declares for a measurement, as ConfoundCore's `FeatureRole`.
  func role(ofMeasure measure: String) -> FeatureRole? { declaredRole(ofMeasure: measure).flatMap(FeatureRole.init(rawValue:)) }
}
