import Testing
@testable import TensorCore

@Suite struct AutogradTests {
    @Test func sketchExample() {
        let x = Tensor([1, 2, 3], requiresGrad: true), y = Tensor([4, 5, 6], requiresGrad: true)
        let loss = (x * y * x).sum()
        loss.backward()
        #expect(loss.item == 78)
        #expect(x.grad == [8, 20, 36])
        #expect(y.grad == [1, 4, 9])
    }

    @Test func sharedSubexpressionAccumulates() {
        // z = a·a + a: dz/da = 2a + 1, with `a` reached along two paths.
        let a = Tensor([2, -1], requiresGrad: true)
        let b = a * 1
        (b * b + b).sum().backward()
        #expect(a.grad == [5, -1])
    }

    @Test func gradientsAccumulateUntilZeroed() {
        let a = Tensor([1, 2], requiresGrad: true)
        (a * 3).sum().backward()
        (a * 3).sum().backward()
        #expect(a.grad == [6, 6])
        a.zeroGrad()
        #expect(a.grad == nil)
    }

    @Test func noGradRecordsNothing() {
        let a = Tensor([1, 2], requiresGrad: true)
        let y = withNoGrad { a * 2 }
        #expect(!y.requiresGrad)
        #expect(y.opName == "leaf")
        #expect((a * 2).opName == "mul_scalar")
    }

    @Test func graphIsReleasedAndIntermediateGradsDropped() {
        let a = Tensor([1, 2], requiresGrad: true)
        let hidden = a * 2
        let out = hidden.sum()
        out.backward()
        #expect(hidden.grad == nil)
        #expect(hidden.opName == "leaf")
        let kept = a * 2
        kept.retainsGrad = true
        kept.sum().backward()
        #expect(kept.grad == [1, 1])
    }

    @Test func deepChainDoesNotOverflowTheStack() {
        let a = Tensor([1], requiresGrad: true)
        var y = a
        for _ in 0..<20_000 { y = y + 0 }
        y.sum().backward()
        #expect(a.grad == [1])
    }

    @Test func detachedStopsGradient() {
        let a = Tensor([3], requiresGrad: true)
        (a * a.detached()).sum().backward()
        #expect(a.grad == [3])
    }
}

@Suite struct RNGTests {
    @Test func sameSeedSameStream() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let sa = (0..<10).map { _ in a.next() }, sb = (0..<10).map { _ in b.next() }, sc = (0..<10).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test func normalMoments() {
        var rng = RNG(seed: 5)
        let xs = (0..<200_000).map { _ in Double(rng.normal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.01)
    }

    @Test func permutationIsAPermutation() {
        var rng = RNG(seed: 6)
        let p = rng.permutation(100)
        #expect(p.sorted() == Array(0..<100))
        #expect(p != Array(0..<100))
    }
}
