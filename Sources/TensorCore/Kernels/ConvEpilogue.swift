/// Per-output-channel `activation(y·scale + shift)` applied to convolution outputs while they are
/// still in cache: an eval-mode BatchNorm (and its activation) folded into the convolution.
struct ConvEpilogue {
    let scale: [Float]
    let shift: [Float]
    let active: Bool
    let slope: Float

    /// An eval-mode BatchNorm as a per-channel affine map: scale = γ / √(var + ε),
    /// shift = β − mean · scale (γ 1 and β 0 when absent), as batch norm's eval branch computes.
    static func batchNorm(weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor,
                          eps: Float) -> (scale: [Float], shift: [Float]) {
        let k = runningMean.count
        var scale = [Float](repeating: 0, count: k), shift = [Float](repeating: 0, count: k)
        for ch in 0..<k {
            let invStd = 1 / (runningVar.data[ch] + eps).squareRoot()
            scale[ch] = (weight?.data[ch] ?? 1) * invStd
            shift[ch] = (bias?.data[ch] ?? 0) - runningMean.data[ch] * scale[ch]
        }
        return (scale, shift)
    }
}
