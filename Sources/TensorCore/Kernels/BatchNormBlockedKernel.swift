/// Batch normalisation over blocked maps (`[N, C/16, S, 16]`, S pixels, fp32 or bf16 as `layout`
/// says), the same arithmetic as `BatchNormKernel` on plain rows, in fp32. Work is split by
/// (image, channel block); each block is read as two 8-lane halves, one vector per pixel, so the
/// per-channel parameters are vectors and the per-channel sums are lane-wise. The output map is
/// stored like the input; gradients are fp32 `blocked16`.
struct BatchNormBlockedKernel {
    let n, c, s: Int
    let layout: TensorLayout
    private var blocks: Int { c / 16 }

    /// Runs `body(item, lanes)` for every (image, block, half): `item` is the index of the first
    /// value of that half, `lanes` its first channel.
    private func forHalves(_ body: (Int, Int) -> Void) {
        Parallel.chunks(n * blocks, costPerItem: 16 * s) { items in
            for item in items {
                for half in 0..<2 { body(item * 16 * s + half * 8, (item % blocks) * 16 + half * 8) }
            }
        }
    }

    /// Per-channel sums over images, in Double, of `partial`'s per-image sums (`[N, C]` for each of
    /// its `count` quantities, side by side).
    private func addImages(_ partial: [Float], count: Int) -> [[Double]] {
        (0..<count).map { q in
            var total = [Double](repeating: 0, count: c)
            for img in 0..<n { for ch in 0..<c { total[ch] += Double(partial[(q * n + img) * c + ch]) } }
            return total
        }
    }

    private static func vector(_ values: UnsafePointer<Float>, _ lanes: Int) -> SIMD8<Float> { Vectorized.load8(values + lanes) }

    /// Per-image, per-channel Σx (`mean` nil) or Σ(x − mean)², then over images.
    private func sums<L: BlockedLanes>(_ x: UnsafeRawPointer, deviationsFrom mean: [Float]?, _: L.Type) -> [Double] {
        var partial = [Float](repeating: 0, count: n * c)
        let centre = mean ?? [Float](repeating: 0, count: c)
        partial.withUnsafeMutableBufferPointer { out in
            centre.withUnsafeBufferPointer { mu in
                forHalves { offset, lanes in
                    var acc = SIMD8<Float>()
                    if mean == nil {
                        for p in 0..<s { acc += L.load8(x, offset + p * 16) }
                    } else {
                        let m = Self.vector(mu.baseAddress!, lanes)
                        for p in 0..<s {
                            let d = L.load8(x, offset + p * 16) - m
                            acc += d * d
                        }
                    }
                    Vectorized.store8(acc, out.baseAddress! + offset / (c * s) * c + lanes)
                }
            }
        }
        return addImages(partial, count: 1)[0]
    }

    /// Per-channel batch mean and biased variance (two passes) and the values per channel; with
    /// `reduce` (synchronised BatchNorm) the sums and count are over all ranks.
    func statistics(_ x: UnsafeRawPointer, reduce: ((inout [Double]) -> Void)?) -> (mean: [Float], variance: [Float], count: Int) {
        let sums = { (mean: [Float]?) in
            layout == .blocked16BF16 ? self.sums(x, deviationsFrom: mean, BF16Lanes.self) : self.sums(x, deviationsFrom: mean, FP32Lanes.self)
        }
        var totals = sums(nil) + [Double(n * s)]
        reduce?(&totals)
        let m = totals[c]
        let mean = totals.prefix(c).map { Float($0 / m) }
        var squares = sums(mean)
        reduce?(&squares)
        return (mean, squares.map { Float($0 / m) }, Int(m))
    }

    /// y = act(x·scale + shift), per-channel scale and shift.
    func forward(_ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, scale: [Float], shift: [Float], active: Bool, slope: Float) {
        if layout == .blocked16BF16 {
            forward(x, y, scale: scale, shift: shift, active: active, slope: slope, BF16Lanes.self)
        } else {
            forward(x, y, scale: scale, shift: shift, active: active, slope: slope, FP32Lanes.self)
        }
    }

    private func forward<L: BlockedLanes>(_ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, scale: [Float], shift: [Float],
                                          active: Bool, slope: Float, _: L.Type) {
        scale.withUnsafeBufferPointer { sc in
            shift.withUnsafeBufferPointer { sh in
                forHalves { offset, lanes in
                    let a = Self.vector(sc.baseAddress!, lanes), b = Self.vector(sh.baseAddress!, lanes)
                    for p in 0..<s {
                        let i = offset + p * 16
                        let z = L.load8(x, i) * a + b
                        L.store8(active ? FusedActivation.forward(z, slope: slope) : z, y, i)
                    }
                }
            }
        }
    }

    /// (Σgz, Σgz·(x − mean)) per channel, gz the fp32 gradient before the activation (read from y).
    func sums(_ g: UnsafePointer<Float>, _ y: UnsafeRawPointer, _ x: UnsafeRawPointer, mean: [Float],
              active: Bool, slope: Float) -> (sumG: [Float], sumGX: [Float]) {
        layout == .blocked16BF16 ? sums(g, y, x, mean: mean, active: active, slope: slope, BF16Lanes.self)
                                 : sums(g, y, x, mean: mean, active: active, slope: slope, FP32Lanes.self)
    }

    private func sums<L: BlockedLanes>(_ g: UnsafePointer<Float>, _ y: UnsafeRawPointer, _ x: UnsafeRawPointer, mean: [Float],
                                       active: Bool, slope: Float, _: L.Type) -> (sumG: [Float], sumGX: [Float]) {
        var partial = [Float](repeating: 0, count: 2 * n * c)
        partial.withUnsafeMutableBufferPointer { out in
            mean.withUnsafeBufferPointer { mu in
                forHalves { offset, lanes in
                    let m = Self.vector(mu.baseAddress!, lanes)
                    var sg = SIMD8<Float>(), sgx = SIMD8<Float>()
                    for p in 0..<s {
                        let i = offset + p * 16
                        var gz = Vectorized.load8(g + i)
                        if active { gz = FusedActivation.backward(gz, L.load8(y, i), slope: slope) }
                        sg += gz
                        sgx += gz * (L.load8(x, i) - m)
                    }
                    let at = offset / (c * s) * c + lanes
                    Vectorized.store8(sg, out.baseAddress! + at)
                    Vectorized.store8(sgx, out.baseAddress! + n * c + at)
                }
            }
        }
        let totals = addImages(partial, count: 2)
        return (totals[0].map(Float.init), totals[1].map(Float.init))
    }

    /// Training: gx = k·(gz − a − (x − mean)·b); eval (`training` false): gx = k·gz. All per
    /// channel; g and gx fp32.
    func inputGradient(_ g: UnsafePointer<Float>, _ y: UnsafeRawPointer, _ x: UnsafeRawPointer,
                       _ gx: UnsafeMutablePointer<Float>, training: Bool, k: [Float], a: [Float], b: [Float],
                       mean: [Float], active: Bool, slope: Float) {
        if layout == .blocked16BF16 {
            inputGradient(g, y, x, gx, training: training, k: k, a: a, b: b, mean: mean, active: active, slope: slope, BF16Lanes.self)
        } else {
            inputGradient(g, y, x, gx, training: training, k: k, a: a, b: b, mean: mean, active: active, slope: slope, FP32Lanes.self)
        }
    }

    private func inputGradient<L: BlockedLanes>(_ g: UnsafePointer<Float>, _ y: UnsafeRawPointer, _ x: UnsafeRawPointer,
                                                _ gx: UnsafeMutablePointer<Float>, training: Bool, k: [Float], a: [Float],
                                                b: [Float], mean: [Float], active: Bool, slope: Float, _: L.Type) {
        k.withUnsafeBufferPointer { kp in
        a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
        mean.withUnsafeBufferPointer { mp in
            forHalves { offset, lanes in
                let kv = Self.vector(kp.baseAddress!, lanes), av = Self.vector(ap.baseAddress!, lanes)
                let bv = Self.vector(bp.baseAddress!, lanes), mv = Self.vector(mp.baseAddress!, lanes)
                for p in 0..<s {
                    let i = offset + p * 16
                    var gz = Vectorized.load8(g + i)
                    if active { gz = FusedActivation.backward(gz, L.load8(y, i), slope: slope) }
                    Vectorized.store8(training ? kv * (gz - av - (L.load8(x, i) - mv) * bv) : kv * gz, gx + i)
                }
            }
        }
        }
        }
        }
    }
}
