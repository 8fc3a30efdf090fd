// Adam's update in C, for one reason: a vector square root. Swift on Linux computes Float and
// Double square roots through libm's sqrtf/sqrt (errno semantics), which no compiler vectorises, so
// a Swift Adam loop spends most of its time in scalar square roots. __builtin_elementwise_sqrt is the
// correctly rounded IEEE square root without errno; with `restrict` pointers clang turns this loop
// into packed loads, sqrtps/sqrtpd and divps/divpd. Same operations in the same order as the Swift
// reference in the tests, so the results are identical element by element.
#include "_NetworkKernels.h"

// Each kernel is written once, for a scalar type T and its literal one; the f32 and f64 entry points
// of _NetworkKernels.h are its two instances.

#define NK_ADAM(NAME, T)                                                                                  \
    void NAME(T *restrict w, const T *restrict g, T *restrict m, T *restrict v, ptrdiff_t n,              \
              T alpha, T one_minus_beta1, T one_minus_beta2, T epsilon) {                                 \
        for (ptrdiff_t i = 0; i < n; i++) {                                                               \
            T gi = g[i];                                                                                  \
            T mi = m[i] + (gi - m[i]) * one_minus_beta1;                                                  \
            T vi = v[i] + (gi * gi - v[i]) * one_minus_beta2;                                             \
            m[i] = mi;                                                                                    \
            v[i] = vi;                                                                                    \
            w[i] -= alpha * mi / (__builtin_elementwise_sqrt(vi) + epsilon);                              \
        }                                                                                                 \
    }

NK_ADAM(nk_adam_f32, float)
NK_ADAM(nk_adam_f64, double)

// Schedule-free AdamW's element-wise step (Defazio et al. 2024, Algorithm 1), w holding y_t on
// entry and y_{t+1} on return:
//   v ← v + (g² − v)·one_minus_beta2
//   z ← z − gamma·g/(sqrt(v) + epsilon) − gamma_lambda·y
//   x ← (1 − c)·x + c·z
//   y ← (1 − beta1)·z + beta1·x
#define NK_SCHEDULE_FREE(NAME, T, ONE)                                                                    \
    void NAME(T *restrict w, const T *restrict g, T *restrict z, T *restrict x, T *restrict v,            \
              ptrdiff_t n, T gamma, T gamma_lambda, T c, T beta1, T one_minus_beta2, T epsilon) {         \
        for (ptrdiff_t i = 0; i < n; i++) {                                                               \
            T gi = g[i], yi = w[i];                                                                       \
            T vi = v[i] + (gi * gi - v[i]) * one_minus_beta2;                                             \
            T zi = z[i] - gamma * gi / (__builtin_elementwise_sqrt(vi) + epsilon) - gamma_lambda * yi;    \
            T xi = (ONE - c) * x[i] + c * zi;                                                             \
            v[i] = vi;                                                                                    \
            z[i] = zi;                                                                                    \
            x[i] = xi;                                                                                    \
            w[i] = (ONE - beta1) * zi + beta1 * xi;                                                       \
        }                                                                                                 \
    }

NK_SCHEDULE_FREE(nk_schedule_free_f32, float, 1.0f)
NK_SCHEDULE_FREE(nk_schedule_free_f64, double, 1.0)
