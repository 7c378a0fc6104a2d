/// Direct depthwise convolution (one input channel per group, `mult` = K / C outputs each).
/// Loops run tap by tap over output rows so the innermost loop is a contiguous AXPY when the
/// stride is 1. Work is split over input channels, which own their outputs and weights.
enum Depthwise {
    static func forward(_ g: ConvGeometry, x: [Float], weight: [Float], y: inout [Float]) {
        let mult = g.k / g.c
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                y.withUnsafeMutableBufferPointer { py in
                    Parallel.chunks(g.c, costPerItem: g.n * mult * g.p * g.kernel.h * g.kernel.w) { channels in
                        for c in channels {
                            for img in 0..<g.n {
                                let plane = px.baseAddress! + (img * g.c + c) * g.h * g.w
                                for m in 0..<mult {
                                    let k = c * mult + m
                                    sweep(g, plane: UnsafeMutablePointer(mutating: plane), out: py.baseAddress! + (img * g.k + k) * g.p,
                                          taps: pw.baseAddress! + k * g.kernel.h * g.kernel.w, mode: .forward)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func backward(_ g: ConvGeometry, x: [Float], weight: [Float], gy: [Float],
                         wantX: Bool, wantW: Bool) -> ([Float]?, [Float]?) {
        let mult = g.k / g.c, taps = g.kernel.h * g.kernel.w
        var gx = [Float](repeating: 0, count: wantX ? x.count : 0)
        var gw = [Float](repeating: 0, count: wantW ? weight.count : 0)
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                gy.withUnsafeBufferPointer { pgy in
                    gx.withUnsafeMutableBufferPointer { pgx in
                        gw.withUnsafeMutableBufferPointer { pgw in
                            Parallel.chunks(g.c, costPerItem: 2 * g.n * mult * g.p * taps) { channels in
                                for c in channels {
                                    for img in 0..<g.n {
                                        let offset = (img * g.c + c) * g.h * g.w
                                        for m in 0..<mult {
                                            let k = c * mult + m
                                            let dy = UnsafeMutablePointer(mutating: pgy.baseAddress! + (img * g.k + k) * g.p)
                                            if wantX {
                                                sweep(g, plane: pgx.baseAddress! + offset, out: dy,
                                                      taps: pw.baseAddress! + k * taps, mode: .inputGradient)
                                            }
                                            if wantW {
                                                sweep(g, plane: UnsafeMutablePointer(mutating: px.baseAddress! + offset), out: dy,
                                                      taps: UnsafeMutablePointer(mutating: pgw.baseAddress! + k * taps), mode: .weightGradient)
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
        return (wantX ? gx : nil, wantW ? gw : nil)
    }

    enum Mode { case forward, inputGradient, weightGradient }

    /// One (input plane, output plane, kernel) triple:
    /// forward: out += Σ tap·plane; inputGradient: plane += tap·out; weightGradient: tap += Σ plane·out.
    @inline(__always)
    static func sweep(_ g: ConvGeometry, plane: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                      taps: UnsafePointer<Float>, mode: Mode) {
        let (kh, kw, sh, sw) = (g.kernel.h, g.kernel.w, g.stride.h, g.stride.w)
        let (ph, pw, dh, dw) = (g.padding.h, g.padding.w, g.dilation.h, g.dilation.w)
        for i in 0..<kh {
            for j in 0..<kw {
                let colOffset = j * dw - pw
                let (lo, hi) = Im2Col.validRange(g.ow, offset: colOffset, stride: sw, limit: g.w)
                if hi <= lo { continue }
                let t = i * kw + j
                let tap = taps[t]
                var acc: Float = 0
                for oy in 0..<g.oh {
                    let iy = oy * sh - ph + i * dh
                    if iy < 0 || iy >= g.h { continue }
                    let src = plane + iy * g.w + colOffset
                    let row = out + oy * g.ow
                    switch mode {
                    case .forward:
                        if sw == 1 { for xx in lo..<hi { row[xx] += tap * src[xx] } }
                        else { for xx in lo..<hi { row[xx] += tap * src[xx * sw] } }
                    case .inputGradient:
                        if sw == 1 { for xx in lo..<hi { src[xx] += tap * row[xx] } }
                        else { for xx in lo..<hi { src[xx * sw] += tap * row[xx] } }
                    case .weightGradient:
                        if sw == 1 { for xx in lo..<hi { acc += src[xx] * row[xx] } }
                        else { for xx in lo..<hi { acc += src[xx * sw] * row[xx] } }
                    }
                }
                if mode == .weightGradient { UnsafeMutablePointer(mutating: taps)[t] += acc }
            }
        }
    }
}
