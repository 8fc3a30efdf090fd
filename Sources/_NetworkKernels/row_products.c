#include "_NetworkKernels.h"
#include <string.h>

/* out[r][j] = sum_k x[r][k] * w[j][k] for each of `rows` rows, each computed by the same sequence of
 * operations whatever the other rows are: per row, NK_CHAINS independent 16-lane partial sums over k
 * (chunk c of 16 values goes to chain c mod NK_CHAINS, in order of k), a scalar sum of the remainder,
 * then the chains' lanes added in a fixed order and the remainder last. A row's outputs are therefore
 * the same bits in any batch, which a BLAS gemm does not promise (its kernels and packing depend on
 * the shapes). Each weight row is read from memory once for all rows, with no packing: for a few rows
 * the product is bound by reading the weights, and the independent chains keep a single row from
 * waiting on the latency of one long sum.
 * Compiled for AVX-512, AVX2 and the baseline, chosen at load time (one choice per process). */

#define NK_LANES 16
#define NK_CHAINS 4
#define NK_ROW_BLOCK 4

#define NK_DEFINE_ROW_PRODUCTS(T, NAME, VEC)                                                          \
    typedef T VEC __attribute__((vector_size(NK_LANES * sizeof(T))));                                 \
    __attribute__((target_clones("avx512f", "avx2", "default")))                                     \
    void NAME(const T *x, ptrdiff_t rows, ptrdiff_t n_in, const T *w, ptrdiff_t n_out, T *out) {      \
        const ptrdiff_t chunks = n_in / NK_LANES, full = chunks * NK_LANES;                            \
        const ptrdiff_t groups = chunks / NK_CHAINS;                                                   \
        for (ptrdiff_t j = 0; j < n_out; j++) {                                                        \
            const T *wj = w + j * n_in;                                                                \
            for (ptrdiff_t r0 = 0; r0 < rows; r0 += NK_ROW_BLOCK) {                                    \
                const ptrdiff_t nr = rows - r0 < NK_ROW_BLOCK ? rows - r0 : NK_ROW_BLOCK;              \
                VEC acc[NK_ROW_BLOCK][NK_CHAINS];                                                      \
                for (ptrdiff_t i = 0; i < NK_ROW_BLOCK; i++)                                           \
                    for (int c = 0; c < NK_CHAINS; c++) acc[i][c] = (VEC){0};                          \
                for (ptrdiff_t g = 0; g < groups; g++) {                                               \
                    VEC wv[NK_CHAINS];                                                                 \
                    memcpy(wv, wj + g * NK_CHAINS * NK_LANES, sizeof wv);                              \
                    for (ptrdiff_t i = 0; i < nr; i++) {                                               \
                        VEC xv[NK_CHAINS];                                                             \
                        memcpy(xv, x + (r0 + i) * n_in + g * NK_CHAINS * NK_LANES, sizeof xv);         \
                        for (int c = 0; c < NK_CHAINS; c++) acc[i][c] += wv[c] * xv[c];                \
                    }                                                                                  \
                }                                                                                      \
                for (ptrdiff_t q = groups * NK_CHAINS; q < chunks; q++) {                              \
                    VEC wq;                                                                            \
                    memcpy(&wq, wj + q * NK_LANES, sizeof wq);                                         \
                    for (ptrdiff_t i = 0; i < nr; i++) {                                               \
                        VEC xq;                                                                        \
                        memcpy(&xq, x + (r0 + i) * n_in + q * NK_LANES, sizeof xq);                    \
                        acc[i][q % NK_CHAINS] += wq * xq;                                              \
                    }                                                                                  \
                }                                                                                      \
                for (ptrdiff_t i = 0; i < nr; i++) {                                                   \
                    const T *xr = x + (r0 + i) * n_in;                                                 \
                    T rest = 0;                                                                        \
                    for (ptrdiff_t k = full; k < n_in; k++) rest += wj[k] * xr[k];                     \
                    VEC lanes = (acc[i][0] + acc[i][1]) + (acc[i][2] + acc[i][3]);                     \
                    T s = 0;                                                                           \
                    for (int l = 0; l < NK_LANES; l++) s += lanes[l];                                  \
                    out[(r0 + i) * n_out + j] = s + rest;                                              \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    }

NK_DEFINE_ROW_PRODUCTS(float, nk_row_products_f32, nk_vec_f32)
NK_DEFINE_ROW_PRODUCTS(double, nk_row_products_f64, nk_vec_f64)
