// Product-quantization kernels for IVFPQIndex: the per-query lookup tables and the code scan.
// Swift code here targets generic x86-64, so the tables get an AVX-512 variant picked at run time
// (`magpie_has_avx512f`); the scan is table lookups, which vector units do not speed up.
#include <stdint.h>

/// Lookup tables for one vector q (dimension d, sub-vectors of ds floats, 256 codes each):
/// out[j·256 + c] = −Σ_t q[j·ds + t] · bookT[(j·ds + t)·256 + c], where bookT is the codebooks
/// transposed (row i holds coordinate i of all 256 codewords of its sub-quantizer).
static inline void magpie_pq_ip_tables(const float *q, const float *bookT, long d, long ds, float *out) {
    for (long j = 0; j * ds < d; j++) {
        float *t = out + j * 256;
        for (long c = 0; c < 256; c++) t[c] = 0;
        for (long i = j * ds; i < (j + 1) * ds; i++) {
            const float qi = q[i], *row = bookT + i * 256;
            for (long c = 0; c < 256; c++) t[c] -= qi * row[c];
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
/// The same on AVX-512: each table's 256 entries stay in 16 registers across its ds coordinates.
__attribute__((target("avx512f")))
static inline void magpie_pq_ip_tables_avx512(const float *q, const float *bookT, long d, long ds, float *out) {
    for (long j = 0; j * ds < d; j++) {
        __m512 acc[16];
        for (int v = 0; v < 16; v++) acc[v] = _mm512_setzero_ps();
        for (long i = j * ds; i < (j + 1) * ds; i++) {
            const __m512 qi = _mm512_set1_ps(q[i]);
            const float *row = bookT + i * 256;
            for (int v = 0; v < 16; v++) acc[v] = _mm512_fnmadd_ps(qi, _mm512_loadu_ps(row + 16 * v), acc[v]);
        }
        for (int v = 0; v < 16; v++) _mm512_storeu_ps(out + j * 256 + 16 * v, acc[v]);
    }
}
#else
static inline void magpie_pq_ip_tables_avx512(const float *q, const float *bookT, long d, long ds, float *out) {
    magpie_pq_ip_tables(q, bookT, d, ds, out);
}
#endif

/// out[i] = base + Σ_j table[j·256 + codes[i·m + j]] for the n codes of one list (m bytes each).
/// Four codes at a time, so their lookups overlap.
static inline void magpie_pq_scan(const uint8_t *codes, long n, long m, const float *table, float base, float *out) {
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t *c0 = codes + i * m, *c1 = c0 + m, *c2 = c1 + m, *c3 = c2 + m;
        float s0 = base, s1 = base, s2 = base, s3 = base;
        for (long j = 0; j < m; j++) {
            const float *t = table + j * 256;
            s0 += t[c0[j]]; s1 += t[c1[j]]; s2 += t[c2[j]]; s3 += t[c3[j]];
        }
        out[i] = s0; out[i + 1] = s1; out[i + 2] = s2; out[i + 3] = s3;
    }
    for (; i < n; i++) {
        const uint8_t *c = codes + i * m;
        float s = base;
        for (long j = 0; j < m; j++) s += table[j * 256 + c[j]];
        out[i] = s;
    }
}
