#ifndef CNEURALKERNELS_H
#define CNEURALKERNELS_H

#include <stddef.h>

/// A convolution window resolved against one input size (NeuralNet's ResolvedWindow, as C ints).
typedef struct {
  int inH, inW, outH, outW;
  int kh, kw, sh, sw, dh, dw;
  int padTop, padLeft;
} cf_window;

/// Floats of scratch `cf_depthwise_hwc` needs for window `g`.
size_t cf_depthwise_hwc_scratch(cf_window g);

/// Depthwise convolution of `channels` channels stored channel-last (`x[(iy * inW + ix) * channels + ch]`),
/// written channel-first (`y[ch * yChannelStride + oy * outW + ox]`), with `bias[ch]` added and the result
/// clamped to [lower, upper]. `weight` is `[channels][kh * kw]` (ONNX's depthwise layout); taps in the padding
/// read zero. Vectorised across channels, so it is equally fast on planes of any size; on x86-64 it is compiled
/// for AVX-512, AVX2 with FMA and the baseline, and the CPU's best runs.
void cf_depthwise_hwc(const float *x, int channels, const float *weight, const float *bias, cf_window g,
                      float lower, float upper, float *y, size_t yChannelStride, float *scratch);

/// `y[r * channels + j] = values[j]` for `rows` rows (a channel-last output's bias, before sgemm adds to it).
void cf_fill_rows(float *y, size_t rows, int channels, const float *values);

/// `y[i] = clamp(y[i], lower, upper)` (NaN stays NaN).
void cf_clamp(float *y, size_t count, float lower, float upper);

/// The input gradient of a depthwise convolution (no activation), channel-first: `dx[c] += sum over taps of
/// w[c][tap] * dy[c]` shifted to the tap's input positions. `weight` is `[channels][kh * kw]`.
void cf_depthwise_backward(const float *dy, int channels, const float *weight, cf_window g, float *dx);

#endif
