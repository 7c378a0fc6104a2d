import Testing
@testable import TensorCore

@Suite struct MovementTests {
    @Test func reshapeInfersAndKeepsOrder() {
        let x = Tensor.arange(24).reshaped([2, -1, 4])
        #expect(x.shape == [2, 3, 4])
        #expect(x.data == Tensor.arange(24).data)
        GradCheck.check([GradCheck.random([2, 6], seed: 1)]) { $0[0].reshaped([3, 4]) }
        #expect(Tensor.arange(24).reshaped([2, 3, 4]).flattened().shape == [2, 12])
    }

    @Test(arguments: [[1, 0, 2], [2, 0, 1], [0, 2, 1], [2, 1, 0]])
    func permuteMatchesIndexMath(order: [Int]) {
        let x = GradCheck.random([2, 3, 4], seed: 2)
        let y = x.permuted(order)
        #expect(y.shape == order.map { x.shape[$0] })
        let ys = Shape.strides(y.shape), xs = Shape.strides(x.shape)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            let src = [i, j, k]
            let dst = order.map { src[$0] }
            #expect(y.data[dst[0] * ys[0] + dst[1] * ys[1] + dst[2]] == x.data[i * xs[0] + j * xs[1] + k])
        } } }
        GradCheck.check([x]) { $0[0].permuted(order) }
    }

    @Test func transposeSwapsLastTwo() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(x.transposed().shape == [3, 2])
        #expect(x.transposed().data == [1, 4, 2, 5, 3, 6])
    }

    @Test(arguments: [0, 1, 2])
    func concatSplitRoundTrip(axis: Int) {
        let a = GradCheck.random([2, 3, 4], seed: 3)
        var sizes = [2, 3, 4]
        sizes[axis] = 1
        let b = GradCheck.random(sizes, seed: 4)
        let c = concat([a, b], axis: axis)
        #expect(c.shape[axis] == a.shape[axis] + 1)
        let parts = c.split([a.shape[axis], 1], axis: axis)
        #expect(parts[0].data == a.data)
        #expect(parts[1].data == b.data)
        GradCheck.check([a, b]) { concat($0, axis: axis) }
    }

    @Test func sliceGradientAndValues() {
        let x = GradCheck.random([3, 5, 2], seed: 5)
        let s = x.slice(axis: 1, 1..<4)
        #expect(s.shape == [3, 3, 2])
        #expect(s.data[0] == x.data[2])
        GradCheck.check([x]) { $0[0].slice(axis: 1, 1..<4) }
        GradCheck.check([x]) { $0[0].split([1, 4], axis: 1)[1] * 2 }
    }

    @Test func gatherRepeatsAccumulate() {
        let x = GradCheck.random([4, 3], seed: 6)
        x.requiresGrad = true
        let g = x.gather([2, 0, 2])
        #expect(g.shape == [3, 3])
        #expect(Array(g.data[0..<3]) == Array(x.data[6..<9]))
        g.sum().backward()
        #expect(Array(x.grad![6..<9]) == [2, 2, 2])
        #expect(Array(x.grad![3..<6]) == [0, 0, 0])
        GradCheck.check([x]) { $0[0].gather([2, 0, 2]) }
        GradCheck.check([x]) { $0[0].gather([1, 1], axis: 1) }
    }

    @Test func takeAlongPicksPerRow() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let picked = x.takeAlong(axis: 1, indices: [2, 0])
        #expect(picked.shape == [2, 1])
        #expect(picked.data == [3, 4])
        GradCheck.check([GradCheck.random([3, 4], seed: 7)]) { $0[0].takeAlong(axis: 1, indices: [3, 0, 1]) }
        GradCheck.check([GradCheck.random([3, 4], seed: 8)]) { $0[0].takeAlong(axis: 0, indices: [2, 0, 1, 1]) }
    }
}
