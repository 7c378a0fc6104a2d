// Matrix multiply on sgemm, for 2-D operands and batches of matrices.

/// `op(a) · op(b)` where op transposes the last two dimensions when asked.
/// Shapes: [M, K]·[K, N] → [M, N], or [B, M, K]·[B, K, N] → [B, M, N];
/// a 3-D `a` with a 2-D `b` multiplies every matrix of the batch by `b`.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition((a.rank == 2 || a.rank == 3) && (b.rank == 2 || b.rank == 3) && !(a.rank == 2 && b.rank == 3),
                 "matmul supports [M,K]·[K,N], [B,M,K]·[B,K,N] and [B,M,K]·[K,N]; got \(a.shape) and \(b.shape)")
    let batch = a.rank == 3 ? a.shape[0] : 1
    let sharedB = b.rank == 2
    if !sharedB { precondition(b.shape[0] == batch, "matmul batch mismatch: \(a.shape) vs \(b.shape)") }
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")

    if sharedB && batch > 1 && !transposeA {
        // Fold the batch into M: one large GEMM instead of B small ones.
        let flat = a.reshaped([batch * ar, ac])
        return matmul(flat, b, transposeB: transposeB).reshaped([batch, m, n])
            .traced(.matmul(transposeA: false, transposeB: transposeB), [a, b])
    }
    OpCounter.record(batch * m * n * k)
    var out = [Float].uninitialized(count: batch * m * n)
    let aData = a.data, bData = b.data
    let aStride = ar * ac, bStride = sharedB ? 0 : br * bc
    let macs = batch * m * n * k
    GEMM.onOneThreadIfSmall(macs: macs) {
    aData.withUnsafeBufferPointer { pa in
        bData.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { pc in
                for i in 0..<batch {
                    GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                               a: pa.baseAddress! + i * aStride, lda: ac,
                               b: pb.baseAddress! + i * bStride, ldb: bc,
                               c: pc.baseAddress! + i * m * n, ldc: n)
                }
            }
        }
    }
    }
    let outShape = a.rank == 3 ? [batch, m, n] : [m, n]
    return Tensor(shape: outShape, data: out, op: "matmul", inputs: [a, b]) { g in
        GEMM.onOneThreadIfSmall(macs: macs) {
        g.withUnsafeBufferPointer { pg in
            if a.requiresGrad {
                // dA = dC·op(B)ᵀ, laid out as A (transposed back when A was used transposed).
                a.withGradBuffer { ga in
                    bData.withUnsafeBufferPointer { pb in
                        for i in 0..<batch {
                            let gc = pg.baseAddress! + i * m * n, bb = pb.baseAddress! + i * bStride
                            if transposeA {
                                GEMM.sgemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: bb, lda: bc,
                                           b: gc, ldb: n, beta: 1, c: ga.baseAddress! + i * aStride, ldc: ac)
                            } else {
                                GEMM.sgemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: gc, lda: n,
                                           b: bb, ldb: bc, beta: 1, c: ga.baseAddress! + i * aStride, ldc: ac)
                            }
                        }
                    }
                }
            }
            if b.requiresGrad {
                // dB = op(A)ᵀ·dC, laid out as B; a shared B sums over the batch.
                b.withGradBuffer { gb in
                    aData.withUnsafeBufferPointer { pa in
                        for i in 0..<batch {
                            let gc = pg.baseAddress! + i * m * n, aa = pa.baseAddress! + i * aStride
                            let dst = gb.baseAddress! + i * bStride
                            if transposeB {
                                GEMM.sgemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: gc, lda: n,
                                           b: aa, ldb: ac, beta: 1, c: dst, ldc: bc)
                            } else {
                                GEMM.sgemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: aa, lda: ac,
                                           b: gc, ldb: n, beta: 1, c: dst, ldc: bc)
                            }
                        }
                    }
                }
            }
        }
        }
    }.traced(.matmul(transposeA: transposeA, transposeB: transposeB), [a, b])
}

extension Tensor {
    public func matmul(_ other: Tensor) -> Tensor { TensorCore.matmul(self, other) }
}
