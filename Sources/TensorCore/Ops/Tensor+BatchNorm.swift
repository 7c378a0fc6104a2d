// Batch normalisation over [N, C, *] inputs (BatchNorm1d on [N, C] / [N, C, L], BatchNorm2d on NCHW).
// M = N·S values per channel, S = product of the trailing (spatial) dimensions.

/// Normalises each channel by batch statistics (training) or running statistics (eval), then
/// applies the optional affine `weight`/`bias`. In training, `runningMean`/`runningVar` are
/// updated in place as PyTorch does: running = (1−momentum)·running + momentum·batch, with the
/// unbiased variance M/(M−1) in the running estimate.
public func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
    precondition(x.rank >= 2, "batchNorm expects [N, C, *], got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], s = x.count / Swift.max(n * c, 1), m = n * s
    for t in [weight, bias, runningMean, runningVar].compactMap({ $0 }) {
        precondition(t.shape == [c], "batchNorm: per-channel tensors must be [\(c)], got \(t.shape)")
    }
    var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
    if training {
        precondition(m > 1, "batchNorm in training needs more than one value per channel, got input \(x.shape)")
        var variance = [Float](repeating: 0, count: c)
        mean.withUnsafeMutableBufferPointer { meanOut in
        variance.withUnsafeMutableBufferPointer { varOut in
        x.data.withUnsafeBufferPointer { px in
            Parallel.chunks(c, costPerItem: 2 * m) { channels in
                for ch in channels {
                    // Two passes in Double: one-pass sums lose precision on large M.
                    var sum: Double = 0
                    for img in 0..<n { let base = (img * c + ch) * s; for i in 0..<s { sum += Double(px[base + i]) } }
                    let mu = sum / Double(m)
                    var sq: Double = 0
                    for img in 0..<n {
                        let base = (img * c + ch) * s
                        for i in 0..<s { let d = Double(px[base + i]) - mu; sq += d * d }
                    }
                    meanOut[ch] = Float(mu)
                    varOut[ch] = Float(sq / Double(m))
                }
            }
        }
        }
        }
        for ch in 0..<c { invStd[ch] = 1 / (variance[ch] + eps).squareRoot() }
        if let runningMean, let runningVar {
            let unbias = Float(m) / Float(m - 1)
            for ch in 0..<c {
                runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * mean[ch]
                runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + momentum * variance[ch] * unbias
            }
        }
    } else {
        guard let runningMean, let runningVar else { preconditionFailure("batchNorm in eval mode needs running statistics") }
        mean = runningMean.data
        for ch in 0..<c { invStd[ch] = 1 / (runningVar.data[ch] + eps).squareRoot() }
    }
    let gamma = weight?.data ?? [Float](repeating: 1, count: c)
    let beta = bias?.data ?? [Float](repeating: 0, count: c)
    var y = [Float](repeating: 0, count: x.count)
    x.data.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
            Parallel.chunks(c, costPerItem: m) { channels in
                for ch in channels {
                    let scale = gamma[ch] * invStd[ch], shift = beta[ch] - mean[ch] * scale
                    for img in 0..<n {
                        let base = (img * c + ch) * s
                        for i in 0..<s { py[base + i] = px[base + i] * scale + shift }
                    }
                }
            }
        }
    }
    let inputs = [x] + [weight, bias].compactMap { $0 }
    let xData = x.data
    return Tensor(shape: x.shape, data: y, op: "batch_norm", inputs: inputs) { g in
        var sumG = [Float](repeating: 0, count: c), sumGX = [Float](repeating: 0, count: c)
        var gx = [Float](repeating: 0, count: x.requiresGrad ? xData.count : 0)
        sumG.withUnsafeMutableBufferPointer { sumGOut in
        sumGX.withUnsafeMutableBufferPointer { sumGXOut in
        xData.withUnsafeBufferPointer { px in
            g.withUnsafeBufferPointer { pg in
                gx.withUnsafeMutableBufferPointer { pgx in
                    Parallel.chunks(c, costPerItem: 3 * m) { channels in
                        for ch in channels {
                            // Σg and Σg·x̂ per channel.
                            var sg: Float = 0, sgx: Float = 0
                            let mu = mean[ch], inv = invStd[ch]
                            for img in 0..<n {
                                let base = (img * c + ch) * s
                                for i in 0..<s { sg += pg[base + i]; sgx += pg[base + i] * (px[base + i] - mu) }
                            }
                            sgx *= inv
                            sumGOut[ch] = sg; sumGXOut[ch] = sgx
                            guard pgx.count > 0 else { continue }
                            let k = gamma[ch] * inv
                            if training {
                                // dx = γ·σ⁻¹/M · (M·g − Σg − x̂·Σg·x̂)
                                let a = sg / Float(m), b = sgx / Float(m)
                                for img in 0..<n {
                                    let base = (img * c + ch) * s
                                    for i in 0..<s {
                                        let xhat = (px[base + i] - mu) * inv
                                        pgx[base + i] = k * (pg[base + i] - a - xhat * b)
                                    }
                                }
                            } else {
                                for img in 0..<n {
                                    let base = (img * c + ch) * s
                                    for i in 0..<s { pgx[base + i] = k * pg[base + i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        }
        if x.requiresGrad { x.accumulateGrad(gx) }
        weight?.accumulateGrad(sumGX)
        bias?.accumulateGrad(sumG)
    }.traced(.batchNorm(eps: eps, training: training), [x, weight, bias, runningMean, runningVar])
}
