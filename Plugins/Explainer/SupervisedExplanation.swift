import ConfoundKit
import Foundation
import JSONRPC
import NeuralNet
import Statistics

/// Runs method "supervised" and writes its result: per-fold ROC AUC of the fine-tuned CNN and of the same training on
/// permuted labels; GradCAM of each fold's model on its held-out crops (at the deepest layer that keeps 8 x 8
/// positions, so that a map resolves a cell in a crop) with the share of saliency on background against the share of
/// area, per class with a bootstrap interval over units; the sanity checks of the maps (Adebayo et al. 2018:
/// randomised head, then randomised top layers, then the model trained on permuted labels; Spearman's rank
/// correlation with the original maps must fall below `sanity_threshold`); and a few correctly predicted held-out
/// crops per class with their maps, for the overlays.
extension SupervisedCNN {
  func explain(check: () throws -> Void, progress: (Double, String) -> Void) throws -> JSONValue {
    let clock = ContinuousClock()
    var seconds: JSONObject = [:]
    func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
      let start = clock.now
      let value = try body()
      let d = clock.now - start
      seconds[name] = .double(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
      return value
    }
    let settings = request.settings
    let values = try timed("frozen_forward") { try cutValues(check: check) }
    progress(0.2, "frozen layers: \(request.count) crops")
    let folds = try timed("fine_tuning") { try self.folds(values, labels: request.labels, seed: settings.seed, check: check) }
    progress(0.5, "fine-tuned \(folds.count) folds")
    let permuted = try timed("permuted_labels") {
      try self.folds(values, labels: permutedLabels(seed: settings.seed ^ 0x5EED), seed: settings.seed &+ 1000, check: check)
    }
    progress(0.8, "trained again on permuted labels")
    let layer = try base.camLayer(minimumSide: 8, inputSize: settings.inputSize, output: settings.output)
    let saliency = try timed("saliency") { try self.saliency(folds: folds, permuted: permuted, layer: layer) }
    var result: JSONObject = [
      "model": "supervised CNN", "classes": .array(request.classes.map(JSONValue.string)),
      "positive": .string(request.positive), "channels": .array(request.channelNames.map(JSONValue.string)),
      "method": "gradcam", "layer": .string(layer), "crop_size": .int(Int64(request.shape[2])),
      "cut": .string(cut), "trained_layers": .array(layers.map(JSONValue.string)),
      "epochs": .int(Int64(settings.epochs)), "max_train_crops": .int(Int64(settings.maxTrainCrops)),
      "folds": .array(folds.map { f in
        ["fold": .string(String(f.index)), "roc_auc": f.rocAUC.map(JSONValue.double) ?? .null,
         "test_units": .array(request.folds[f.index].sorted().map(JSONValue.string)),
         "train_units": .int(Int64(f.trainUnits)), "train_crops": .int(Int64(f.trainCrops)),
         "test_crops": .int(Int64(f.test.count))]
      }),
      "well_scores": .object(wellScores(folds)),
    ]
    var null: JSONObject = [:]
    if let r = saliency.permutedCorrelation { null["spearman"] = .double(r) }
    null["roc_auc"] = .array(permuted.map { $0.rocAUC.map(JSONValue.double) ?? .null })
    result["permuted_labels"] = .object(null)
    result["background"] = .array(saliency.background)
    result["sanity"] = saliency.sanity
    result["overlays"] = .array(saliency.overlays)
    result["seconds"] = .object(seconds)
    return .object(result)
  }

  /// The mean held-out probability of each well (out of fold: each well scored by the fold that held it out).
  func wellScores(_ folds: [Fold]) -> JSONObject {
    var sums: [String: (Double, Int)] = [:]
    for fold in folds {
      for (crop, p) in fold.probabilities {
        let prior = sums[request.wells[crop]] ?? (0, 0)
        sums[request.wells[crop]] = (prior.0 + p, prior.1 + 1)
      }
    }
    return JSONObject(sums.keys.sorted().map { (key: $0, value: JSONValue.double(sums[$0]!.0 / Double(sums[$0]!.1))) })
  }

  struct Saliency {
    var background: [JSONValue] = []
    var sanity: JSONValue = .null
    var overlays: [JSONValue] = []
    var permutedCorrelation: Double?
  }

  /// GradCAM maps of crops `indices` by `model`, upsampled to the crop, [crop][view][h * w].
  func maps(_ indices: [Int], model: FineTunedClassifier, network: Network, layer: String, head: [Float]? = nil)
    throws -> [[[Float]]]
  {
    guard !indices.isEmpty else { return [] }
    let raw = try model.gradCAM(network, images: images(indices), layer: layer, head: head, threads: request.settings.threads)
    let (h, w) = (raw.shape[1], raw.shape[2])
    let (side, width) = (request.shape[2], request.shape[3])
    return indices.indices.map { k in
      (0..<request.views).map { v in
        let image = k * request.views + v
        return Preprocessing.resize(
          Array(raw.data[(image * h * w)..<((image + 1) * h * w)]), width: w, height: h, toWidth: width, toHeight: side)
      }
    }
  }
}
