import Testing
@testable import TensorCore

/// Central finite-difference check of every input's gradient.
///
/// The objective is Σ y·w for fixed random weights w (so symmetric errors cannot cancel),
/// accumulated in Double. Each input element is nudged by ±eps; the analytic gradient must
/// match within `atol + rtol·|numeric|`.
enum GradCheck {
    static func check(_ inputs: [Tensor], eps: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
                      sourceLocation: SourceLocation = #_sourceLocation,
                      _ f: ([Tensor]) -> Tensor) {
        for t in inputs { t.requiresGrad = true; t.zeroGrad() }
        let y = f(inputs)
        var rng = RNG(seed: 99)
        let weights = (0..<y.count).map { _ in Double(rng.uniform(-1, 1)) }
        let objective = y * Tensor(shape: y.shape, data: weights.map(Float.init))
        objective.sum().backward()

        func value() -> Double {
            let out = withNoGrad { f(inputs) }
            var s = 0.0
            for (a, b) in zip(out.data, weights) { s += Double(a) * b }
            return s
        }
        for (which, t) in inputs.enumerated() {
            let analytic = t.grad ?? [Float](repeating: 0, count: t.count)
            var worst = 0.0, worstIndex = -1, worstPair = (0.0, 0.0)
            for i in 0..<t.count {
                let saved = t.data[i]
                t.data[i] = saved + eps
                let plus = value()
                t.data[i] = saved - eps
                let minus = value()
                t.data[i] = saved
                let numeric = (plus - minus) / (2 * Double(eps))
                let excess = abs(Double(analytic[i]) - numeric) - (atol + rtol * abs(numeric))
                if excess > worst { worst = excess; worstIndex = i; worstPair = (Double(analytic[i]), numeric) }
            }
            #expect(worstIndex < 0,
                    "input \(which) \(t.shape): element \(worstIndex) analytic \(worstPair.0) vs numeric \(worstPair.1)",
                    sourceLocation: sourceLocation)
        }
    }

    /// Values in ±[0.1, 1] with random signs: away from the kinks of relu/abs/max at 0.
    static func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let n = Shape.count(shape)
        return Tensor(shape: shape, data: (0..<n).map { _ in
            let v = rng.uniform(0.1, 1)
            return rng.uniform() < 0.5 ? -v : v
        })
    }

    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor.uniform(shape, low: low, high: high, rng: &rng)
    }

    /// Distinct values (a shuffled ramp): no ties for max-style ops, gaps larger than 2·eps.
    static func distinct(_ shape: [Int], seed: UInt64, spacing: Float = 0.05) -> Tensor {
        var rng = RNG(seed: seed)
        let n = Shape.count(shape)
        let perm = rng.permutation(n)
        return Tensor(shape: shape, data: perm.map { Float($0 - n / 2) * spacing })
    }
}

/// Largest absolute difference between two arrays of the same length.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    var m: Float = 0
    for (x, y) in zip(a, b) { m = max(m, abs(x - y)) }
    return m
}
