#include "Clones.h"
#include "Depthwise.h"

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
  int first, end;
  interior_columns(g, &first, &end);
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

// Channel-last output, row by row: interior columns four at a time without tests, border columns with a test per
// tap. `packed` as `cf_depthwise_pack` lays it out.
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
