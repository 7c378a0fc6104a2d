import Foundation
import TensorCore

/// Weight initialisers, drawing from a seeded generator so that building a model after
/// `Initializers.seed(_:)` is reproducible (PyTorch's `torch.manual_seed`).
///
/// `seed(_:)` restarts the process-wide generator and gives the calling thread its own copy, so
/// the models that thread builds next do not depend on what other threads build meanwhile
/// (concurrent trainers, tests run in parallel). Threads that never seeded share the process-wide one.
public enum Initializers {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var generator = RNG(seed: 0)
    private static let threadKey = "magpie.Initializers.generator"

    private final class Box { var rng: RNG; init(_ rng: RNG) { self.rng = rng } }

    /// Restarts the shared generator and the calling thread's.
    public static func seed(_ seed: UInt64) {
        lock.lock(); defer { lock.unlock() }
        generator = RNG(seed: seed)
        Thread.current.threadDictionary[threadKey] = Box(RNG(seed: seed))
    }

    /// Runs `body` with exclusive use of the calling thread's generator (if it seeded one) or the shared one.
    public static func withGenerator<T>(_ body: (inout RNG) -> T) -> T {
        if let box = Thread.current.threadDictionary[threadKey] as? Box { return body(&box.rng) }
        lock.lock(); defer { lock.unlock() }
        return body(&generator)
    }

    /// A fresh generator seeded from the shared one (for layers that draw at run time, e.g. dropout).
    public static func spawn() -> RNG { withGenerator { RNG(seed: $0.next()) } }

    public static func normal(_ shape: [Int], std: Float) -> Tensor {
        withGenerator { Tensor.randn(shape, std: std, rng: &$0, requiresGrad: true) }
    }

    public static func uniform(_ shape: [Int], bound: Float) -> Tensor {
        withGenerator { Tensor.uniform(shape, low: -bound, high: bound, rng: &$0, requiresGrad: true) }
    }

    /// (fan_in, fan_out) of a Linear [out, in] or conv [out, in/groups, kh, kw] weight.
    public static func fans(_ shape: [Int]) -> (in: Int, out: Int) {
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape.count > 1 ? shape[1] * receptive : shape[0], shape[0] * receptive)
    }

    /// He normal: std = gain / √fan (gain √2 for ReLU, √(2/(1+a²)) for leaky ReLU slope a).
    public static func kaimingNormal(_ shape: [Int], fanOut: Bool = false, negativeSlope: Float = 0) -> Tensor {
        let (fi, fo) = fans(shape)
        let gain = (2 / (1 + negativeSlope * negativeSlope)).squareRoot()
        return normal(shape, std: gain / Float(fanOut ? fo : fi).squareRoot())
    }

    /// PyTorch's default for Linear and Conv weights: kaiming_uniform(a = √5) = U(±1/√fan_in).
    public static func torchDefault(_ shape: [Int]) -> Tensor {
        uniform(shape, bound: 1 / Float(fans(shape).in).squareRoot())
    }

    /// Glorot normal: std = √(2 / (fan_in + fan_out)).
    public static func xavierNormal(_ shape: [Int]) -> Tensor {
        let (fi, fo) = fans(shape)
        return normal(shape, std: (2 / Float(fi + fo)).squareRoot())
    }
}
