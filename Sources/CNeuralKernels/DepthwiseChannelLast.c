#include "Clones.h"
#include "Depthwise.h"

#include <string.h>

/// Width in pixels of a tile's zero-bordered copy: every column any output's taps reach.
static int padded_width(cf_window g) {
  int reach = (g.outW - 1) * g.sw + (g.kw - 1) * g.dw + 1;
  return reach > g.padLeft + g.inW ? reach : g.padLeft + g.inW;
}

size_t cf_depthwise_nhwc_scratch(cf_window g) { return (size_t)g.inH * padded_width(g) * TILE; }

size_t cf_depthwise_packed_size(int channels, int taps) {
  return (size_t)((channels + TILE - 1) / TILE) * taps * TILE;
}

void cf_depthwise_pack(const float *weight, int channels, int taps, float *packed) {
  for (int c0 = 0; c0 < channels; c0 += TILE) {
    float *wt = packed + (size_t)c0 * taps;
    for (int t = 0; t < taps; t++) {
      for (int j = 0; j < TILE; j++) wt[t * TILE + j] = c0 + j < channels ? weight[(size_t)(c0 + j) * taps + t] : 0;
    }
  }
}

/// N outputs (1 to 8) of row `oy` from column `ox` on, all lanes of the tile, from the padded copy `pad` (`[inH]
/// [width][TILE]`, left border `padLeft` columns of zeros): N sums that do not wait on each other, no bounds test
/// but the kernel rows that fall in the top or bottom padding.
#define OUTPUTS(N)                                                                           \
  do {                                                                                       \
    vtile acc[N];                                                                            \
    for (int k = 0; k < N; k++) acc[k] = b;                                                  \
    for (int ky = 0; ky < g.kh; ky++) {                                                      \
      int iy = oy * g.sh - g.padTop + ky * g.dh;                                             \
      if (iy < 0 || iy >= g.inH) continue;                                                   \
      const float *src = pad + ((size_t)iy * width + (size_t)ox * g.sw) * TILE;              \
      ROW_TAPS(N, g, src, TILE, wt + ky * g.kw * TILE);                                      \
    }                                                                                        \
    for (int k = 0; k < N; k++) {                                                            \
      vtile a = SELECT(acc[k], lo, acc[k] < lo);                                             \
      a = SELECT(a, hi, a > hi);                                                             \
      float *dst = y + ((size_t)oy * g.outW + ox + k) * yPixelStride + c0;                   \
      if (n == TILE) __builtin_memcpy(dst, &a, sizeof a);                                    \
      else __builtin_memcpy(dst, &a, (size_t)n * sizeof(float));                             \
    }                                                                                        \
  } while (0)

// Each tile of 16 channels is first copied into a buffer with its left and right padding as zeros (and lanes past
// the last channel as zeros), so that every output column runs the same loop without testing its taps; the copy
// costs one load and store per input value against 9 or 25 multiply-adds per output. On 7 x 7 planes with 5 x 5
// windows only three of seven columns have all their taps inside the input: without the copy most outputs took the
// checked path.
CLONES
static void padded_tiles(const float *x, int channels, const float *packed, const float *bias, cf_window g,
                         float lower, float upper, float *y, size_t yPixelStride, float *pad) {
  int taps = g.kh * g.kw;
  int width = padded_width(g);
  vtile lo, hi;
  for (int j = 0; j < TILE; j++) {
    lo[j] = lower;
    hi[j] = upper;
  }
  for (int iy = 0; iy < g.inH; iy++) {
    float *row = pad + (size_t)iy * width * TILE;
    memset(row, 0, (size_t)g.padLeft * TILE * sizeof(float));
    int right = width - g.padLeft - g.inW;
    memset(row + (size_t)(g.padLeft + g.inW) * TILE, 0, (size_t)right * TILE * sizeof(float));
  }
  for (int c0 = 0; c0 < channels; c0 += TILE) {
    int n = channels - c0 < TILE ? channels - c0 : TILE;
    const float *wt = packed + (size_t)c0 * taps;
    vtile b = {0};
    for (int j = 0; j < n; j++) b[j] = bias[c0 + j];
    for (int iy = 0; iy < g.inH; iy++) {
      float *dst = pad + ((size_t)iy * width + g.padLeft) * TILE;
      const float *src = x + (size_t)iy * g.inW * channels + c0;
      if (n == TILE) {
        for (int ix = 0; ix < g.inW; ix++) __builtin_memcpy(dst + (size_t)ix * TILE, src + (size_t)ix * channels, TILE * sizeof(float));
      } else {
        for (int ix = 0; ix < g.inW; ix++) {
          for (int j = 0; j < TILE; j++) dst[(size_t)ix * TILE + j] = j < n ? src[(size_t)ix * channels + j] : 0;
        }
      }
    }
    // Rows in groups of up to eight outputs: a 7-wide plane is one group of 7, a 14-wide one 8 + 6.
    for (int oy = 0; oy < g.outH; oy++) {
      int ox = 0;
      for (; ox + 8 <= g.outW; ox += 8) OUTPUTS(8);
      switch (g.outW - ox) {
        case 7: OUTPUTS(7); break;
        case 6: OUTPUTS(6); break;
        case 5: OUTPUTS(5); break;
        case 4: OUTPUTS(4); break;
        case 3: OUTPUTS(3); break;
        case 2: OUTPUTS(2); break;
        case 1: OUTPUTS(1); break;
        default: break;
      }
    }
  }
}

void cf_depthwise_nhwc(const float *x, int channels, const float *packed, const float *bias, cf_window g,
                       float lower, float upper, float *y, size_t yPixelStride, float *scratch) {
  // The copy pays on planes up to 16 wide, and where a quarter of the columns or more would take the tested path
  // (7 x 7 planes, 5 x 5 windows: 4 of 7); on 56 x 56 and 112 x 112 planes it made the layer up to twice as slow.
  int first, end;
  interior_columns(g, &first, &end);
  if (g.outW > 16 && 4 * (end - first) >= 3 * g.outW) {
    cf_depthwise_nhwc_rows(x, channels, packed, bias, g, lower, upper, y, yPixelStride);
  } else {
    padded_tiles(x, channels, packed, bias, g, lower, upper, y, yPixelStride, scratch);
  }
}
