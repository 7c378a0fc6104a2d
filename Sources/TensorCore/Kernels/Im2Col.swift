/// im2col / col2im for one image and one group of channels.
/// cols is [Cg·kh·kw, OH·OW] row-major: row (c·kh + i)·kw + j holds input channel c shifted by
/// kernel tap (i, j) for every output pixel, with zeros where the tap falls in the padding.
enum Im2Col {
    /// With `rows`, only output rows in that range are expanded: cols is then
    /// [Cg·kh·kw, rows.count·OW] (a column block of the full matrix, for splitting one image).
    static func expand(_ g: ConvGeometry, input x: UnsafePointer<Float>, cols: UnsafeMutablePointer<Float>,
                       rows: Range<Int>? = nil, channels: Range<Int>? = nil) {
        let (kh, kw, sh, sw) = (g.kernel.h, g.kernel.w, g.stride.h, g.stride.w)
        let (ph, pw, dh, dw) = (g.padding.h, g.padding.w, g.dilation.h, g.dilation.w)
        let (h, w, ow) = (g.h, g.w, g.ow)
        let rows = rows ?? 0..<g.oh
        let blockP = rows.count * ow
        for c in channels ?? 0..<g.cg {
            let plane = x + c * h * w
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((c * kh + i) * kw + j) * blockP
                    let colOffset = j * dw - pw
                    let (lo, hi) = validRange(ow, offset: colOffset, stride: sw, limit: w)
                    for y in rows {
                        let iy = y * sh - ph + i * dh
                        let out = row + (y - rows.lowerBound) * ow
                        if iy < 0 || iy >= h {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * w + colOffset
                        if lo > 0 { out.update(repeating: 0, count: lo) }
                        if sw == 1 {
                            if hi > lo { out.advanced(by: lo).update(from: src + lo, count: hi - lo) }
                        } else {
                            var xx = lo
                            while xx < hi { out[xx] = src[xx * sw]; xx += 1 }
                        }
                        if hi < ow { out.advanced(by: Swift.max(hi, lo)).update(repeating: 0, count: ow - Swift.max(hi, lo)) }
                    }
                }
            }
        }
    }

    /// Adjoint of `expand`: adds each column entry back onto the input pixel it came from.
    static func accumulate(_ g: ConvGeometry, cols: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        let (kh, kw, sh, sw) = (g.kernel.h, g.kernel.w, g.stride.h, g.stride.w)
        let (ph, pw, dh, dw) = (g.padding.h, g.padding.w, g.dilation.h, g.dilation.w)
        let (h, w, oh, ow) = (g.h, g.w, g.oh, g.ow)
        for c in 0..<g.cg {
            let plane = x + c * h * w
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((c * kh + i) * kw + j) * oh * ow
                    let colOffset = j * dw - pw
                    let (lo, hi) = validRange(ow, offset: colOffset, stride: sw, limit: w)
                    if hi <= lo { continue }
                    for y in 0..<oh {
                        let iy = y * sh - ph + i * dh
                        if iy < 0 || iy >= h { continue }
                        let dst = plane + iy * w + colOffset
                        let src = row + y * ow
                        if sw == 1 {
                            for xx in lo..<hi { dst[xx] += src[xx] }
                        } else {
                            for xx in lo..<hi { dst[xx * sw] += src[xx] }
                        }
                    }
                }
            }
        }
    }

    /// Output columns x in [lo, hi) whose input column x·stride + offset lies in 0..<limit.
    @inline(__always)
    static func validRange(_ count: Int, offset: Int, stride: Int, limit: Int) -> (Int, Int) {
        // lo = ceil(-offset / stride) clamped at 0; hi = ceil((limit - offset) / stride) clamped at count.
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hiRaw = limit - offset <= 0 ? 0 : (limit - offset + stride - 1) / stride
        return (Swift.min(lo, count), Swift.min(hiRaw, count))
    }
}
