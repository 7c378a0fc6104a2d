/// How dropout keeps the expected activation unchanged.
public enum DropoutMode: String, Sendable {
    /// Scale kept units by 1/(1−p) in training; identity at inference (PyTorch, Paddle default).
    case upscaleInTrain = "upscale_in_train"
    /// Keep units unscaled in training; multiply by (1−p) at inference (Paddle's `downscale_in_infer`).
    case downscaleInInfer = "downscale_in_infer"
}

/// Zeroes each element with probability `p` in training, drawing the mask from `rng`.
public func dropout(_ x: Tensor, p: Float, training: Bool, mode: DropoutMode = .upscaleInTrain,
                    rng: inout RNG) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
    if !training || p == 0 {
        return mode == .downscaleInInfer && p > 0 ? x * (1 - p) : x
    }
    let keep = mode == .upscaleInTrain ? 1 / (1 - p) : 1
    var mask = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count { mask[i] = rng.uniform() >= p ? keep : 0 }
    return x * Tensor(shape: x.shape, data: mask)
}
