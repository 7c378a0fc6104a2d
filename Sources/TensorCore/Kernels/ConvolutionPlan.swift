/// The kernels one `conv2d` call runs, chosen from `ConvolutionOptions.current` when its forward
/// pass starts and kept for its backward pass.
enum ConvolutionPlan {
    case oneDNN(OneDNNConvolution)
    case im2col

    /// The plan for `g` under the options in force; im2col when oneDNN has no implementation.
    static func choose(_ g: ConvGeometry, hasBias: Bool, training: Bool) -> ConvolutionPlan {
        let options = ConvolutionOptions.current
        guard options.backend == .onednn, OneDNN.engine != nil else {
            KernelReport.recordIm2col(g)
            return .im2col
        }
        let key = OneDNNConvolution.Key(geometry: g, algorithm: options.algorithm, precision: options.precision,
                                        hasBias: hasBias, training: training)
        if let conv = OneDNNConvolutionCache.convolution(key) { return .oneDNN(conv) }
        KernelReport.recordIm2col(g)
        return .im2col
    }

    func forward(_ g: ConvGeometry, x: [Float], weight: [Float], bias: [Float]?, epilogue: ConvEpilogue? = nil) -> [Float] {
        guard case .oneDNN(let conv) = self else {
            return ConvKernel.forward(g, x: x, weight: weight, bias: bias, epilogue: epilogue)
        }
        var y = [Float].overwritten(count: g.n * g.k * g.p) { py in
            x.withUnsafeBufferPointer { px in
                weight.withUnsafeBufferPointer { pw in
                    withOptionalPointer(bias) { pb in
                        conv.forward(x: px.baseAddress!, weight: pw.baseAddress!, bias: pb, y: py.baseAddress!)
                    }
                }
            }
        }
        if let epilogue {
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
        let gx: [Float]? = !wantX ? nil : [Float].overwritten(count: x.count) { pgx in
            gy.withUnsafeBufferPointer { pgy in
                weight.withUnsafeBufferPointer { pw in
                    conv.backwardData(gy: pgy.baseAddress!, weight: pw.baseAddress!, gx: pgx.baseAddress!)
                }
            }
        }
        let gw: [Float]? = !wantW ? nil : [Float].overwritten(count: weight.count) { pgw in
            x.withUnsafeBufferPointer { px in
                gy.withUnsafeBufferPointer { pgy in
                    conv.backwardWeights(x: px.baseAddress!, gy: pgy.baseAddress!, gw: pgw.baseAddress!)
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
