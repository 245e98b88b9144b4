#include "CNeuralKernels.h"
#include "Clones.h"

#include <stdlib.h>


// The gradient is scattered channel-last, so that the innermost loop runs over channels (hundreds, contiguous,
// vectorised) rather than over the few columns of a small plane: dy and the weights are transposed in, dx out.
CLONES void cf_depthwise_backward(const float *dy, int channels, const float *weight, cf_window g, float *dx) {
  size_t inPlane = (size_t)g.inH * g.inW, outPlane = (size_t)g.outH * g.outW, C = (size_t)channels;
  int taps = g.kh * g.kw;
  float *dyT = malloc(outPlane * C * sizeof(float));
  float *dxT = calloc(inPlane * C, sizeof(float));
  float *wT = malloc((size_t)taps * C * sizeof(float));
  if (!dyT || !dxT || !wT) abort();
  for (size_t c = 0; c < C; c++) {
    for (size_t p = 0; p < outPlane; p++) dyT[p * C + c] = dy[c * outPlane + p];
    for (int t = 0; t < taps; t++) wT[(size_t)t * C + c] = weight[c * taps + t];
  }
  for (int oy = 0; oy < g.outH; oy++) {
    for (int ox = 0; ox < g.outW; ox++) {
      const float *s = dyT + ((size_t)oy * g.outW + ox) * C;
      for (int ky = 0; ky < g.kh; ky++) {
        int iy = oy * g.sh - g.padTop + ky * g.dh;
        if (iy < 0 || iy >= g.inH) continue;
        for (int kx = 0; kx < g.kw; kx++) {
          int ix = ox * g.sw - g.padLeft + kx * g.dw;
          if (ix < 0 || ix >= g.inW) continue;
          float *d = dxT + ((size_t)iy * g.inW + ix) * C;
          const float *w = wT + (size_t)(ky * g.kw + kx) * C;
          for (size_t c = 0; c < C; c++) d[c] += w[c] * s[c];
        }
      }
    }
  }
  for (size_t c = 0; c < C; c++) {
    for (size_t p = 0; p < inPlane; p++) dx[c * inPlane + p] += dxT[p * C + c];
  }
  free(dyT);
  free(dxT);
  free(wT);
}
