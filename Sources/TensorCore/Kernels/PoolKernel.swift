/// One pooling window clipped to the input: the rows and columns it reads (before dilation
/// stepping), and where it started in padded coordinates (for count_include_pad).
struct PoolWindow {
    let rows: Range<Int>
    let cols: Range<Int>
    let rowStart: Int
    let colStart: Int
    let dilation: Size2
}

enum PoolWindows {
    /// Windows of a fixed-kernel pooling, one per output pixel in row-major order.
    static func fixed(_ g: ConvGeometry) -> [PoolWindow] {
        var windows: [PoolWindow] = []
        windows.reserveCapacity(g.p)
        for oy in 0..<g.oh {
            let r0 = oy * g.stride.h - g.padding.h
            let rows = clip(r0, g.kernel.h, g.dilation.h, g.h)
            for ox in 0..<g.ow {
                let c0 = ox * g.stride.w - g.padding.w
                let cols = clip(c0, g.kernel.w, g.dilation.w, g.w)
                windows.append(PoolWindow(rows: rows, cols: cols, rowStart: r0, colStart: c0, dilation: g.dilation))
            }
        }
        return windows
    }

    /// Tap indices t in 0..<k with start + t·d inside 0..<limit, returned as input coordinates
    /// start+t·d for the first and one past the last valid tap (step d).
    private static func clip(_ start: Int, _ k: Int, _ d: Int, _ limit: Int) -> Range<Int> {
        var first = 0
        while first < k && start + first * d < 0 { first += 1 }
        var last = k - 1
        while last >= first && start + last * d >= limit { last -= 1 }
        if last < first { return start..<start }
        return (start + first * d)..<(start + last * d + 1)
    }
}

extension ConvGeometry {
    /// The same geometry with an explicit output size (adaptive pooling).
    func withOutput(oh: Int, ow: Int) -> ConvGeometry {
        var copy = self
        copy.oh = oh
        copy.ow = ow
        return copy
    }
}

enum PoolKernel {
    static func max(_ x: Tensor, _ g: ConvGeometry, windows: [PoolWindow], op: StaticString) -> Tensor {
        if x.storageLayout.isBlocked { return BlockedMaxPool.forward(x, g, windows: windows, op: op) }
        let planes = g.n * g.c, hw = g.h * g.w, p = windows.count
        var y = [Float](repeating: 0, count: planes * p)
        // Without the tape nobody reads the argmax: skip storing it.
        let tracked = GradMode.isEnabled && x.requiresGrad
        var argmax = [Int32](repeating: -1, count: tracked ? planes * p : 0)
        x.data.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                argmax.withUnsafeMutableBufferPointer { pa in
                    Parallel.chunks(planes, costPerItem: hw * 4) { range in
                        for plane in range {
                            let src = px.baseAddress! + plane * hw
                            if !tracked && g.dilation == Size2(1) {
                                // Inference: plain row loops, no argmax (the general loop below steps by dilation).
                                for (o, win) in windows.enumerated() {
                                    var best = -Float.infinity
                                    for r in win.rows {
                                        let row = src + r * g.w
                                        for c in win.cols { let v = row[c]; if v > best || v.isNaN && !best.isNaN { best = v } }
                                    }
                                    py[plane * p + o] = best
                                }
                                continue
                            }
                            for (o, win) in windows.enumerated() {
                                var best = -Float.infinity, at = -1
                                for r in Swift.stride(from: win.rows.lowerBound, to: win.rows.upperBound, by: win.dilation.h) {
                                    for c in Swift.stride(from: win.cols.lowerBound, to: win.cols.upperBound, by: win.dilation.w) {
                                        let v = src[r * g.w + c]
                                        if v > best || at < 0 || v.isNaN { best = v; at = r * g.w + c }
                                    }
                                }
                                py[plane * p + o] = best
                                if tracked { pa[plane * p + o] = Int32(at) }
                            }
                        }
                    }
                }
            }
        }
        let n = x.count
        return Tensor(shape: [g.n, g.c, g.oh, g.ow], data: y, op: op, inputs: [x]) { gy in
            var gx = [Float](repeating: 0, count: n)
            for plane in 0..<planes {
                for o in 0..<p {
                    let at = Int(argmax[plane * p + o])
                    if at >= 0 { gx[plane * hw + at] += gy[plane * p + o] }
                }
            }
            x.accumulateGrad(gx)
        }
    }

    static func average(_ x: Tensor, _ g: ConvGeometry, windows: [PoolWindow], divisors: [Float], op: StaticString) -> Tensor {
        let planes = g.n * g.c, hw = g.h * g.w, p = windows.count
        var y = [Float](repeating: 0, count: planes * p)
        x.data.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                Parallel.chunks(planes, costPerItem: hw * 2) { range in
                    for plane in range {
                        let src = px.baseAddress! + plane * hw
                        for (o, win) in windows.enumerated() {
                            var s: Float = 0
                            for r in win.rows { for c in win.cols { s += src[r * g.w + c] } }
                            py[plane * p + o] = s / divisors[o]
                        }
                    }
                }
            }
        }
        let n = x.count
        return Tensor(shape: [g.n, g.c, g.oh, g.ow], data: y, op: op, inputs: [x]) { gy in
            var gx = [Float](repeating: 0, count: n)
            gx.withUnsafeMutableBufferPointer { pgx in
                Parallel.chunks(planes, costPerItem: hw * 2) { range in
                    for plane in range {
                        let dst = pgx.baseAddress! + plane * hw
                        for (o, win) in windows.enumerated() {
                            let v = gy[plane * p + o] / divisors[o]
                            for r in win.rows { for c in win.cols { dst[r * g.w + c] += v } }
                        }
                    }
                }
            }
            x.accumulateGrad(gx)
        }
    }
}
