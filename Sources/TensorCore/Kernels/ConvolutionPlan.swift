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

    /// Whether `forward` and `backward` take the input in any `TensorLayout` (else plain).
    var readsBlocked: Bool {
        if case .oneDNN = self { return true }
        return false
    }

    /// The blocked layout the kernels read their input in (training on oneDNN), if any.
    var inputLayout: TensorLayout? {
        if case .oneDNN(let conv) = self { return conv.inputLayout }
        return nil
    }

    /// The layout of the forward output and of the output gradient backward takes.
    var outputLayout: TensorLayout {
        if case .oneDNN(let conv) = self { return conv.outputLayout }
        return .plain
    }

    func forward(_ g: ConvGeometry, x: [Float], xLayout: TensorLayout = .plain, weight: [Float], bias: [Float]?,
                 epilogue: ConvEpilogue? = nil) -> [Float] {
        guard case .oneDNN(let conv) = self else {
            return ConvKernel.forward(g, x: x, weight: weight, bias: bias, epilogue: epilogue)
        }
        let fused = epilogue != nil && conv.fusesEpilogue
        precondition(fused || epilogue == nil || conv.outputLayout == .plain, "a Swift epilogue needs a plain output")
        var y = [Float].overwritten(count: conv.outputLayout.storageCount(g.n * g.k * g.p)) { py in
            x.withUnsafeBufferPointer { px in
                withOptionalPointer(bias) { pb in
                    withOptionalPointer(fused ? epilogue?.scale : nil) { scale in
                        withOptionalPointer(fused ? epilogue?.shift : nil) { shift in
                            conv.forward(x: px.baseAddress!, xLayout: xLayout, weight: weight, bias: pb,
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

    /// The gradients for output gradient `gy` (in `outputLayout.gradientLayout`); gx comes laid out
    /// as `gxLayout`.
    func backward(_ g: ConvGeometry, x: [Float], xLayout: TensorLayout = .plain, weight: [Float], gy: [Float],
                  gxLayout: TensorLayout = .plain,
                  wantX: Bool, wantW: Bool, wantB: Bool) -> (gx: [Float]?, gw: [Float]?, gb: [Float]?) {
        guard case .oneDNN(let conv) = self else {
            return ConvKernel.backward(g, x: x, weight: weight, gy: gy, wantX: wantX, wantW: wantW, wantB: wantB)
        }
        let gb = wantB ? ConvKernel.biasGradient(g, gy: TensorLayout.convert(gy, shape: [g.n, g.k, g.oh, g.ow],
                                                                              from: conv.outputLayout.gradientLayout, to: .plain)) : nil
        if !wantX && !wantW { return (nil, nil, gb) }
        var gx: [Float]? = wantX ? .uninitialized(count: g.n * g.c * g.h * g.w) : nil
        var gw: [Float]? = wantW ? .uninitialized(count: weight.count) : nil
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                gy.withUnsafeBufferPointer { pgy in
                    withOptionalBuffer(&gx) { pgx in
                        withOptionalBuffer(&gw) { pgw in
                            conv.backward(x: px.baseAddress!, xLayout: xLayout, weight: pw.baseAddress!,
                                          gy: pgy.baseAddress!, gx: pgx, gxLayout: gxLayout, gw: pgw)
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
