import ConfoundKit
import Foundation

/// The untrained baseline: an ONNX model's bytes with every learned weight redrawn, so the same architecture runs
/// with seeded random weights. Conv/Gemm/MatMul weights are He-normal (std = sqrt(2 / fan_in), fan_in = input
/// channels per group x kernel area, or the Gemm/MatMul input width); Conv/Gemm biases are zero;
/// BatchNormalization becomes the identity (scale 1, bias 0, mean 0, variance 1). Other constants (Clip bounds,
/// shapes) keep their values. Draws are made in initializer order from a SplitMix64 stream
/// (Statistics.SeededGenerator), so a seed fixes them.
enum RandomWeights {
  /// The rewritten model; throws `PluginError.invalidParams` naming `file` when the protobuf cannot be walked.
  static func reinitialise(_ bytes: [UInt8], seed: UInt64, file: String) throws -> [UInt8] {
    let model = try fields(bytes, file: file)
    guard let graphField = model.first(where: { $0.number == 7 }) else {
      throw PluginError.invalidParams("\(file): no graph in the model")
    }
    let graph = try fields(Array(bytes[graphField.payload]), file: file)
    let graphBytes = Array(bytes[graphField.payload])
    let roles = try initializerRoles(graph, graphBytes, file: file)
    var generator = NormalSampler(seed: seed)
    var newGraph: [UInt8] = []
    for field in graph {
      guard field.number == 5 else {
        newGraph += graphBytes[field.whole]
        continue
      }
      let tensor = Array(graphBytes[field.payload])
      let rewritten = try rewrite(tensor, roles: roles, generator: &generator, file: file)
      append(field: 5, payload: rewritten ?? tensor, to: &newGraph)
    }
    var out: [UInt8] = []
    for field in model {
      if field.number == 7 { append(field: 7, payload: newGraph, to: &out) } else { out += bytes[field.whole] }
    }
    return out
  }

  enum Role { case heNormal(fanIn: Int), fill(Float) }

  /// What each named initializer becomes, from the nodes that read it, with the axis of a 2-D weight that
  /// holds its fan-in.
  static func initializerRoles(_ graph: [Field], _ bytes: [UInt8], file: String) throws -> [String: (Role, Int)] {
    var roles: [String: (Role, Int)] = [:]
    for node in graph where node.number == 1 {
      let parts = try fields(Array(bytes[node.payload]), file: file)
      let payload = Array(bytes[node.payload])
      let inputs = parts.filter { $0.number == 1 }.map { String(decoding: payload[$0.payload], as: UTF8.self) }
      guard let opField = parts.first(where: { $0.number == 4 }) else { continue }
      let op = String(decoding: payload[opField.payload], as: UTF8.self)
      let transB = try attributeInt("transB", parts, payload, file: file) ?? 0
      switch op {
      case "Conv", "Gemm":
        if inputs.count > 1 { roles[inputs[1]] = (.heNormal(fanIn: 0), op == "Gemm" && transB == 0 ? 0 : 1) }
        if inputs.count > 2 { roles[inputs[2]] = (.fill(0), 0) }
      case "MatMul":
        if inputs.count > 1 { roles[inputs[1]] = (.heNormal(fanIn: 0), 0) }
      case "BatchNormalization":
        for (index, value) in [(1, Float(1)), (2, 0), (3, 0), (4, 1)] where inputs.count > index {
          roles[inputs[index]] = (.fill(value), 0)
        }
      default: break
      }
    }
    return roles
  }

  /// An integer attribute of a node (AttributeProto field 1 = name, 3 = i).
  static func attributeInt(_ name: String, _ parts: [Field], _ payload: [UInt8], file: String) throws -> Int? {
    for attribute in parts where attribute.number == 5 {
      let body = Array(payload[attribute.payload])
      let inner = try fields(body, file: file)
      guard let nameField = inner.first(where: { $0.number == 1 }),
        String(decoding: body[nameField.payload], as: UTF8.self) == name,
        let value = inner.first(where: { $0.number == 3 })
      else { continue }
      return Int(truncatingIfNeeded: value.varint)
    }
    return nil
  }

  /// A float TensorProto with new values, or nil when the tensor keeps its own.
  static func rewrite(_ tensor: [UInt8], roles: [String: (Role, Int)], generator: inout NormalSampler, file: String)
    throws -> [UInt8]?
  {
    let parts = try fields(tensor, file: file)
    guard let nameField = parts.first(where: { $0.number == 8 }),
      let (role, fanAxis) = roles[String(decoding: tensor[nameField.payload], as: UTF8.self)],
      parts.first(where: { $0.number == 2 })?.varint == 1  // FLOAT
    else { return nil }
    var dims: [Int] = []
    for part in parts where part.number == 1 {
      if part.wire == 0 {
        dims.append(Int(part.varint))
      } else {
        dims += try packedVarints(Array(tensor[part.payload]), file: file)
      }
    }
    let count = dims.reduce(1, *)
    var values = [Float](repeating: 0, count: count)
    switch role {
    case .fill(let value): values = [Float](repeating: value, count: count)
    case .heNormal:
      // Conv [O, I/g, kh, kw]: I/g x kh x kw; Gemm transB=1 [N, K]: K; Gemm transB=0 and MatMul [K, N]: K.
      let fanIn = dims.count == 4 ? dims[1] * dims[2] * dims[3] : (dims.count == 2 ? dims[fanAxis] : max(count, 1))
      let std = (2 / Double(max(fanIn, 1))).squareRoot()
      for i in 0..<count { values[i] = Float(generator.nextNormal() * std) }
    }
    var out: [UInt8] = []
    for part in parts where part.number != 4 && part.number != 9 && part.number != 2 { out += tensor[part.whole] }
    appendVarint(UInt64(2 << 3), to: &out)
    appendVarint(1, to: &out)
    append(field: 9, payload: values.withUnsafeBytes { Array($0) }, to: &out)
    return out
  }
}
