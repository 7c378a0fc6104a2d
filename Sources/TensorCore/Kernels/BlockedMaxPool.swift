/// Max pooling of a blocked map (fp32 or bf16, `TensorLayout`), sixteen channels of a pixel at
/// a time, output stored like the input. A ResNet's stem pooling sits between two training
/// convolutions: here it needs no conversion to NCHW and back. Same rule as the plain kernel:
/// the first maximum of each window wins, NaN propagates, padding never does.
enum BlockedMaxPool {
    static func forward(_ x: Tensor, _ g: ConvGeometry, windows: [PoolWindow], op: StaticString) -> Tensor {
        let layout = x.storageLayout
        let blocks = g.n * g.c / 16, hw = g.h * g.w, p = windows.count
        let tracked = GradMode.isEnabled && x.requiresGrad
        // Per output value: the input pixel (row·W + column) its maximum came from. Without the
        // tape nobody reads it: not stored.
        var argmax = [Int32](repeating: -1, count: tracked ? blocks * p * 16 : 0)
        let xData = x.storage
        let y = [Float].overwritten(count: layout.storageCount(blocks * p * 16)) { py in
            xData.withUnsafeBufferPointer { px in
                argmax.withUnsafeMutableBufferPointer { pa in
                    let (source, output) = (UnsafeRawPointer(px.baseAddress!), UnsafeMutableRawPointer(py.baseAddress!))
                    let argmax = tracked ? pa.baseAddress : nil
                    if layout == .blocked16BF16 {
                        pool(source, output, argmax, g, windows, blocks: blocks, BF16Lanes.self)
                    } else {
                        pool(source, output, argmax, g, windows, blocks: blocks, FP32Lanes.self)
                    }
                }
            }
        }
        let n = x.count
        return Tensor(shape: [g.n, g.c, g.oh, g.ow], data: y, layout: layout, op: op, inputs: [x]) { gy in
            // gy and gx are fp32 blocked16; blocks are disjoint, so they split across threads.
            let gx = [Float](unsafeUninitializedCapacity: n) { buffer, count in
                buffer.initialize(repeating: 0)
                gy.withUnsafeBufferPointer { pg in
                    argmax.withUnsafeBufferPointer { pa in
                        Parallel.chunks(blocks, costPerItem: p * 16) { range in
                            for block in range {
                                for i in block * p * 16..<(block + 1) * p * 16 where pa[i] >= 0 {
                                    buffer[block * hw * 16 + Int(pa[i]) * 16 + i % 16] += pg[i]
                                }
                            }
                        }
                    }
                }
                count = n
            }
            x.accumulateGrad(gx, layout: .blocked16)
        }
    }

    /// The pooling loop: every (block, half) in parallel, one window at a time; the argmax into
    /// `pa` when given.
    private static func pool<L: BlockedLanes>(_ px: UnsafeRawPointer, _ py: UnsafeMutableRawPointer, _ pa: UnsafeMutablePointer<Int32>?,
                                              _ g: ConvGeometry, _ windows: [PoolWindow], blocks: Int, _: L.Type) {
        let hw = g.h * g.w, p = windows.count
        Parallel.chunks(blocks * 2, costPerItem: hw * 8) { range in
            for item in range {
                let (block, half) = (item / 2, item % 2)
                let source = block * hw * 16 + half * 8
                for (o, win) in windows.enumerated() {
                    var best = SIMD8<Float>(repeating: -.infinity), at = SIMD8<Int32>(repeating: -1)
                    for r in Swift.stride(from: win.rows.lowerBound, to: win.rows.upperBound, by: win.dilation.h) {
                        for c in Swift.stride(from: win.cols.lowerBound, to: win.cols.upperBound, by: win.dilation.w) {
                            let pixel = r * g.w + c
                            let v = L.load8(px, source + pixel * 16)
                            // Blended with bit masks (all ones where taken; `at >> 31` is the
                            // mask of at < 0): SIMD `replace(with:where:)` and integer `.<`
                            // compile to lane-by-lane loops.
                            let take = bits(v .> best) | bits(v .!= v) | (at &>> 31)
                            best = unsafeBitCast((bits(best) & ~take) | (bits(v) & take), to: SIMD8<Float>.self)
                            at = (at & ~take) | (SIMD8(repeating: Int32(pixel)) & take)
                        }
                    }
                    let out = (block * p + o) * 16 + half * 8
                    L.store8(best, py, out)
                    if let pa { UnsafeMutableRawPointer(pa + out).storeBytes(of: at, as: SIMD8<Int32>.self) }
                }
            }
        }
    }

    @inline(__always) private static func bits(_ mask: SIMDMask<SIMD8<Int32>>) -> SIMD8<Int32> { unsafeBitCast(mask, to: SIMD8<Int32>.self) }
    @inline(__always) private static func bits(_ v: SIMD8<Float>) -> SIMD8<Int32> { unsafeBitCast(v, to: SIMD8<Int32>.self) }
}
