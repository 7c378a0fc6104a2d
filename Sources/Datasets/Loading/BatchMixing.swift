import Foundation
import MagpieConfig
import TensorCore

/// PaddleClas's `batch_transform_ops` (ppcls/data/preprocess/batch_ops): mix whole batches and
/// return soft targets.
///
///     MixupOperator {alpha}:  λ ~ Beta(α, α), partner = a permutation of the batch,
///                             x = λ·x + (1−λ)·x[partner],  y = λ·onehot + (1−λ)·onehot[partner]
///     CutmixOperator {alpha}: λ ~ Beta(α, α); a box of side ratio √(1−λ) centred uniformly (clipped)
///                             is pasted from the partner; λ is recomputed from the clipped box area
///     OpSampler {MixupOperator: {alpha, prob}, CutmixOperator: {alpha, prob}}: one of them with its
///                             probability, none with the rest
public enum BatchMixing: Sendable, Equatable {
    case mixup(alpha: Double)
    case cutmix(alpha: Double)
    case sampler([(BatchMixing, Double)])

    public static func == (a: BatchMixing, b: BatchMixing) -> Bool {
        switch (a, b) {
        case let (.mixup(x), .mixup(y)), let (.cutmix(x), .cutmix(y)): return x == y
        case let (.sampler(x), .sampler(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A mixed batch: images and soft targets `[N, classes]`.
    public struct Mixed {
        public var images: Tensor
        public var targets: Tensor
        /// The λ used (nil when the sampler chose no operator).
        public var lambda: Double?
        /// partner[i]: the image mixed into image i.
        public var partner: [Int]
    }

    /// Parses `batch_transform_ops` entries.
    public static func parse(_ ops: [(name: String, params: ConfigSection)]) throws -> [BatchMixing] {
        try ops.map { name, p in
            switch name {
            case "MixupOperator": return .mixup(alpha: try alpha(p))
            case "CutmixOperator": return .cutmix(alpha: try alpha(p))
            case "OpSampler":
                var choices: [(BatchMixing, Double)] = []
                for key in p.keys {
                    let sub = try p.section(key)
                    let prob = try sub.double("prob", default: 0)
                    guard (0...1).contains(prob) else {
                        throw ConfigError.invalidValue(path: p.config.path, key: sub.full("prob"), reason: "must be in [0, 1]")
                    }
                    switch key {
                    case "MixupOperator": choices.append((.mixup(alpha: try alpha(sub)), prob))
                    case "CutmixOperator": choices.append((.cutmix(alpha: try alpha(sub)), prob))
                    default:
                        throw ConfigError.invalidValue(path: p.config.path, key: p.full(key), reason: "OpSampler takes MixupOperator and CutmixOperator")
                    }
                }
                guard choices.map(\.1).reduce(0, +) <= 1 + 1e-9 else {
                    throw ConfigError.invalidValue(path: p.config.path, key: p.path, reason: "the probabilities add up to more than 1")
                }
                return .sampler(choices)
            default:
                throw ConfigError.invalidValue(path: p.config.path, key: p.path,
                                               reason: "unknown batch operator '\(name)' (known: MixupOperator, CutmixOperator, OpSampler)")
            }
        }
    }

    private static func alpha(_ p: ConfigSection) throws -> Double {
        _ = try p.int("class_num")
        let a = try p.double("alpha", default: 1)
        guard a > 0 else { throw ConfigError.invalidValue(path: p.config.path, key: p.full("alpha"), reason: "must be positive") }
        return a
    }

    /// Applies the operator to `images` [N, C, H, W] with integer `labels`.
    public func apply(images: Tensor, labels: [Int], classes: Int, rng: inout RNG) -> Mixed {
        let n = labels.count
        switch self {
        case let .sampler(choices):
            var u = Double(rng.uniform())
            for (op, prob) in choices {
                if u < prob { return op.apply(images: images, labels: labels, classes: classes, rng: &rng) }
                u -= prob
            }
            return Mixed(images: images, targets: BatchMixing.oneHot(labels, classes: classes, partner: Array(0..<n), lambda: 1),
                         lambda: nil, partner: Array(0..<n))
        case let .mixup(alpha):
            let partner = rng.permutation(n)
            let lambda = BatchMixing.beta(alpha, rng: &rng)
            let per = images.count / max(n, 1)
            let x = images.data
            var y = [Float](repeating: 0, count: x.count)
            let l = Float(lambda)
            for i in 0..<n {
                let a = i * per, b = partner[i] * per
                for j in 0..<per { y[a + j] = l * x[a + j] + (1 - l) * x[b + j] }
            }
            return Mixed(images: Tensor(shape: images.shape, data: y),
                         targets: BatchMixing.oneHot(labels, classes: classes, partner: partner, lambda: lambda),
                         lambda: lambda, partner: partner)
        case let .cutmix(alpha):
            let partner = rng.permutation(n)
            var lambda = BatchMixing.beta(alpha, rng: &rng)
            let c = images.shape[1], h = images.shape[2], w = images.shape[3]
            // PaddleClas's _rand_bbox names the first spatial axis w and the second h.
            let cut = (1 - lambda).squareRoot()
            let cutA = Int(Double(h) * cut), cutB = Int(Double(w) * cut)
            let ca = rng.int(below: h), cb = rng.int(below: w)
            let a1 = min(max(ca - cutA / 2, 0), h), a2 = min(max(ca + cutA / 2, 0), h)
            let b1 = min(max(cb - cutB / 2, 0), w), b2 = min(max(cb + cutB / 2, 0), w)
            let x = images.data
            var y = x
            for i in 0..<n {
                for ch in 0..<c {
                    let dst = (i * c + ch) * h * w, src = (partner[i] * c + ch) * h * w
                    for r in a1..<max(a1, a2) { for q in b1..<max(b1, b2) { y[dst + r * w + q] = x[src + r * w + q] } }
                }
            }
            lambda = 1 - Double((a2 - a1) * (b2 - b1)) / Double(h * w)
            return Mixed(images: Tensor(shape: images.shape, data: y),
                         targets: BatchMixing.oneHot(labels, classes: classes, partner: partner, lambda: lambda),
                         lambda: lambda, partner: partner)
        }
    }

    /// λ·onehot(labels) + (1−λ)·onehot(labels[partner]).
    static func oneHot(_ labels: [Int], classes: Int, partner: [Int], lambda: Double) -> Tensor {
        var t = [Float](repeating: 0, count: labels.count * classes)
        for i in labels.indices {
            t[i * classes + labels[i]] += Float(lambda)
            t[i * classes + labels[partner[i]]] += Float(1 - lambda)
        }
        return Tensor(shape: [labels.count, classes], data: t)
    }

    /// Beta(α, α) from two Gamma(α) draws.
    static func beta(_ alpha: Double, rng: inout RNG) -> Double {
        let x = gamma(alpha, rng: &rng), y = gamma(alpha, rng: &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Gamma(shape, 1) by Marsaglia–Tsang; shape < 1 boosted by U^(1/shape).
    static func gamma(_ shape: Double, rng: inout RNG) -> Double {
        if shape < 1 {
            let u = max(Double(rng.uniform()), 1e-12)
            return gamma(shape + 1, rng: &rng) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = Double(rng.normal())
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = max(Double(rng.uniform()), 1e-12)
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }
}
