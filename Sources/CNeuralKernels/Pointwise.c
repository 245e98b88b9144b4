#include "CNeuralKernels.h"

// Output channels per packed panel: one AVX-512 register, two AVX2 ones, four SSE ones.
#define PANEL 16
// Rows whose inputs stay in cache while every panel of outputs passes over them.
#define ROW_BLOCK 96
// Inputs per pass over a block of rows: two panels' weights for them (32 KB) stay in the L1 cache while every tile
// of rows reads them, instead of coming from L2 once per tile.
#define K_BLOCK 256

size_t cf_pointwise_packed_size(int k, int m) { return (size_t)((m + PANEL - 1) / PANEL) * k * PANEL; }

void cf_pointwise_pack(const float *w, int k, int m, float *packed) {
  for (int p = 0; p < m; p += PANEL) {
    float *panel = packed + (size_t)(p / PANEL) * k * PANEL;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < PANEL; j++) panel[(size_t)i * PANEL + j] = p + j < m ? w[(size_t)(p + j) * k + i] : 0;
    }
  }
}

typedef float vpanel __attribute__((vector_size(PANEL * sizeof(float))));
typedef int vmaskp __attribute__((vector_size(PANEL * sizeof(int))));
#define PSELECT(a, b, take) ((vpanel)(((vmaskp)(a) & ~(take)) | ((vmaskp)(b) & (take))))

// Copies `n` floats; a whole panel as one vector move (a variable-length memcpy would be a call to the library's).
#define MOVE(dst, src, n)                                     \
  do {                                                        \
    if ((n) == PANEL) __builtin_memcpy((dst), (src), sizeof(vpanel)); \
    else __builtin_memcpy((dst), (src), (n) * sizeof(float)); \
  } while (0)

// Bias is already in `acc`; adds the residual, clamps, and stores the first `n` lanes at row `row`, column `col`.
#define EPILOGUE(acc, row, col, n)                                     \
  do {                                                                 \
    vpanel a_ = (acc);                                                 \
    if (residual) {                                                    \
      vpanel r_ = {0};                                                 \
      MOVE(&r_, residual + (size_t)(row) * ldr + (col), n);            \
      a_ += r_;                                                        \
    }                                                                  \
    a_ = PSELECT(a_, lo, a_ < lo);                                     \
    a_ = PSELECT(a_, hi, a_ > hi);                                     \
    MOVE(y + (size_t)(row) * ldy + (col), &a_, n);                     \
  } while (0)

// MR rows by PANELS panels of outputs, from row `r` on, inputs k0..<k1, in accumulators that must fit the registers.
// The first block of inputs starts from the bias, later ones from the partial sums the block before stored in `y`
// (a float32 store and load, exact); the last block applies the epilogue.
#define TILE_ROWS(MR, PANELS)                                                                                   \
  do {                                                                                                          \
    vpanel c[MR][PANELS];                                                                                       \
    for (int i = 0; i < MR; i++)                                                                                \
      for (int q = 0; q < PANELS; q++) {                                                                        \
        if (k0 == 0) c[i][q] = start[q];                                                                        \
        else MOVE(&c[i][q], y + (r + i) * ldy + p + q * PANEL, n[q]);                                           \
      }                                                                                                         \
    const float *a = x + r * ldx;                                                                               \
    for (int kk = k0; kk < k1; kk++) {                                                                          \
      vpanel w[PANELS];                                                                                         \
      for (int q = 0; q < PANELS; q++) __builtin_memcpy(&w[q], b[q] + (size_t)kk * PANEL, sizeof(vpanel));      \
      for (int i = 0; i < MR; i++) {                                                                            \
        float s = a[i * ldx + kk];                                                                              \
        for (int q = 0; q < PANELS; q++) c[i][q] += s * w[q];                                                   \
      }                                                                                                         \
    }                                                                                                           \
    for (int i = 0; i < MR; i++)                                                                                \
      for (int q = 0; q < PANELS; q++) {                                                                        \
        if (k1 == k) EPILOGUE(c[i][q], r + i, p + q * PANEL, n[q]);                                             \
        else MOVE(y + (r + i) * ldy + p + q * PANEL, &c[i][q], n[q]);                                           \
      }                                                                                                         \
  } while (0)

// One kernel per instruction set: tiles of MR rows by two panels where two panels of outputs remain, else of MR1
// rows by one (AVX-512: 8 x 2 and 16 x 1 accumulators of its 32 registers; AVX2: 6 x 1 and 6 x 1 of two registers
// each, of 16; SSE: 3 x 1 and 3 x 1 of four each). Every row, in any tile or in the tail, is the same chain of fused
// multiply-adds over the inputs in order, started from the bias, so its value does not depend on the other rows.
#define POINTWISE_KERNEL(NAME, ATTRIBUTES, MR, TWO, MR1)                                                         \
  ATTRIBUTES static void NAME(const float *x, size_t rows, size_t ldx, int k, const float *packed, int m,       \
                              const float *bias, float lower, float upper, const float *residual, size_t ldr,  \
                              float *y, size_t ldy) {                                                          \
    vpanel lo, hi;                                                                                             \
    for (int j = 0; j < PANEL; j++) {                                                                          \
      lo[j] = lower;                                                                                           \
      hi[j] = upper;                                                                                           \
    }                                                                                                          \
    for (size_t r0 = 0; r0 < rows; r0 += ROW_BLOCK) {                                                          \
      size_t end = r0 + ROW_BLOCK < rows ? r0 + ROW_BLOCK : rows;                                              \
      for (int p = 0; p < m;) {                                                                                \
        int panels = TWO && m - p > PANEL ? 2 : 1;                                                             \
        const float *b[2];                                                                                     \
        int n[2];                                                                                              \
        vpanel start[2];                                                                                       \
        for (int q = 0; q < panels; q++) {                                                                     \
          int first = p + q * PANEL;                                                                           \
          n[q] = m - first < PANEL ? m - first : PANEL;                                                        \
          b[q] = packed + (size_t)(first / PANEL) * k * PANEL;                                                 \
          for (int j = 0; j < PANEL; j++) start[q][j] = j < n[q] ? bias[first + j] : 0;                        \
        }                                                                                                      \
        for (int k0 = 0; k0 < k; k0 += K_BLOCK) {                                                              \
          int k1 = k0 + K_BLOCK < k ? k0 + K_BLOCK : k;                                                        \
          size_t r = r0;                                                                                       \
          if (panels == 2) {                                                                                   \
            for (; r + MR <= end; r += MR) TILE_ROWS(MR, 2);                                                   \
            if (MR > 4 && r + 4 <= end) { TILE_ROWS(4, 2); r += 4; }                                          \
            if (MR > 2 && r + 2 <= end) { TILE_ROWS(2, 2); r += 2; }                                          \
            if (r < end) { TILE_ROWS(1, 2); r += 1; }                                                          \
          } else {                                                                                             \
            for (; r + MR1 <= end; r += MR1) TILE_ROWS(MR1, 1);                                                \
            if (MR1 > 8 && r + 8 <= end) { TILE_ROWS(8, 1); r += 8; }                                         \
            if (MR1 > 4 && r + 4 <= end) { TILE_ROWS(4, 1); r += 4; }                                         \
            if (MR1 > 2 && r + 2 <= end) { TILE_ROWS(2, 1); r += 2; }                                         \
            if (r < end) { TILE_ROWS(1, 1); r += 1; }                                                          \
          }                                                                                                    \
        }                                                                                                      \
        p += panels * PANEL;                                                                                   \
      }                                                                                                        \
    }                                                                                                          \
  }

#if defined(__x86_64__)
POINTWISE_KERNEL(pointwise_avx512, __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), 8, 1, 16)
POINTWISE_KERNEL(pointwise_avx2, __attribute__((target("avx2,fma"))), 6, 0, 6)
#endif
POINTWISE_KERNEL(pointwise_baseline, , 3, 0, 3)

typedef void (*pointwise_fn)(const float *, size_t, size_t, int, const float *, int, const float *, float, float,
                             const float *, size_t, float *, size_t);

static pointwise_fn choose(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq"))
    return pointwise_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return pointwise_avx2;
#endif
  return pointwise_baseline;
}

int cf_pointwise_at_level(int level, const float *x, size_t rows, size_t ldx, int k, const float *packed, int m,
                          const float *bias, float lower, float upper, const float *residual, size_t ldr, float *y,
                          size_t ldy) {
  pointwise_fn kernels[3] = {pointwise_baseline, 0, 0};
#if defined(__x86_64__)
  pointwise_fn best = choose();
  kernels[1] = best == pointwise_baseline ? 0 : pointwise_avx2;
  kernels[2] = best == pointwise_avx512 ? pointwise_avx512 : 0;
#endif
  if (level < 0 || level > 2 || !kernels[level]) return -1;
  kernels[level](x, rows, ldx, k, packed, m, bias, lower, upper, residual, ldr, y, ldy);
  return 0;
}

void cf_pointwise(const float *x, size_t rows, size_t ldx, int k, const float *packed, int m, const float *bias,
                  float lower, float upper, const float *residual, size_t ldr, float *y, size_t ldy) {
  static pointwise_fn kernel;
  if (!kernel) kernel = choose();  // a race writes the same pointer twice
  kernel(x, rows, ldx, k, packed, m, bias, lower, upper, residual, ldr, y, ldy);
}
