import Testing
@testable import TensorCore

@Suite struct ReduceTests {
    static let axesCases: [([Int], [Int]?, Bool)] = [
        ([2, 3, 4], nil, false), ([2, 3, 4], [0], false), ([2, 3, 4], [1], true), ([2, 3, 4], [2], false),
        ([2, 3, 4], [0, 2], true), ([5], [0], false), ([2, 3, 4], [-1], false),
    ]

    @Test(arguments: axesCases)
    func sumAndMeanGradients(c: ([Int], [Int]?, Bool)) {
        let x = GradCheck.random(c.0, seed: 1)
        GradCheck.check([x]) { $0[0].sum(axes: c.1, keepDims: c.2) }
        GradCheck.check([x]) { $0[0].mean(axes: c.1, keepDims: c.2) }
    }

    @Test func sumValuesMatchLoops() {
        let x = GradCheck.random([2, 3, 4], seed: 2)
        let s = x.sum(axes: [1])
        #expect(s.shape == [2, 4])
        for i in 0..<2 { for k in 0..<4 {
            var e: Float = 0
            for j in 0..<3 { e += x.data[(i * 3 + j) * 4 + k] }
            #expect(abs(s.data[i * 4 + k] - e) < 1e-6)
        } }
        #expect(abs(x.mean().item - x.data.reduce(0, +) / 24) < 1e-6)
        #expect(x.sum(axes: [0, 2], keepDims: true).shape == [1, 3, 1])
    }

    @Test(arguments: [0, 1, 2])
    func maxGradientAndValues(axis: Int) {
        let x = GradCheck.distinct([3, 4, 5], seed: 3)
        GradCheck.check([x]) { $0[0].max(axis: axis) }
        GradCheck.check([x]) { $0[0].max(axis: axis, keepDims: true) }
        let m = x.max(axis: axis), idx = x.argmax(axis: axis)
        #expect(m.count == idx.count)
        let strides = Shape.strides(x.shape)
        var outIndex = 0
        var dims = x.shape; dims[axis] = 1
        for i in 0..<dims[0] { for j in 0..<dims[1] { for k in 0..<dims[2] {
            var best = -Float.infinity, arg = -1
            for t in 0..<x.shape[axis] {
                var pos = [i, j, k]; pos[axis] = t
                let v = x.data[pos[0] * strides[0] + pos[1] * strides[1] + pos[2]]
                if v > best { best = v; arg = t }
            }
            #expect(m.data[outIndex] == best)
            #expect(idx[outIndex] == arg)
            outIndex += 1
        } } }
    }

    @Test func maxOfAllElements() {
        let x = Tensor([3, -1, 7, 2], shape: [2, 2])
        #expect(x.max().item == 7)
    }
}
