#include "CNeuralKernels.h"
#include "Clones.h"
#include "DepthwiseTaps.h"

// Channels per tile: one AVX-512 register, two AVX2 ones. Accumulators of a tile stay in registers.
#define TILE 16

typedef float vtile __attribute__((vector_size(TILE * sizeof(float))));
typedef int vmask __attribute__((vector_size(TILE * sizeof(int))));

// Macros rather than functions: vectors passed by value between functions built for different targets change
// the calling convention.
/// Lane by lane, `take ? b : a` (`take` all ones or zero per lane).
#define SELECT(a, b, take) ((vtile)(((vmask)(a) & ~(take)) | ((vmask)(b) & (take))))
/// TILE floats from `p`, unaligned.
#define LOAD(v, p) __builtin_memcpy(&(v), (p), sizeof(vtile))

/// One output row of one full tile of TILE channels: `out[ox * ostride + j]`. `wt` is `[taps][TILE]`. Columns go four
/// at a time, each weight loaded once for the four, in four sums that do not wait on each other; only columns with
/// taps in the padding check each tap.
__attribute__((always_inline)) static inline void tile_row(
    const float *x, int channels, int c0, const float *wt, const float *bias, cf_window g, int oy, float lower,
    float upper, float *out, size_t ostride) {
  vtile b, lo, hi, acc[4], w, v;
  LOAD(b, bias);
  for (int j = 0; j < TILE; j++) {
    lo[j] = lower;
    hi[j] = upper;
  }
  // Interior columns: ox * sw - padLeft >= 0 and ox * sw - padLeft + (kw - 1) * dw < inW.
  int first = (g.padLeft + g.sw - 1) / g.sw;
  int last = g.inW - 1 + g.padLeft - (g.kw - 1) * g.dw;  // ox * sw <= last
  int end = last < 0 ? 0 : last / g.sw + 1;
  if (end > g.outW) end = g.outW;
  if (first > end) first = end;
  size_t step = (size_t)g.sw * channels;
  for (int ox = 0; ox < g.outW;) {
    if (ox >= first && ox + 4 <= end) {
      for (int k = 0; k < 4; k++) acc[k] = b;
      for (int ky = 0; ky < g.kh; ky++) {
        int iy = oy * g.sh - g.padTop + ky * g.dh;
        if (iy < 0 || iy >= g.inH) continue;
        const float *src = x + ((size_t)iy * g.inW + ox * g.sw - g.padLeft) * channels + c0;
        ROW_TAPS(4, g, src, channels, wt + ky * g.kw * TILE);
      }
      for (int k = 0; k < 4; k++) {
        vtile a = SELECT(acc[k], lo, acc[k] < lo);
        a = SELECT(a, hi, a > hi);
        __builtin_memcpy(out + (ox + k) * ostride, &a, sizeof a);
      }
      ox += 4;
      continue;
    }
    // Near the borders: up to four columns, each tap checked; still four independent sums.
    int count = g.outW - ox < 4 ? g.outW - ox : 4;
    for (int k = 0; k < 4; k++) acc[k] = b;
    for (int ky = 0; ky < g.kh; ky++) {
      int iy = oy * g.sh - g.padTop + ky * g.dh;
      if (iy < 0 || iy >= g.inH) continue;
      const float *line = x + (size_t)iy * g.inW * channels + c0;
      for (int kx = 0; kx < g.kw; kx++) {
        LOAD(w, wt + (ky * g.kw + kx) * TILE);
        for (int k = 0; k < 4; k++) {
          int ix = (ox + k) * g.sw - g.padLeft + kx * g.dw;
          if (k >= count || ix < 0 || ix >= g.inW) continue;
          LOAD(v, line + (size_t)ix * channels);
          acc[k] += w * v;
        }
      }
    }
    for (int k = 0; k < count; k++) {
      vtile a = SELECT(acc[k], lo, acc[k] < lo);
      a = SELECT(a, hi, a > hi);
      __builtin_memcpy(out + (ox + k) * ostride, &a, sizeof a);
    }
    ox += count;
  }
}

/// The same for a last tile of n < TILE channels, one channel at a time.
static void partial_row(const float *x, int channels, int c0, int n, const float *wt, const float *bias,
                        cf_window g, int oy, float lower, float upper, float *out, size_t ostride) {
  for (int ox = 0; ox < g.outW; ox++) {
    for (int j = 0; j < n; j++) {
      float acc = bias[c0 + j];
      for (int ky = 0; ky < g.kh; ky++) {
        int iy = oy * g.sh - g.padTop + ky * g.dh;
        if (iy < 0 || iy >= g.inH) continue;
        for (int kx = 0; kx < g.kw; kx++) {
          int ix = ox * g.sw - g.padLeft + kx * g.dw;
          if (ix < 0 || ix >= g.inW) continue;
          acc += wt[(ky * g.kw + kx) * TILE + j] * x[((size_t)iy * g.inW + ix) * channels + c0 + j];
        }
      }
      acc = acc < lower ? lower : acc;
      out[ox * ostride + j] = acc > upper ? upper : acc;
    }
  }
}

typedef float v8 __attribute__((vector_size(8 * sizeof(float))));

/// Eight rows of eight floats (`src[p * srcStride + k]`) to eight columns (`dst[k * dstStride + p]`): the three rounds
/// of shuffles of an 8 x 8 transpose, as the target's own shuffle instructions.
__attribute__((always_inline)) static inline void transpose8(const float *src, size_t srcStride, float *dst,
                                                              size_t dstStride) {
  v8 r[8], t[8], u[8];
  for (int p = 0; p < 8; p++) __builtin_memcpy(&r[p], src + p * srcStride, sizeof(v8));
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int i = 0; i < 4; i++) {
    v8 low = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    v8 high = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    __builtin_memcpy(dst + i * dstStride, &low, sizeof(v8));
    __builtin_memcpy(dst + (i + 4) * dstStride, &high, sizeof(v8));
  }
}

// Channel-last output, row by row: interior columns four at a time without tests, border columns with a test per
// tap (`cf_depthwise_nhwc` chooses this on planes where most columns are interior). `packed` as `cf_depthwise_pack`
// lays it out.
CLONES
void cf_depthwise_nhwc_rows(const float *x, int channels, const float *packed, const float *bias, cf_window g,
                            float lower, float upper, float *y, size_t yPixelStride) {
  int taps = g.kh * g.kw;
  for (int c0 = 0; c0 < channels; c0 += TILE) {
    int n = channels - c0 < TILE ? channels - c0 : TILE;
    const float *wt = packed + (size_t)c0 * taps;
    for (int oy = 0; oy < g.outH; oy++) {
      float *out = y + (size_t)oy * g.outW * yPixelStride + c0;
      if (n == TILE) {
        tile_row(x, channels, c0, wt, bias + c0, g, oy, lower, upper, out, yPixelStride);
      } else {
        partial_row(x, channels, c0, n, wt, bias, g, oy, lower, upper, out, yPixelStride);
      }
    }
  }
}

CLONES
void cf_transpose(const float *x, size_t rows, size_t columns, float *y) {
  size_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    size_t c = 0;
    for (; c + 8 <= columns; c += 8) transpose8(x + r * columns + c, columns, y + c * rows + r, rows);
    for (; c < columns; c++) {
      for (size_t i = 0; i < 8; i++) y[c * rows + r + i] = x[(r + i) * columns + c];
    }
  }
  for (; r < rows; r++) {
    for (size_t c = 0; c < columns; c++) y[c * rows + r] = x[r * columns + c];
  }
}
