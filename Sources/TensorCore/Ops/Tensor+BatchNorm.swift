// Batch normalisation over [N, C, *] inputs (BatchNorm1d on [N, C] / [N, C, L], BatchNorm2d on NCHW).
// M = N·S values per channel, S = product of the trailing (spatial) dimensions.

/// Normalises each channel by batch statistics (training) or running statistics (eval), then
/// applies the optional affine `weight`/`bias` and the fused `activation`. In training,
/// `runningMean`/`runningVar` are updated in place as PyTorch does: running = (1−momentum)·running
/// + momentum·batch, with the unbiased variance M/(M−1) in the running estimate.
///
/// With an activation, forward and backward each make one pass less over the feature map than
/// `batchNorm` followed by `relu()`/`leakyRelu(_:)`, and the normalised map is never stored.
/// Under `OpTrace` (export) the unfused ops are recorded instead.
public func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5,
                      activation: FusedActivation = .identity) -> Tensor {
    if activation != .identity && OpTrace.current != nil {
        return activation.apply(to: batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                              training: training, momentum: momentum, eps: eps))
    }
    precondition(x.rank >= 2, "batchNorm expects [N, C, *], got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], s = x.count / Swift.max(n * c, 1), m = n * s
    for t in [weight, bias, runningMean, runningVar].compactMap({ $0 }) {
        precondition(t.shape == [c], "batchNorm: per-channel tensors must be [\(c)], got \(t.shape)")
    }
    let active = activation != .identity, slope = activation.negativeSlope
    // A blocked map (between training convolutions) is normalised as it is stored, and the output
    // stored the same way (bf16 in, bf16 out, as under autocast).
    let layout = x.storageLayout
    let xData = x.values(in: layout)
    let blocked = layout.isBlocked ? BatchNormBlockedKernel(n: n, c: c, s: s, layout: layout) : nil
    var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
    // Values per channel in the whole batch: M here, the sum over ranks when synchronised.
    var count = m
    if training {
        precondition(m > 1, "batchNorm in training needs more than one value per channel, got input \(x.shape)")
        var variance = [Float](repeating: 0, count: c)
        if let blocked {
            (mean, variance, count) = xData.withUnsafeBufferPointer { blocked.statistics($0.baseAddress!, reduce: BatchNormSync.reduce) }
        } else if let reduce = BatchNormSync.reduce {
            (mean, variance, count) = synchronisedStatistics(x, n: n, c: c, s: s, reduce: reduce)
        } else {
        mean.withUnsafeMutableBufferPointer { meanOut in
        variance.withUnsafeMutableBufferPointer { varOut in
        xData.withUnsafeBufferPointer { px in
            Parallel.chunks(c, costPerItem: 2 * m) { channels in
                for ch in channels {
                    // Two passes, blocks summed in SIMD lanes and added in Double: one-pass
                    // sums lose precision on large M.
                    var sum: Double = 0
                    for img in 0..<n { sum += Vectorized.sum(px.baseAddress! + (img * c + ch) * s, s) }
                    let mu = Float(sum / Double(m))
                    var sq: Double = 0
                    for img in 0..<n {
                        sq += Vectorized.sumSquaredDeviation(px.baseAddress! + (img * c + ch) * s, s, mean: mu)
                    }
                    meanOut[ch] = mu
                    varOut[ch] = Float(sq / Double(m))
                }
            }
        }
        }
        }
        }
        for ch in 0..<c { invStd[ch] = 1 / (variance[ch] + eps).squareRoot() }
        if let runningMean, let runningVar {
            let unbias = Float(count) / Float(count - 1)
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
    let y = [Float].overwritten(count: layout.storageCount(x.count)) { py in
        xData.withUnsafeBufferPointer { px in
            if let blocked {
                let scale = (0..<c).map { gamma[$0] * invStd[$0] }
                return blocked.forward(px.baseAddress!, py.baseAddress!, scale: scale,
                                       shift: (0..<c).map { beta[$0] - mean[$0] * scale[$0] }, active: active, slope: slope)
            }
            Parallel.chunks(c, costPerItem: m) { channels in
                for ch in channels {
                    let scale = gamma[ch] * invStd[ch], shift = beta[ch] - mean[ch] * scale
                    for img in 0..<n {
                        let base = (img * c + ch) * s
                        BatchNormKernel.forward(px.baseAddress! + base, py.baseAddress! + base, s,
                                                scale: scale, shift: shift, active: active, slope: slope)
                    }
                }
            }
        }
    }
    let inputs = [x] + [weight, bias].compactMap { $0 }
    let op: StaticString = switch activation {
    case .identity: "batch_norm"
    case .relu: "batch_norm_relu"
    case .leakyRelu: "batch_norm_leaky_relu"
    }
    let out = Tensor(shape: x.shape, data: y, layout: layout, op: op, inputs: inputs) { g in
        var sumG = [Float](repeating: 0, count: c), sumGX = [Float](repeating: 0, count: c)
        let wantX = x.requiresGrad
        // y is only read when an activation is fused; identity passes g in its place.
        let yData = active ? y : []
        /// Runs `body` over the channels in parallel with the per-channel sums (written by
        /// `body`) and pointers to g, the map the activation's gradient reads (y, or g without
        /// one) and x.
        func forChannels(cost: Int, _ body: (Int, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>,
                                             UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) -> Void) {
            sumG.withUnsafeMutableBufferPointer { sumGOut in
            sumGX.withUnsafeMutableBufferPointer { sumGXOut in
            xData.withUnsafeBufferPointer { px in
            yData.withUnsafeBufferPointer { pyd in
            g.withUnsafeBufferPointer { pg in
                let py = active ? pyd.baseAddress! : pg.baseAddress!
                Parallel.chunks(c, costPerItem: cost) { channels in
                    for ch in channels { body(ch, sumGOut, sumGXOut, pg.baseAddress!, py, px.baseAddress!) }
                }
            }
            }
            }
            }
            }
        }
        /// Σgz and Σgz·x̂ of channel `ch` (gz: gradient before the activation) into the sums.
        func sumChannel(_ ch: Int, _ sumGOut: UnsafeMutableBufferPointer<Float>, _ sumGXOut: UnsafeMutableBufferPointer<Float>,
                        _ pg: UnsafePointer<Float>, _ py: UnsafePointer<Float>, _ px: UnsafePointer<Float>) {
            var sg: Float = 0, sgx: Float = 0
            for img in 0..<n {
                let base = (img * c + ch) * s
                let (a, b) = BatchNormKernel.sums(pg + base, py + base, px + base, s, mean: mean[ch], active: active, slope: slope)
                sg += a; sgx += b
            }
            sumGOut[ch] = sg; sumGXOut[ch] = sgx * invStd[ch]
        }
        if let blocked {
            let gx = [Float].overwritten(count: wantX ? x.count : 0) { pgx in
                xData.withUnsafeBufferPointer { px in
                yData.withUnsafeBufferPointer { pyd in
                g.withUnsafeBufferPointer { pg in
                    let py = active ? pyd.baseAddress! : pg.baseAddress!
                    let sums = blocked.sums(pg.baseAddress!, py, px.baseAddress!, mean: mean, active: active, slope: slope)
                    (sumG, sumGX) = (sums.sumG, (0..<c).map { sums.sumGX[$0] * invStd[$0] })
                    guard wantX else { return }
                    // Synchronised, the input gradient takes the sums over all ranks.
                    var totals = (sumG + sumGX).map(Double.init)
                    if training, let reduce = BatchNormSync.reduce { reduce(&totals) }
                    blocked.inputGradient(pg.baseAddress!, py, px.baseAddress!, pgx.baseAddress!, training: training,
                                          k: (0..<c).map { gamma[$0] * invStd[$0] },
                                          a: (0..<c).map { Float(totals[$0] / Double(count)) },
                                          b: (0..<c).map { Float(totals[c + $0] / Double(count)) * invStd[$0] },
                                          mean: mean, active: active, slope: slope)
                }
                }
                }
            }
            if wantX { x.accumulateGrad(gx, layout: .blocked16) }
            weight?.accumulateGrad(sumGX)
            bias?.accumulateGrad(sumG)
            return
        }
        // Synchronised: the input gradient needs Σgz and Σgz·x̂ over all ranks, so a first pass
        // takes this rank's sums (they stay the affine gradients) and the input gradient waits
        // for their reduction.
        let global: [Double]? = (training ? BatchNormSync.reduce : nil).map { reduce in
            forChannels(cost: 2 * m, sumChannel)
            var sums = (sumG + sumGX).map(Double.init)
            reduce(&sums)
            return sums
        }
        let gx = [Float].overwritten(count: wantX ? xData.count : 0) { pgx in
            forChannels(cost: 3 * m) { ch, sumGOut, sumGXOut, pg, py, px in
                if global == nil { sumChannel(ch, sumGOut, sumGXOut, pg, py, px) }
                guard wantX else { return }
                // Training: dx = γ·σ⁻¹/M · (M·gz − Σgz − x̂·Σgz·x̂); eval: dx = γ·σ⁻¹·gz.
                let mu = mean[ch], inv = invStd[ch], k = gamma[ch] * inv
                let a = Float((global?[ch] ?? Double(sumGOut[ch])) / Double(count))
                let b = Float((global?[c + ch] ?? Double(sumGXOut[ch])) / Double(count))
                for img in 0..<n {
                    let base = (img * c + ch) * s
                    BatchNormKernel.inputGradient(pg + base, py + base, px + base, pgx.baseAddress! + base, s, training: training,
                                                  k: k, a: a, b: b, mean: mu, inv: inv, active: active, slope: slope)
                }
            }
        }
        if wantX { x.accumulateGrad(gx) }
        weight?.accumulateGrad(sumGX)
        bias?.accumulateGrad(sumG)
    }
    return active ? out : out.traced(.batchNorm(eps: eps, training: training), [x, weight, bias, runningMean, runningVar])
}

/// Synchronised BatchNorm across the ranks of a data-parallel job: when `reduce` is set, every
/// training-mode `batchNorm` sums its per-channel statistics over all ranks (forward: Σx, the
/// count, then Σ(x−μ)²; backward: Σgz and Σgz·x̂), so each rank normalises by the whole batch's
/// mean and variance as a single process with that batch would. The affine gradients stay
/// per rank (the gradient all-reduce sums them). Every rank must run the same BatchNorm calls in
/// the same order. Nil (the default): per-rank statistics. Task-local: bound with
/// `BatchNormSync.$reduce.withValue(…) { … }` around the training that synchronises.
public enum BatchNormSync {
    @TaskLocal public static var reduce: (@Sendable (inout [Double]) -> Void)?
}

/// Batch mean, variance and count summed over the ranks through `reduce` (two reductions: the
/// sums and count first, then the squared deviations from the global mean).
private func synchronisedStatistics(_ x: Tensor, n: Int, c: Int, s: Int,
                                    reduce: (inout [Double]) -> Void) -> (mean: [Float], variance: [Float], count: Int) {
    /// Σ over the batch of `body(channel, image block)` for each channel, in Double.
    func perChannel(_ body: (Int, UnsafePointer<Float>) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: c)
        x.data.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                Parallel.chunks(c, costPerItem: n * s) { channels in
                    for ch in channels {
                        var total: Double = 0
                        for img in 0..<n { total += body(ch, px.baseAddress! + (img * c + ch) * s) }
                        o[ch] = total
                    }
                }
            }
        }
        return out
    }
    var sums = perChannel { Vectorized.sum($1, s) } + [Double(n * s)]
    reduce(&sums)
    let count = Int(sums[c])
    let mean = (0..<c).map { Float(sums[$0] / Double(count)) }
    var squares = perChannel { Vectorized.sumSquaredDeviation($1, s, mean: mean[$0]) }
    reduce(&squares)
    return (mean, squares.map { Float($0 / Double(count)) }, count)
}
