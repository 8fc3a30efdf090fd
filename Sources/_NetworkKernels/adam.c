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

// Schedule-free AdamW's element-wise step (Defazio et al. 2024, Algorithm 1), w holding y_t on
// entry and y_{t+1} on return:
//   v ← v + (g² − v)·one_minus_beta2
//   z ← z − gamma·g/(sqrt(v) + epsilon) − gamma_lambda·y
//   x ← (1 − c)·x + c·z
//   y ← (1 − beta1)·z + beta1·x
void nk_schedule_free_f32(float *restrict w, const float *restrict g, float *restrict z, float *restrict x, float *restrict v,
                          ptrdiff_t n, float gamma, float gamma_lambda, float c, float beta1, float one_minus_beta2, float epsilon) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float gi = g[i], yi = w[i];
        float vi = v[i] + (gi * gi - v[i]) * one_minus_beta2;
        float zi = z[i] - gamma * gi / (__builtin_elementwise_sqrt(vi) + epsilon) - gamma_lambda * yi;
        float xi = (1.0f - c) * x[i] + c * zi;
        v[i] = vi;
        z[i] = zi;
        x[i] = xi;
        w[i] = (1.0f - beta1) * zi + beta1 * xi;
    }
}

void nk_schedule_free_f64(double *restrict w, const double *restrict g, double *restrict z, double *restrict x, double *restrict v,
                          ptrdiff_t n, double gamma, double gamma_lambda, double c, double beta1, double one_minus_beta2, double epsilon) {
    for (ptrdiff_t i = 0; i < n; i++) {
        double gi = g[i], yi = w[i];
        double vi = v[i] + (gi * gi - v[i]) * one_minus_beta2;
        double zi = z[i] - gamma * gi / (__builtin_elementwise_sqrt(vi) + epsilon) - gamma_lambda * yi;
        double xi = (1.0 - c) * x[i] + c * zi;
        v[i] = vi;
        z[i] = zi;
        x[i] = xi;
        w[i] = (1.0 - beta1) * zi + beta1 * xi;
    }
}
