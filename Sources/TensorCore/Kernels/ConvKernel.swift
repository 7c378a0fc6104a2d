/// Convolution forward and backward on im2col + sgemm (and a direct loop for depthwise): the
/// `im2col` backend, and the reference the oneDNN kernels are tested against.
///
/// Parallel scheme: the batch is split between workers, each running single-threaded GEMMs on
/// its own images with its own scratch. Fewer images than cores: forward splits each image
/// (`forwardSplit`); backward lets OpenBLAS thread the GEMMs. This keeps im2col/col2im parallel
/// without nesting two thread pools.
enum ConvKernel {
    /// Single images below this many multiply-adds run on one thread (the hand-off costs more).
    static let splitThreshold = 1 << 20

    static func forward(_ g: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?,
                        epilogue: ConvEpilogue? = nil) -> [Float] {
        if g.cg == 1 && g.groups > 1 {
            var y = [Float](repeating: 0, count: g.n * g.k * g.p)
            Depthwise.forward(g, x: x, weight: weight, y: &y)
            y.withUnsafeMutableBufferPointer { py in
                for img in 0..<g.n { finish(g, py.baseAddress!, img: img, channels: 0..<g.k, pixels: 0..<g.p, bias, epilogue) }
            }
            return y
        }
        return [Float].overwritten(count: g.n * g.k * g.p) { py in
            x.withUnsafeBufferPointer { px in
                weight.withUnsafeBufferPointer { pw in
                    let (xp, wp, yp) = (px.baseAddress!, pw.baseAddress!, py.baseAddress!)
                    if g.n < Parallel.cores && g.macs / g.n >= splitThreshold {
                        for img in 0..<g.n { forwardSplit(g, img: img, x: xp, weight: wp, y: yp, bias, epilogue) }
                        return
                    }
                    forEachImage(g) { _, range, scratch in
                        for img in range {
                            for grp in 0..<g.groups {
                                let xin = xp + (img * g.c + grp * g.cg) * g.h * g.w
                                let cols = columns(g, xin, scratch)
                                GEMM.sgemm(m: g.kg, n: g.p, k: g.patch, a: wp + grp * g.kg * g.patch, lda: g.patch,
                                           b: cols, ldb: g.p, c: yp + (img * g.k + grp * g.kg) * g.p, ldc: g.p)
                            }
                            finish(g, yp, img: img, channels: 0..<g.k, pixels: 0..<g.p, bias, epilogue)
                        }
                    }
                }
            }
        }
    }

    /// One image on all cores with single-threaded GEMMs, so im2col and the epilogue run in
    /// parallel too: large maps split by output rows (each worker expands its own column block),
    /// small ones by output channels over columns expanded once.
    static func forwardSplit(_ g: ConvGeometry, img: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, _ bias: [Float]?, _ epilogue: ConvEpilogue?) {
        let workers = Parallel.cores
        let saved = GEMM.threads
        GEMM.threads = 1
        defer { GEMM.threads = saved }
        let xImage = x + img * g.c * g.h * g.w, yImage = y + img * g.k * g.p
        if g.p >= 512 && g.oh >= 2 * workers || g.groups > 1 {
            DispatchQueueBridge.concurrentPerform(workers) { wk in
                let rows = (g.oh * wk / workers)..<(g.oh * (wk + 1) / workers)
                if rows.isEmpty { return }
                let blockP = rows.count * g.ow, first = rows.lowerBound * g.ow
                let scratch = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.patch * blockP)
                defer { scratch?.deallocate() }
                for grp in 0..<g.groups {
                    let xin = xImage + grp * g.cg * g.h * g.w
                    var cols = xin + first, ldb = g.p
                    if let scratch {
                        Im2Col.expand(g, input: xin, cols: scratch, rows: rows)
                        cols = UnsafePointer(scratch); ldb = blockP
                    }
                    GEMM.sgemm(m: g.kg, n: blockP, k: g.patch, a: weight + grp * g.kg * g.patch, lda: g.patch,
                               b: cols, ldb: ldb, c: yImage + grp * g.kg * g.p + first, ldc: g.p)
                }
                finish(g, y, img: img, channels: 0..<g.k, pixels: first..<(first + blockP), bias, epilogue)
            }
            return
        }
        var cols = xImage
        let scratch = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.patch * g.p)
        defer { scratch?.deallocate() }
        if let scratch {
            DispatchQueueBridge.concurrentPerform(workers) { wk in
                Im2Col.expand(g, input: xImage, cols: scratch, channels: (g.c * wk / workers)..<(g.c * (wk + 1) / workers))
            }
            cols = UnsafePointer(scratch)
        }
        DispatchQueueBridge.concurrentPerform(workers) { wk in
            let channels = (g.k * wk / workers)..<(g.k * (wk + 1) / workers)
            if channels.isEmpty { return }
            GEMM.sgemm(m: channels.count, n: g.p, k: g.patch, a: weight + channels.lowerBound * g.patch, lda: g.patch,
                       b: cols, ldb: g.p, c: yImage + channels.lowerBound * g.p, ldc: g.p)
            finish(g, y, img: img, channels: channels, pixels: 0..<g.p, bias, epilogue)
        }
    }

    /// Adds the bias, then applies the epilogue, to output channels × pixels of one image.
    @inline(__always)
    static func finish(_ g: ConvGeometry, _ y: UnsafeMutablePointer<Float>, img: Int, channels: Range<Int>,
                       pixels: Range<Int>, _ bias: [Float]?, _ epilogue: ConvEpilogue?) {
        if bias == nil && epilogue == nil { return }
        for ch in channels {
            let row = y + (img * g.k + ch) * g.p + pixels.lowerBound
            var scale: Float = 1, shift = bias?[ch] ?? 0
            if let e = epilogue { scale = e.scale[ch]; shift = shift * scale + e.shift[ch] }
            BatchNormKernel.forward(row, row, pixels.count, scale: scale, shift: shift,
                                    active: epilogue?.active ?? false, slope: epilogue?.slope ?? 1)
        }
    }

    /// Gradients of Σ y·gy with respect to the input, weight and bias (each only when asked).
    static func backward(_ g: ConvGeometry, x: [Float], weight: [Float], gy: [Float],
                         wantX: Bool, wantW: Bool, wantB: Bool) -> (gx: [Float]?, gw: [Float]?, gb: [Float]?) {
        let gb = wantB ? biasGradient(g, gy: gy) : nil
        if !wantX && !wantW { return (nil, nil, gb) }
        if g.cg == 1 && g.groups > 1 {
            let (gx, gw) = Depthwise.backward(g, x: x, weight: weight, gy: gy, wantX: wantX, wantW: wantW)
            return (gx, gw, gb)
        }
        // Pointwise convs write each input-gradient element once (beta 0); col2im adds into zeros.
        var gx: [Float]? = wantX ? (g.isPointwise ? [Float].uninitialized(count: x.count)
                                                   : [Float](repeating: 0, count: x.count)) : nil
        let workers = Swift.min(Parallel.cores, g.n)
        var gwParts = wantW ? [Float](repeating: 0, count: workers * weight.count) : []
        let wCount = weight.count
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                gy.withUnsafeBufferPointer { pgy in
                    gwParts.withUnsafeMutableBufferPointer { pgw in
                        withOptionalBuffer(&gx) { pgx in
                            forEachImage(g, needsGradColumns: wantX) { worker, range, scratch in
                                for img in range {
                                    for grp in 0..<g.groups {
                                        let dy = pgy.baseAddress! + (img * g.k + grp * g.kg) * g.p
                                        let wg = pw.baseAddress! + grp * g.kg * g.patch
                                        let xin = px.baseAddress! + (img * g.c + grp * g.cg) * g.h * g.w
                                        if wantW {
                                            // dW[Kg, patch] += dY[Kg, P] · colsᵀ[P, patch]
                                            let cols = columns(g, xin, scratch)
                                            GEMM.sgemm(transB: true, m: g.kg, n: g.patch, k: g.p, a: dy, lda: g.p,
                                                       b: cols, ldb: g.p, beta: 1,
                                                       c: pgw.baseAddress! + worker * wCount + grp * g.kg * g.patch,
                                                       ldc: g.patch)
                                        }
                                        if let pgx {
                                            // dcols[patch, P] = Wᵀ[patch, Kg] · dY[Kg, P], then fold back.
                                            let dxin = pgx + (img * g.c + grp * g.cg) * g.h * g.w
                                            if g.isPointwise {
                                                GEMM.sgemm(transA: true, m: g.patch, n: g.p, k: g.kg, a: wg, lda: g.patch,
                                                           b: dy, ldb: g.p, c: dxin, ldc: g.p)
                                            } else {
                                                let dcols = scratch.gradColumns
                                                GEMM.sgemm(transA: true, m: g.patch, n: g.p, k: g.kg, a: wg, lda: g.patch,
                                                           b: dy, ldb: g.p, c: dcols, ldc: g.p)
                                                Im2Col.accumulate(g, cols: dcols, into: dxin)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var gw: [Float]?
        if wantW {
            var total = [Float](gwParts[0..<wCount])
            for part in 1..<workers {
                for i in 0..<wCount { total[i] += gwParts[part * wCount + i] }
            }
            gw = total
        }
        return (gx, gw, gb)
    }

    /// The bias gradient: the output gradient summed over images and pixels, per channel.
    static func biasGradient(_ g: ConvGeometry, gy: [Float]) -> [Float] {
        var sums = [Float](repeating: 0, count: g.k)
        gy.withUnsafeBufferPointer { p in
            for img in 0..<g.n {
                for ch in 0..<g.k {
                    let base = (img * g.k + ch) * g.p
                    var s: Float = 0
                    for i in 0..<g.p { s += p[base + i] }
                    sums[ch] += s
                }
            }
        }
        return sums
    }

    /// Per-worker scratch: im2col columns and, in backward, their gradient.
    final class Scratch {
        let columns: UnsafeMutablePointer<Float>
        let gradColumns: UnsafeMutablePointer<Float>
        private let size: Int
        init(size: Int, withGrad: Bool) {
            self.size = size
            columns = .allocate(capacity: Swift.max(size, 1))
            gradColumns = withGrad ? .allocate(capacity: Swift.max(size, 1)) : columns
        }
        deinit {
            if gradColumns != columns { gradColumns.deallocate() }
            columns.deallocate()
        }
    }

    /// The im2col matrix of one image-group: the input itself for pointwise convs.
    @inline(__always)
    static func columns(_ g: ConvGeometry, _ xin: UnsafePointer<Float>, _ scratch: Scratch) -> UnsafePointer<Float> {
        if g.isPointwise { return xin }
        Im2Col.expand(g, input: xin, cols: scratch.columns)
        return UnsafePointer(scratch.columns)
    }

    /// Splits the batch across workers with single-threaded GEMMs, or runs one worker with
    /// OpenBLAS threading when there is a single image.
    static func forEachImage(_ g: ConvGeometry, needsGradColumns: Bool = false,
                             _ body: (_ worker: Int, Range<Int>, Scratch) -> Void) {
        let workers = Swift.min(Parallel.cores, g.n)
        let scratchSize = g.isPointwise ? 0 : g.patch * g.p
        if workers <= 1 {
            body(0, 0..<g.n, Scratch(size: scratchSize, withGrad: needsGradColumns))
            return
        }
        let saved = GEMM.threads
        GEMM.threads = 1
        defer { GEMM.threads = saved }
        DispatchQueueBridge.concurrentPerform(workers) { wk in
            let lo = g.n * wk / workers, hi = g.n * (wk + 1) / workers
            if lo < hi { body(wk, lo..<hi, Scratch(size: scratchSize, withGrad: needsGradColumns)) }
        }
    }
}

/// Runs `body` with a pointer into `array`'s storage, or nil when there is no array.
@inline(__always)
func withOptionalBuffer<R>(_ array: inout [Float]?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    if array == nil { return body(nil) }
    return array!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
