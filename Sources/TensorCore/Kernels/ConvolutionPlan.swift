/// The kernels one `conv2d` call runs, chosen from `ConvolutionOptions.current` when its forward
/// pass starts and kept for its backward pass.
enum ConvolutionPlan {
    case oneDNN(OneDNNConvolution)
    case im2col

    /// The plan for `g` under the options in force; im2col when oneDNN has no implementation.
    static func choose(_ g: ConvGeometry, hasBias: Bool, training: Bool, epilogue: ConvEpilogue? = nil) -> ConvolutionPlan {
        let options = ConvolutionOptions.current
        guard options.backend == .onednn, OneDNN.engine != nil else {
            KernelReport.recordIm2col(g)
            return .im2col
        }
        let key = OneDNNConvolution.Key(geometry: g, algorithm: options.algorithm, precision: options.precision,
                                        hasBias: hasBias, training: training,
                                        epilogueSlope: epilogue.map { $0.active ? $0.slope : 1 })
        if let conv = OneDNNConvolutionCache.convolution(key) { return .oneDNN(conv) }
        KernelReport.recordIm2col(g)
        return .im2col
    }

    func forward(_ g: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?, epilogue: ConvEpilogue? = nil) -> [Float] {
        guard case .oneDNN(let conv) = self else {
            return ConvKernel.forward(g, x: x, weight: weight, bias: bias, epilogue: epilogue)
        }
        let fused = epilogue != nil && conv.fusesEpilogue
        var y = [Float].overwritten(count: g.n * g.k * g.p) { py in
            x.withUnsafeBufferPointer { px in
                withOptionalPointer(bias) { pb in
                    withOptionalPointer(fused ? epilogue?.scale : nil) { scale in
                        withOptionalPointer(fused ? epilogue?.shift : nil) { shift in
                            conv.forward(x: px.baseAddress!, weight: weight, bias: pb,
                                         epilogue: scale.map { ($0, shift!) }, y: py.baseAddress!)
                        }
                    }
                }
            }
        }
        if let epilogue, !fused {
            y.withUnsafeMutableBufferPointer { py in
                Parallel.chunks(g.n * g.k, costPerItem: g.p) { rows in
                    for row in rows {
                        ConvKernel.finish(g, py.baseAddress!, img: row / g.k, channels: (row % g.k)..<(row % g.k + 1),
                                          pixels: 0..<g.p, nil, epilogue)
                    }
                }
            }
        }
        return y
    }

    func backward(_ g: ConvGeometry, x: [Float], weight: [Float], gy: [Float],
                  wantX: Bool, wantW: Bool, wantB: Bool) -> (gx: [Float]?, gw: [Float]?, gb: [Float]?) {
        guard case .oneDNN(let conv) = self else {
            return ConvKernel.backward(g, x: x, weight: weight, gy: gy, wantX: wantX, wantW: wantW, wantB: wantB)
        }
        let gb = wantB ? ConvKernel.biasGradient(g, gy: gy) : nil
        if !wantX && !wantW { return (nil, nil, gb) }
        var gx: [Float]? = wantX ? .uninitialized(count: x.count) : nil
        var gw: [Float]? = wantW ? .uninitialized(count: weight.count) : nil
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                gy.withUnsafeBufferPointer { pgy in
                    withOptionalBuffer(&gx) { pgx in
                        withOptionalBuffer(&gw) { pgw in
                            conv.backward(x: px.baseAddress!, weight: pw.baseAddress!, gy: pgy.baseAddress!,
                                          gx: pgx, gw: pgw)
                        }
                    }
                }
            }
        }
        return (gx, gw, gb)
    }
}

@inline(__always)
private func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
