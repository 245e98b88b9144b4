#include "CNeuralKernels.h"

#include <pthread.h>

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
    const float *a[MR];                                                                                         \
    for (int i = 0; i < MR; i++) a[i] = ROW_START(r + i);                                                      \
    for (int kk = k0; kk < k1; kk++) {                                                                          \
      vpanel w[PANELS];                                                                                         \
      for (int q = 0; q < PANELS; q++) __builtin_memcpy(&w[q], b[q] + (size_t)kk * PANEL, sizeof(vpanel));      \
      for (int i = 0; i < MR; i++) {                                                                            \
        float s = a[i][INPUT(kk)];                                                                              \
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
//
// Row r's inputs start at ROW_START(r) and input kk of a row lies INPUT(kk) floats after that: a dense row for a 1x1
// convolution, the window's taps in a zero-bordered image for any other (see `cf_conv_taps`).
#define POINTWISE_KERNEL(NAME, ATTRIBUTES, MR, TWO, MR1)                                                         \
  ATTRIBUTES static void NAME(const float *x, size_t rows, size_t ldx, const size_t *starts, const int *offsets, \
                              int k, const float *packed, int m, const float *bias, float lower, float upper,  \
                              const float *residual, size_t ldr, float *y, size_t ldy) {                       \
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

// The three instruction sets' kernels of one kind, PREFIX_avx512, PREFIX_avx2 and PREFIX_baseline.
#if defined(__x86_64__)
#define EVERY_LEVEL(PREFIX)                                                                                        \
  POINTWISE_KERNEL(PREFIX##_avx512, __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), 8, 1, 16) \
  POINTWISE_KERNEL(PREFIX##_avx2, __attribute__((target("avx2,fma"))), 6, 0, 6)                                    \
  POINTWISE_KERNEL(PREFIX##_baseline, , 3, 0, 3)
#else
#define EVERY_LEVEL(PREFIX) POINTWISE_KERNEL(PREFIX##_baseline, , 3, 0, 3)
#endif

// Rows of a matrix, `ldx` floats apart.
#define ROW_START(row) (x + (row) * ldx)
#define INPUT(kk) (kk)
EVERY_LEVEL(pointwise)
#undef ROW_START
#undef INPUT

// Windows of a zero-bordered image: row r's window at `starts[r]`, tap kk at `offsets[kk]` from it.
#define ROW_START(row) (x + starts[row])
#define INPUT(kk) (offsets[kk])
EVERY_LEVEL(taps)
#undef ROW_START
#undef INPUT

typedef void (*kernel_fn)(const float *, size_t, size_t, const size_t *, const int *, int, const float *, int,
                          const float *, float, float, const float *, size_t, float *, size_t);

/// The kernels of the CPU's instruction sets, index 0 the baseline, 1 AVX2, 2 AVX-512; null where the CPU lacks one.
static void available(kernel_fn pointwise[3], kernel_fn taps[3]) {
  pointwise[0] = pointwise_baseline;
  taps[0] = taps_baseline;
  pointwise[1] = pointwise[2] = taps[1] = taps[2] = 0;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    pointwise[1] = pointwise_avx2;
    taps[1] = taps_avx2;
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq")) {
    pointwise[2] = pointwise_avx512;
    taps[2] = taps_avx512;
  }
#endif
}

/// The CPU's best kernel of each kind, chosen once per process.
static kernel_fn best_pointwise, best_taps;
static pthread_once_t chosen = PTHREAD_ONCE_INIT;
static void choose_once(void) {
  kernel_fn pointwise[3], taps[3];
  available(pointwise, taps);
  int level = pointwise[2] ? 2 : pointwise[1] ? 1 : 0;
  best_taps = taps[level];
  best_pointwise = pointwise[level];
}
static void choose(void) { pthread_once(&chosen, choose_once); }

int cf_pointwise_at_level(int level, const float *x, size_t rows, size_t ldx, int k, const float *packed, int m,
                          const float *bias, float lower, float upper, const float *residual, size_t ldr, float *y,
                          size_t ldy) {
  kernel_fn pointwise[3], taps[3];
  available(pointwise, taps);
  if (level < 0 || level > 2 || !pointwise[level]) return -1;
  pointwise[level](x, rows, ldx, 0, 0, k, packed, m, bias, lower, upper, residual, ldr, y, ldy);
  return 0;
}

int cf_conv_taps_at_level(int level, const float *image, const size_t *starts, size_t rows, const int *offsets, int k,
                          const float *packed, int m, const float *bias, float lower, float upper, float *y,
                          size_t ldy) {
  kernel_fn pointwise[3], taps[3];
  available(pointwise, taps);
  if (level < 0 || level > 2 || !taps[level]) return -1;
  taps[level](image, rows, 0, starts, offsets, k, packed, m, bias, lower, upper, 0, 0, y, ldy);
  return 0;
}

void cf_pointwise(const float *x, size_t rows, size_t ldx, int k, const float *packed, int m, const float *bias,
                  float lower, float upper, const float *residual, size_t ldr, float *y, size_t ldy) {
  choose();
  best_pointwise(x, rows, ldx, 0, 0, k, packed, m, bias, lower, upper, residual, ldr, y, ldy);
}

void cf_conv_taps(const float *image, const size_t *starts, size_t rows, const int *offsets, int k,
                  const float *packed, int m, const float *bias, float lower, float upper, float *y, size_t ldy) {
  choose();
  best_taps(image, rows, 0, starts, offsets, k, packed, m, bias, lower, upper, 0, 0, y, ldy);
}
