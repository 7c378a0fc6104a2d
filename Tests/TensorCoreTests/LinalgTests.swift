import Testing
@testable import TensorCore

@Suite struct LinalgTests {
    @Test func smallProductByHand() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
        #expect(matmul(a, b).data == [19, 22, 43, 50])
        #expect(matmul(a, b, transposeA: true).data == [26, 30, 38, 44])
        #expect(matmul(a, b, transposeB: true).data == [17, 23, 39, 53])
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gradients2D(t: (Bool, Bool)) {
        let a = GradCheck.random(t.0 ? [4, 3] : [3, 4], seed: 1)
        let b = GradCheck.random(t.1 ? [5, 4] : [4, 5], seed: 2)
        GradCheck.check([a, b]) { matmul($0[0], $0[1], transposeA: t.0, transposeB: t.1) }
        let y = matmul(a, b, transposeA: t.0, transposeB: t.1)
        #expect(y.shape == [3, 5])
        // Compare with explicit loops.
        for i in 0..<3 { for j in 0..<5 {
            var s: Float = 0
            for k in 0..<4 {
                let av = t.0 ? a.data[k * 3 + i] : a.data[i * 4 + k]
                let bv = t.1 ? b.data[j * 4 + k] : b.data[k * 5 + j]
                s += av * bv
            }
            #expect(abs(y.data[i * 5 + j] - s) < 1e-5)
        } }
    }

    @Test(arguments: [(false, false), (true, false), (false, true)])
    func batchedGradients(t: (Bool, Bool)) {
        let a = GradCheck.random(t.0 ? [2, 4, 3] : [2, 3, 4], seed: 3)
        let b = GradCheck.random(t.1 ? [2, 5, 4] : [2, 4, 5], seed: 4)
        GradCheck.check([a, b]) { matmul($0[0], $0[1], transposeA: t.0, transposeB: t.1) }
        let shared = GradCheck.random(t.1 ? [5, 4] : [4, 5], seed: 5)
        GradCheck.check([a, shared]) { matmul($0[0], $0[1], transposeA: t.0, transposeB: t.1) }
    }
}
