// Small C helpers for the approximate indexes that Swift cannot spell: a cache prefetch hint,
// and distance kernels on AVX-512 (Swift code targets generic x86-64, without AVX) picked at run
// time when the CPU has it.
#include <stdint.h>

static inline void magpie_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#if defined(__x86_64__)
#include <immintrin.h>

/// 1 when this CPU runs AVX-512F (the kernels below), else 0.
static inline int magpie_has_avx512f(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/// Σ a[j]·b[j] on AVX-512 (two accumulators, fused multiply-adds).
__attribute__((target("avx512f")))
static inline float magpie_dot_avx512(const float *a, const float *b, long n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16), s1);
    }
    for (; j + 16 <= n; j += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}

/// Σ (a[j] − b[j])² on AVX-512.
__attribute__((target("avx512f")))
static inline float magpie_l2sq_avx512(const float *a, const float *b, long n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; j + 16 <= n; j += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; j < n; j++) { float t = a[j] - b[j]; s += t * t; }
    return s;
}

#define MAGPIE_AVX512 __attribute__((target("avx512f")))
#else
// Elsewhere the Swift kernels run; these exist so the callers compile.
static inline int magpie_has_avx512f(void) { return 0; }
static inline float magpie_dot_avx512(const float *a, const float *b, long n) {
    float s = 0; for (long j = 0; j < n; j++) s += a[j] * b[j]; return s;
}
static inline float magpie_l2sq_avx512(const float *a, const float *b, long n) {
    float s = 0; for (long j = 0; j < n; j++) { float t = a[j] - b[j]; s += t * t; } return s;
}
#define MAGPIE_AVX512
#endif

/// out[i] = −⟨q, x_i⟩ (`l2` 0) or ‖q − x_i‖² (`l2` 1) for x_i = base + rows[i]·stride, i < count:
/// one call for all the neighbours a graph search scores at a step (compiled for AVX-512 where
/// the kernels above are, so they inline into it).
MAGPIE_AVX512
static inline void magpie_distances_avx512(const float *q, const float *base, long stride, const int32_t *rows, long count,
                                           long d, int l2, float *out) {
    for (long i = 0; i < count; i++) {
        const float *x = base + (long)rows[i] * stride;
        out[i] = l2 ? magpie_l2sq_avx512(q, x, d) : -magpie_dot_avx512(q, x, d);
    }
}
