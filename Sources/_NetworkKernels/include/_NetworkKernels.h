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

#endif
