#ifndef NEURAL_KERNELS_H
#define NEURAL_KERNELS_H
#include <stddef.h>

/// Adam's element-wise update in TensorFlow's form on n elements (see AdamOptimizer.swift):
///   m ← m + (g − m)·one_minus_beta1,  v ← v + (g² − v)·one_minus_beta2,  w ← w − alpha·m/(sqrt(v) + epsilon).
/// The four arrays must not overlap.
void nk_adam_f32(float *w, const float *g, float *m, float *v, ptrdiff_t n,
                 float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon);
void nk_adam_f64(double *w, const double *g, double *m, double *v, ptrdiff_t n,
                 double alpha, double one_minus_beta1, double one_minus_beta2, double epsilon);

/// Schedule-free AdamW's element-wise step (Defazio et al. 2024, Algorithm 1) on n elements, w = y:
///   v ← v + (g² − v)·one_minus_beta2,  z ← z − gamma·g/(sqrt(v) + epsilon) − gamma_lambda·y,
///   x ← (1 − c)·x + c·z,  y ← (1 − beta1)·z + beta1·x.  The five arrays must not overlap.
void nk_schedule_free_f32(float *w, const float *g, float *z, float *x, float *v, ptrdiff_t n,
                          float gamma, float gamma_lambda, float c, float beta1, float one_minus_beta2, float epsilon);
void nk_schedule_free_f64(double *w, const double *g, double *z, double *x, double *v, ptrdiff_t n,
                          double gamma, double gamma_lambda, double c, double beta1, double one_minus_beta2, double epsilon);

/// out (rows × n_out) = x (rows × n_in) · wᵀ with w row-major (n_out × n_in), each row computed by
/// the same operations whatever the other rows are (bit-identical in any batch); see row_products.c.
void nk_row_products_f32(const float *x, ptrdiff_t rows, ptrdiff_t n_in, const float *w, ptrdiff_t n_out, float *out);
void nk_row_products_f64(const double *x, ptrdiff_t rows, ptrdiff_t n_in, const double *w, ptrdiff_t n_out, double *out);

#endif
