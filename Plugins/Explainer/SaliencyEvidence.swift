import ConfoundKit
import Foundation
import JSONRPC
import NeuralNet
import Statistics

/// The numbers behind the supervised CNN's saliency: background shares with intervals over units, the sanity
/// checks, and the overlay crops.
extension SupervisedCNN {
  func saliency(folds: [Fold], permuted: [Fold], layer: String) throws -> Saliency {
    var out = Saliency()
    let settings = request.settings
    let foldOf = Dictionary(uniqueKeysWithValues: folds.flatMap { f in f.test.map { ($0, f.index) } })
    let probability = Dictionary(uniqueKeysWithValues: folds.flatMap { f in f.probabilities.map { ($0.key, $0.value) } })
    // Up to `saliency_crops` held-out crops per class, taken unit by unit in turn so that every unit is represented.
    var chosen: [Int] = []
    for label in request.classes {
      var byUnit: [String: [Int]] = [:]
      for crop in foldOf.keys.sorted() where request.labels[crop] == label { byUnit[request.groups[crop], default: []].append(crop) }
      let units = byUnit.keys.sorted()
      var taken = 0, round = 0
      while taken < settings.saliencyCrops, units.contains(where: { byUnit[$0]!.count > round }) {
        for unit in units where taken < settings.saliencyCrops && byUnit[unit]!.count > round {
          chosen.append(byUnit[unit]![round])
          taken += 1
        }
        round += 1
      }
    }
    let networks = try folds.map { try $0.model.network(in: base) }
    var maps: [Int: [[Float]]] = [:]
    for fold in folds {
      let crops = chosen.filter { foldOf[$0] == fold.index }
      for (crop, map) in zip(crops, try self.maps(crops, model: fold.model, network: networks[fold.index], layer: layer)) {
        maps[crop] = map
      }
    }
    if let masks = request.masks { out.background = backgroundShares(chosen, maps: maps, masks: masks) }
    let correct = chosen.filter { crop in
      guard let p = probability[crop] else { return false }
      return (p >= 0.5) == (request.labels[crop] == request.positive)
    }
    // Sanity checks on up to 8 correctly predicted crops per class.
    let sample = request.classes.flatMap { label in correct.filter { request.labels[$0] == label }.prefix(8) }
    out.sanity = try sanity(sample, folds: folds, foldOf: foldOf, permuted: permuted, networks: networks, layer: layer,
                            maps: maps, null: &out.permutedCorrelation)
    // Overlays: the most confidently correct crops of each class.
    for label in request.classes {
      let ranked = correct.filter { request.labels[$0] == label }.sorted { a, b in
        let (pa, pb) = (probability[a]!, probability[b]!)
        return label == request.positive ? pa > pb : pa < pb
      }
      for crop in ranked.prefix(settings.overlays) {
        out.overlays.append(overlay(crop, map: maps[crop]!, probability: probability[crop]!))
      }
    }
    return out
  }

  /// Per class and over all: the mean share of saliency mass on background pixels, the mean share of area that is
  /// background, their difference, and the difference's 95% percentile interval over 2000 bootstrap draws of units.
  func backgroundShares(_ crops: [Int], maps: [Int: [[Float]]], masks: [Float]) -> [JSONValue] {
    let plane = request.shape[2] * request.shape[3]
    var rows: [(crop: Int, mass: Double, area: Double)] = []
    for crop in crops {
      guard let map = maps[crop] else { continue }
      let mask = masks[(crop * plane)..<((crop + 1) * plane)]
      var total = 0.0, background = 0.0
      for view in map {
        for (i, v) in view.enumerated() {
          total += Double(v)
          if mask[mask.startIndex + i] < 0.5 { background += Double(v) }
        }
      }
      guard total > 0 else { continue }
      rows.append((crop, background / total, Double(mask.filter { $0 < 0.5 }.count) / Double(plane)))
    }
    return (request.classes + ["all"]).compactMap { label in
      let members = rows.filter { label == "all" || request.labels[$0.crop] == label }
      guard !members.isEmpty else { return nil }
      // The mean excess over crops, with its percentile interval over units of replication.
      guard let interval = try? Inference.bootstrapInterval(
        units: members.map { request.groups[$0.crop] }, seed: request.settings.seed ^ 0xB007,
        statistic: { picked in picked.reduce(0) { $0 + members[$1].mass - members[$1].area } / Double(picked.count) })
      else { return nil }
      let mass = members.reduce(0) { $0 + $1.mass } / Double(members.count)
      let area = members.reduce(0) { $0 + $1.area } / Double(members.count)
      return [
        "class": .string(label), "crops": .int(Int64(members.count)),
        "units": .int(Int64(Set(members.map { request.groups[$0.crop] }).count)),
        "mass_share": .double(mass), "area_share": .double(area), "excess": .double(mass - area),
        "ci_low": .double(interval.lower), "ci_high": .double(interval.upper),
      ]
    }
  }

  /// The cascading randomisation and the permuted-label model against the original maps of `sample`.
  func sanity(
    _ sample: [Int], folds: [Fold], foldOf: [Int: Int], permuted: [Fold], networks: [Network], layer: String,
    maps: [Int: [[Float]]], null: inout Double?
  ) throws -> JSONValue {
    guard sample.count >= 2 else {
      return ["passed": false, "threshold": .double(request.settings.threshold), "steps": [],
              "failures": ["fewer than two correctly predicted held-out crops: the maps cannot be checked"]]
    }
    let below = try base.weightedLayers(from: request.settings.output)
    func correlation(_ variant: (Fold) throws -> (FineTunedClassifier, Network)) throws -> Double {
      var values: [Double] = []
      for fold in folds {
        let crops = sample.filter { foldOf[$0] == fold.index }
        guard !crops.isEmpty else { continue }
        let (model, network) = try variant(fold)
        for (crop, map) in zip(crops, try self.maps(crops, model: model, network: network, layer: layer)) {
          let r = SanityCheck.spearman(maps[crop]!.flatMap { $0 }, map.flatMap { $0 })
          if r.isFinite { values.append(r) }
        }
      }
      return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
    let seed = request.settings.seed ^ 0xADEB
    let deeper = Array(below.prefix(min(below.count, layers.count + 3)))
    let steps: [(String, [String])] = [("head", ["head"]), ("top layers", ["head"] + layers), ("top blocks", ["head"] + deeper)]
    var rows: [JSONValue] = []
    var failures: [JSONValue] = []
    let threshold = request.settings.threshold
    for (name, randomised) in steps {
      let r = try correlation { fold in
        let model = fold.model.randomisingHead(seed: seed)
        let layers = Array(randomised.dropFirst())
        return (model, layers.isEmpty ? networks[fold.index] : try networks[fold.index].randomising(layers: layers, seed: seed))
      }
      rows.append(["randomised": .string(name), "layers": .array(randomised.map(JSONValue.string)), "spearman": .double(r)])
      if !(r < threshold) {
        failures.append(.string("with the \(name) randomised the maps keep a rank correlation of "
          + String(format: "%.2f", r) + " with the trained model's (threshold \(threshold)): they show the image, not the model"))
      }
    }
    let r = try correlation { fold in (permuted[fold.index].model, try permuted[fold.index].model.network(in: base)) }
    null = r
    if !(r < threshold) {
      failures.append(.string("the model trained on permuted labels gives maps of rank correlation "
        + String(format: "%.2f", r) + " with the trained model's (threshold \(threshold))"))
    }
    return ["steps": .array(rows), "permuted_labels_spearman": .double(r), "threshold": .double(threshold),
            "crops": .int(Int64(sample.count)), "passed": .bool(failures.isEmpty), "failures": .array(failures)]
  }

  /// One overlay: the crop's raw channels and its maps, [C][h][w] each, with its class, probability and unit.
  func overlay(_ crop: Int, map: [[Float]], probability: Double) -> JSONValue {
    let (c, h, w) = (request.shape[1], request.shape[2], request.shape[3])
    func grid(_ plane: ArraySlice<Float>) -> JSONValue {
      .array((0..<h).map { y in .array((0..<w).map { x in .double(Double(plane[plane.startIndex + y * w + x])) }) })
    }
    let channels = (0..<c).map { k in grid(request.crops[((crop * c + k) * h * w)..<((crop * c + k + 1) * h * w)]) }
    return [
      "class": .string(request.labels[crop]), "probability": .double(probability), "unit": .string(request.groups[crop]),
      "site": .string(request.sites[crop]), "crop": .array(channels), "map": .array(map.map { grid($0[...]) }),
    ]
  }
}
