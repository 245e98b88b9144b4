#ifndef CF_DEPTHWISE_H
#define CF_DEPTHWISE_H

// What the two channel-last depthwise kernels share (DepthwiseRows.c, DepthwiseChannelLast.c): the tile of channels,
// its vector type, the clamp's select, the columns without padding, and the inner loop over a kernel row's taps.

#include "CNeuralKernels.h"

// Channels per tile: one AVX-512 register, two AVX2 ones. Accumulators of a tile stay in registers.
#define TILE 16

typedef float vtile __attribute__((vector_size(TILE * sizeof(float))));
typedef int vmask __attribute__((vector_size(TILE * sizeof(int))));

// Macros rather than functions: vectors passed by value between functions built for different targets change
// the calling convention.
/// Lane by lane, `take ? b : a` (`take` all ones or zero per lane).
#define SELECT(a, b, take) ((vtile)(((vmask)(a) & ~(take)) | ((vmask)(b) & (take))))

/// The output columns [*first, *end) whose taps all fall inside the input columns: ox * sw - padLeft >= 0 and
/// ox * sw - padLeft + (kw - 1) * dw < inW.
static inline void interior_columns(cf_window g, int *first, int *end) {
  int last = g.inW - 1 + g.padLeft - (g.kw - 1) * g.dw;  // ox * sw <= last
  *first = (g.padLeft + g.sw - 1) / g.sw;
  *end = last < 0 ? 0 : last / g.sw + 1;
  if (*end > g.outW) *end = g.outW;
  if (*first > *end) *first = *end;
}

/// The row-by-row kernel (DepthwiseRows.c), which `cf_depthwise_nhwc` chooses on planes where most columns are
/// interior.
void cf_depthwise_nhwc_rows(const float *x, int channels, const float *packed, const float *bias, cf_window g,
                            float lower, float upper, float *y, size_t yPixelStride);

/// Adds to `acc[0..N)` kernel row `ky`'s taps of N adjacent outputs, the first one's leftmost input at `src`, input
/// pixels `pixel` floats apart: a window KW wide at stride SW (dilation 1), each input pixel loaded once for every
/// output and tap that reads it (3 x 3 at stride 1: 6 loads for 12 multiply-adds, not 12). Taps are added in the same
/// order as the generic loop's, so results do not depend on which loop ran.
#define ROW_TAPS_FIXED(N, KW, SW, src, pixel, wrow)                                                  \
  do {                                                                                               \
    vtile in_[(N - 1) * (SW) + (KW)];                                                                \
    for (int q = 0; q < (N - 1) * (SW) + (KW); q++)                                                  \
      __builtin_memcpy(&in_[q], (src) + (size_t)q * (pixel), sizeof(vtile));                         \
    for (int kx = 0; kx < (KW); kx++) {                                                              \
      vtile w_;                                                                                      \
      __builtin_memcpy(&w_, (wrow) + kx * TILE, sizeof w_);                                          \
      for (int k = 0; k < N; k++) acc[k] += w_ * in_[k * (SW) + kx];                                \
    }                                                                                                \
  } while (0)

/// The same for any window of `g`: fixed 3- and 5-wide windows at strides 1 and 2, a loop otherwise.
#define ROW_TAPS(N, g, src, pixel, wrow)                                                             \
  do {                                                                                               \
    if ((g).dw == 1 && (g).kw == 3 && (g).sw == 1) ROW_TAPS_FIXED(N, 3, 1, src, pixel, wrow);        \
    else if ((g).dw == 1 && (g).kw == 3 && (g).sw == 2) ROW_TAPS_FIXED(N, 3, 2, src, pixel, wrow);   \
    else if ((g).dw == 1 && (g).kw == 5 && (g).sw == 1) ROW_TAPS_FIXED(N, 5, 1, src, pixel, wrow);   \
    else if ((g).dw == 1 && (g).kw == 5 && (g).sw == 2) ROW_TAPS_FIXED(N, 5, 2, src, pixel, wrow);   \
    else {                                                                                           \
      for (int kx = 0; kx < (g).kw; kx++) {                                                          \
        vtile w_, v_;                                                                                \
        __builtin_memcpy(&w_, (wrow) + kx * TILE, sizeof w_);                                        \
        const float *p_ = (src) + (size_t)kx * (g).dw * (pixel);                                     \
        for (int k = 0; k < N; k++) {                                                                \
          __builtin_memcpy(&v_, p_ + (size_t)k * (g).sw * (pixel), sizeof v_);                       \
          acc[k] += w_ * v_;                                                                         \
        }                                                                                            \
      }                                                                                              \
    }                                                                                                \
  } while (0)

#endif
