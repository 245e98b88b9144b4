#ifndef CNEURALKERNELS_H
#define CNEURALKERNELS_H

#include <stddef.h>

/// A convolution window resolved against one input size (NeuralNet's ResolvedWindow, as C ints).
typedef struct {
  int inH, inW, outH, outW;
  int kh, kw, sh, sw, dh, dw;
  int padTop, padLeft;
} cf_window;

/// Floats of scratch `cf_depthwise_nhwc` needs for window `g`.
size_t cf_depthwise_nhwc_scratch(cf_window g);

/// Floats `cf_depthwise_pack` writes for `channels` channels of `taps` taps.
size_t cf_depthwise_packed_size(int channels, int taps);

/// Lays out depthwise weights `[channels][taps]` (ONNX's layout) as tiles of 16 channels, `[tile][tap][16]`, zero
/// past the last channel: the layout `cf_depthwise_nhwc` reads. Done once per model; a block of channels starting
/// at a multiple of 16, `first`, starts at `packed + first * taps`.
void cf_depthwise_pack(const float *weight, int channels, int taps, float *packed);

/// Depthwise convolution channel-last in and out: `x[(iy * inW + ix) * channels + ch]` to
/// `y[(oy * outW + ox) * yPixelStride + ch]`, with `bias[ch]` added and the result clamped to [lower, upper] (NaN
/// stays NaN); weights packed by `cf_depthwise_pack`, taps in the padding read zero. Vectorised across channels, so it
/// is equally fast on planes of any size; on x86-64 it is compiled for AVX-512, AVX2 with FMA and the baseline, and
/// the CPU's best runs.
void cf_depthwise_nhwc(const float *x, int channels, const float *packed, const float *bias, cf_window g,
                       float lower, float upper, float *y, size_t yPixelStride, float *scratch);

/// Floats `cf_pointwise_pack` writes for a `[m][k]` weight matrix (m output channels, k inputs).
size_t cf_pointwise_packed_size(int k, int m);

/// Lays out a 1x1 convolution's weights `w[m][k]` (row-major) in panels of 16 output channels, `k` rows each,
/// zero-padded past `m`: the only layout `cf_pointwise` reads. Done once per model.
void cf_pointwise_pack(const float *w, int k, int m, float *packed);

/// A 1x1 convolution of channel-last rows: `y[r * ldy + j] = clamp(bias[j] + sum_i x[r * ldx + i] * w[j][i]
/// (+ residual[r * ldr + j] when `residual` is not NULL))` for `rows` rows and `m` outputs, `w` packed by
/// `cf_pointwise_pack`. Every row is computed by the same sequence of operations wherever it sits in the call, so a
/// row's value never depends on the other rows; bias, residual and clamp are applied while the row is in registers.
void cf_pointwise(const float *x, size_t rows, size_t ldx, int k, const float *packed, int m, const float *bias,
                  float lower, float upper, const float *residual, size_t ldr, float *y, size_t ldy);

/// Any ungrouped convolution as `cf_pointwise` computes a 1x1 one, reading each output pixel's window where it lies
/// in a zero-bordered channel-last image instead of a gathered copy: output row r's window starts at
/// `image + starts[r]`, and its tap kk (in the order of the packed weights' inputs, `[kh][kw][C]`) is
/// `offsets[kk]` floats further. No residual. Rows are computed as `cf_pointwise` computes them.
void cf_conv_taps(const float *image, const size_t *starts, size_t rows, const int *offsets, int k,
                  const float *packed, int m, const float *bias, float lower, float upper, float *y, size_t ldy);

/// `cf_conv_taps` at one instruction set, as `cf_pointwise_at_level`.
int cf_conv_taps_at_level(int level, const float *image, const size_t *starts, size_t rows, const int *offsets, int k,
                          const float *packed, int m, const float *bias, float lower, float upper, float *y,
                          size_t ldy);

/// `cf_pointwise` through one instruction set's kernel: 0 the baseline, 1 AVX2 with FMA, 2 AVX-512. Returns -1
/// (and computes nothing) when the CPU lacks it. For tests: `cf_pointwise` itself runs the CPU's best.
int cf_pointwise_at_level(int level, const float *x, size_t rows, size_t ldx, int k, const float *packed, int m,
                          const float *bias, float lower, float upper, const float *residual, size_t ldr, float *y,
                          size_t ldy);

/// `y[c * rows + r] = x[r * columns + c]`: a row-major matrix transposed, in 8 x 8 blocks of shuffles.
void cf_transpose(const float *x, size_t rows, size_t columns, float *y);

/// The input gradient of a depthwise convolution (no activation), channel-first: `dx[c] += sum over taps of
/// w[c][tap] * dy[c]` shifted to the tap's input positions. `weight` is `[channels][kh * kw]`.
void cf_depthwise_backward(const float *dy, int channels, const float *weight, cf_window g, float *dx);

#endif
