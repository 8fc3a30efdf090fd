// Adam's update in C, for one reason: a vector square root. Swift on Linux computes Float and
// Double square roots through libm's sqrtf/sqrt (errno semantics), which no compiler vectorises, so
// a Swift Adam loop spends most of its time in scalar square roots. __builtin_elementwise_sqrt is the
// correctly rounded IEEE square root without errno; with `restrict` pointers clang turns this loop
// into packed loads, sqrtps/sqrtpd and divps/divpd. Same operations in the same order as the Swift
// reference in the tests, so the results are identical element by element.
#include "_NetworkKernels.h"

void nk_adam_f32(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, ptrdiff_t n,
                 float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * one_minus_beta1;
        float vi = v[i] + (gi * gi - v[i]) * one_minus_beta2;
        m[i] = mi;
        v[i] = vi;
        w[i] -= alpha * mi / (__builtin_elementwise_sqrt(vi) + epsilon);
    }
}

void nk_adam_f64(double *restrict w, const double *restrict g, double *restrict m, double *restrict v, ptrdiff_t n,
                 double alpha, double one_minus_beta1, double one_minus_beta2, double epsilon) {
    for (ptrdiff_t i = 0; i < n; i++) {
        double gi = g[i];
        double mi = m[i] + (gi - m[i]) * one_minus_beta1;
        double vi = v[i] + (gi * gi - v[i]) * one_minus_beta2;
        m[i] = mi;
        v[i] = vi;
        w[i] -= alpha * mi / (__builtin_elementwise_sqrt(vi) + epsilon);
    }
}
