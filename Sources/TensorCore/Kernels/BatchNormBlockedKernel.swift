/// Batch normalisation over `blocked16` maps (`[N, C/16, S, 16]`, S pixels), the same arithmetic as
/// `BatchNormKernel` on plain rows. Work is split by (image, channel block); each block is read as
/// two 8-lane halves, one vector per pixel, so the per-channel parameters are vectors and the
/// per-channel sums are lane-wise.
struct BatchNormBlockedKernel {
    let n, c, s: Int
    private var blocks: Int { c / 16 }

    /// Runs `body(item, lanes)` for every (image, block, half): `item` is the offset of the first
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

    /// Per-image, per-channel Σx (`mean` nil) or Σ(x − mean)², then over images.
    private func sums(_ x: UnsafePointer<Float>, deviationsFrom mean: [Float]?) -> [Double] {
        var partial = [Float](repeating: 0, count: n * c)
        let centre = mean ?? [Float](repeating: 0, count: c)
        partial.withUnsafeMutableBufferPointer { out in
            centre.withUnsafeBufferPointer { mu in
                forHalves { offset, lanes in
                    var acc = SIMD8<Float>()
                    if mean == nil {
                        for p in 0..<s { acc += Vectorized.load8(x + offset + p * 16) }
                    } else {
                        let m = Self.vector(mu.baseAddress!, lanes)
                        for p in 0..<s {
                            let d = Vectorized.load8(x + offset + p * 16) - m
                            acc += d * d
                        }
                    }
                    Self.store(acc, out.baseAddress! + offset / (c * s) * c + lanes)
                }
            }
        }
        return addImages(partial, count: 1)[0]
    }

    private static func vector(_ values: UnsafePointer<Float>, _ lanes: Int) -> SIMD8<Float> { Vectorized.load8(values + lanes) }
    private static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { Vectorized.store8(v, p) }

    /// Per-channel batch mean and biased variance (two passes) and the values per channel; with
    /// `reduce` (synchronised BatchNorm) the sums and count are over all ranks.
    func statistics(_ x: UnsafePointer<Float>, reduce: ((inout [Double]) -> Void)?) -> (mean: [Float], variance: [Float], count: Int) {
        var totals = sums(x, deviationsFrom: nil) + [Double(n * s)]
        reduce?(&totals)
        let m = totals[c]
        let mean = totals.prefix(c).map { Float($0 / m) }
        var squares = sums(x, deviationsFrom: mean)
        reduce?(&squares)
        return (mean, squares.map { Float($0 / m) }, Int(m))
    }

    /// y = act(x·scale + shift), per-channel scale and shift.
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, scale: [Float], shift: [Float],
                 active: Bool, slope: Float) {
        scale.withUnsafeBufferPointer { sc in
            shift.withUnsafeBufferPointer { sh in
                forHalves { offset, lanes in
                    let a = Self.vector(sc.baseAddress!, lanes), b = Self.vector(sh.baseAddress!, lanes)
                    for p in 0..<s {
                        let i = offset + p * 16
                        let z = Vectorized.load8(x + i) * a + b
                        Vectorized.store8(active ? FusedActivation.forward(z, slope: slope) : z, y + i)
                    }
                }
            }
        }
    }

    /// (Σgz, Σgz·(x − mean)) per channel, gz the gradient before the activation (read from y).
    func sums(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: [Float],
              active: Bool, slope: Float) -> (sumG: [Float], sumGX: [Float]) {
        var partial = [Float](repeating: 0, count: 2 * n * c)
        partial.withUnsafeMutableBufferPointer { out in
            mean.withUnsafeBufferPointer { mu in
                forHalves { offset, lanes in
                    let m = Self.vector(mu.baseAddress!, lanes)
                    var sg = SIMD8<Float>(), sgx = SIMD8<Float>()
                    for p in 0..<s {
                        let i = offset + p * 16
                        var gz = Vectorized.load8(g + i)
                        if active { gz = FusedActivation.backward(gz, Vectorized.load8(y + i), slope: slope) }
                        sg += gz
                        sgx += gz * (Vectorized.load8(x + i) - m)
                    }
                    let at = offset / (c * s) * c + lanes
                    Self.store(sg, out.baseAddress! + at)
                    Self.store(sgx, out.baseAddress! + n * c + at)
                }
            }
        }
        let totals = addImages(partial, count: 2)
        return (totals[0].map(Float.init), totals[1].map(Float.init))
    }

    /// Training: gx = k·(gz − a − (x − mean)·b); eval (`training` false): gx = k·gz. All per channel.
    func inputGradient(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                       _ gx: UnsafeMutablePointer<Float>, training: Bool, k: [Float], a: [Float], b: [Float],
                       mean: [Float], active: Bool, slope: Float) {
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
                    if active { gz = FusedActivation.backward(gz, Vectorized.load8(y + i), slope: slope) }
                    Vectorized.store8(training ? kv * (gz - av - (Vectorized.load8(x + i) - mv) * bv) : kv * gz, gx + i)
                }
            }
        }
        }
        }
        }
    }
}
