#include "CNeuralKernels.h"
#include "Clones.h"

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
