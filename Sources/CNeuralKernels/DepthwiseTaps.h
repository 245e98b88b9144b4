#ifndef CF_DEPTHWISE_TAPS_H
#define CF_DEPTHWISE_TAPS_H

// The inner loop of the channel-last depthwise kernels, for a file that defines TILE, `vtile` and `vtile acc[N]`.

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
