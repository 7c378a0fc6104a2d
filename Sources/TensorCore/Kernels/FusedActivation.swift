/// A pointwise activation that a producing kernel (batch norm, residual add, convolution in eval
/// mode) applies in the same pass instead of a separate op.
///
/// Backward recovers the derivative from the output's sign, so only activations whose output is
/// positive exactly where their input is are allowed: ReLU and leaky ReLU with slope ≥ 0.
public enum FusedActivation: Sendable, Equatable {
    case identity, relu
    /// `x > 0 ? x : slope·x` with slope ≥ 0.
    case leakyRelu(Float)

    /// Slope applied where the input is not positive (1 for identity).
    var negativeSlope: Float {
        switch self {
        case .identity: return 1
        case .relu: return 0
        case .leakyRelu(let s):
            precondition(s >= 0, "fused leaky ReLU needs a slope ≥ 0, got \(s)")
            return s
        }
    }

    /// Applies the activation to `x` as the unfused op would.
    func apply(to x: Tensor) -> Tensor {
        switch self {
        case .identity: return x
        case .relu: return x.relu()
        case .leakyRelu(let s): return x.leakyRelu(s)
        }
    }

    @inline(__always)
    static func forward(_ z: SIMD8<Float>, slope: Float) -> SIMD8<Float> {
        slope == 0 ? z.replacing(with: 0, where: z .<= 0) : z.replacing(with: z * slope, where: z .<= 0)
    }

    @inline(__always)
    static func forward(_ z: Float, slope: Float) -> Float { z > 0 ? z : (slope == 0 ? 0 : z * slope) }

    /// The gradient at the activation's input, from its output `y` and output gradient `g`.
    @inline(__always)
    static func backward(_ g: SIMD8<Float>, _ y: SIMD8<Float>, slope: Float) -> SIMD8<Float> {
        slope == 0 ? g.replacing(with: 0, where: y .<= 0) : g.replacing(with: g * slope, where: y .<= 0)
    }

    @inline(__always)
    static func backward(_ g: Float, _ y: Float, slope: Float) -> Float { y > 0 ? g : (slope == 0 ? 0 : g * slope) }
}
