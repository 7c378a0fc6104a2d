import Testing
@testable import TensorCore

@Suite struct ElementwiseTests {
    static let broadcastPairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([2, 3], [2, 1]), ([4, 1, 3], [2, 1]), ([1], [2, 2]),
        ([2, 3, 4], [1, 3, 1]), ([], [3]), ([3, 1], [1, 4]),
    ]

    @Test(arguments: broadcastPairs)
    func addSubMulDivGradients(shapes: ([Int], [Int])) {
        let a = GradCheck.random(shapes.0, seed: 1), b = GradCheck.awayFromZero(shapes.1, seed: 2)
        GradCheck.check([a, b]) { $0[0] + $0[1] }
        GradCheck.check([a, b]) { $0[0] - $0[1] }
        GradCheck.check([a, b]) { $0[0] * $0[1] }
        GradCheck.check([a, b.abs().detached() + 0.5]) { $0[0] / $0[1] }
    }

    @Test func broadcastForwardMatchesLoops() {
        let a = GradCheck.random([2, 3, 4], seed: 3), b = GradCheck.random([3, 1], seed: 4)
        let y = a * b
        #expect(y.shape == [2, 3, 4])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(y.data[(i * 3 + j) * 4 + k] == a.data[(i * 3 + j) * 4 + k] * b.data[j])
        } } }
    }

    @Test func maximumMinimumGradients() {
        // Both on a 0.05 grid, b shifted by half a step: no pair closer than 0.025 > eps.
        let a = GradCheck.distinct([3, 4], seed: 5), b = GradCheck.distinct([4], seed: 6) + 0.025
        GradCheck.check([a, b]) { maximum($0[0], $0[1]) }
        GradCheck.check([a, b]) { minimum($0[0], $0[1]) }
    }

    @Test func scalarOpsGradients() {
        let a = GradCheck.awayFromZero([2, 5], seed: 7)
        GradCheck.check([a]) { $0[0] * 3 + 2 }
        GradCheck.check([a]) { 1 - $0[0] / 4 }
        GradCheck.check([a]) { 2 / $0[0] }
        GradCheck.check([a]) { -$0[0] }
        GradCheck.check([a]) { $0[0].square() }
        GradCheck.check([a.abs().detached() + 0.2]) { $0[0].pow(1.5) }
        // A 0.15 grid shifted by 0.025 straddles both bounds without touching them.
        GradCheck.check([GradCheck.distinct([2, 5], seed: 8, spacing: 0.15) + 0.025]) { $0[0].clamp(min: -0.5, max: 0.5) }
    }

    static let unaryCases: [(String, (Tensor) -> Tensor)] = [
        ("exp", { $0.exp() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }),
        ("relu", { $0.relu() }), ("leakyRelu", { $0.leakyRelu(0.1) }), ("relu6", { ($0 * 4).relu6() }),
        ("abs", { $0.abs() }), ("hardSwish", { ($0 * 4).hardSwish() }),
        ("hardSigmoid", { ($0 * 4).hardSigmoid() }), ("hardSigmoidPaddle", { ($0 * 4).hardSigmoid(slope: 0.2, offset: 0.5) }),
    ]

    @Test(arguments: unaryCases.indices)
    func unaryGradients(index: Int) {
        let (_, f) = Self.unaryCases[index]
        // Inputs 4·x must stay clear of the kinks at ±3 (hard-swish, hard-sigmoid) and ±2.5
        // (Paddle's hard-sigmoid), i.e. x near ±0.75 and ±0.625: move those elements to ±0.5.
        let x = GradCheck.awayFromZero([3, 7], seed: UInt64(10 + index))
        let safe = Tensor(shape: x.shape, data: x.data.map { v in
            abs(abs(v) - 0.75) < 0.03 || abs(abs(v) - 0.625) < 0.03 ? (v < 0 ? -0.5 : 0.5) : v
        })
        GradCheck.check([safe]) { f($0[0]) }
    }

    @Test func logAndSqrtGradients() {
        let x = GradCheck.random([4, 3], seed: 20, low: 0.3, high: 2)
        GradCheck.check([x]) { $0[0].log() }
        GradCheck.check([x]) { $0[0].sqrt() }
    }

    @Test func activationValues() {
        let x = Tensor([-4, -1, 0, 1, 4])
        let swish: [Float] = [0, -2.0 / 6, 0, 4.0 / 6, 4]
        let sigmoid: [Float] = [0, 2.0 / 6, 0.5, 4.0 / 6, 1]
        #expect(maxAbsDiff(x.hardSwish().data, swish) < 1e-7)
        #expect(maxAbsDiff(x.hardSigmoid().data, sigmoid) < 1e-7)
        #expect(maxAbsDiff(x.hardSigmoid(slope: 0.2, offset: 0.5).data, [0, 0.3, 0.5, 0.7, 1]) < 1e-7)
        #expect(x.leakyRelu(0.1).data == [-0.4, -0.1, 0, 1, 4])
        #expect(x.relu6().data == [0, 0, 0, 1, 4])
    }
}
