// Pooling over NCHW inputs, as torch.nn.functional's max_pool2d, avg_pool2d and adaptive pools.

/// Max pooling; padding counts as −∞. The gradient goes to the first maximum of each window.
public func maxPool2d(_ x: Tensor, kernel: Size2, stride: Size2? = nil, padding: Size2 = 0,
                      dilation: Size2 = 1, ceilMode: Bool = false) -> Tensor {
    let g = poolGeometry(x, kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation, ceilMode: ceilMode)
    let windows = PoolWindows.fixed(g)
    return PoolKernel.max(x, g, windows: windows, op: "max_pool2d")
        .traced(.maxPool2d(kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation,
                           ceilMode: ceilMode), [x])
}

/// Average pooling. `countIncludePad` divides by the full window (padding included, clipped at
/// the padded border as PyTorch does); otherwise by the number of real input pixels.
public func avgPool2d(_ x: Tensor, kernel: Size2, stride: Size2? = nil, padding: Size2 = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
    let g = poolGeometry(x, kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: 1, ceilMode: ceilMode)
    let windows = PoolWindows.fixed(g)
    let divisors = windows.map { w -> Float in
        if !countIncludePad { return Float(w.rows.count * w.cols.count) }
        let rows = Swift.min(w.rowStart + g.kernel.h, g.h + g.padding.h) - w.rowStart
        let cols = Swift.min(w.colStart + g.kernel.w, g.w + g.padding.w) - w.colStart
        return Float(rows * cols)
    }
    return PoolKernel.average(x, g, windows: windows, divisors: divisors, op: "avg_pool2d")
        .traced(.avgPool2d(kernel: kernel, stride: stride ?? kernel, padding: padding, ceilMode: ceilMode,
                           countIncludePad: countIncludePad), [x])
}

/// Adaptive average pooling to `outputSize` (PyTorch's start = ⌊i·H/OH⌋, end = ⌈(i+1)·H/OH⌉).
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: Size2) -> Tensor {
    let (g, windows) = adaptive(x, outputSize)
    return PoolKernel.average(x, g, windows: windows, divisors: windows.map { Float($0.rows.count * $0.cols.count) },
                              op: "adaptive_avg_pool2d").traced(.adaptiveAvgPool2d(outputSize: outputSize), [x])
}

/// Adaptive max pooling to `outputSize`.
public func adaptiveMaxPool2d(_ x: Tensor, outputSize: Size2) -> Tensor {
    let (g, windows) = adaptive(x, outputSize)
    return PoolKernel.max(x, g, windows: windows, op: "adaptive_max_pool2d")
        .traced(.adaptiveMaxPool2d(outputSize: outputSize), [x])
}

/// Global average pooling to [N, C, 1, 1].
public func globalAvgPool2d(_ x: Tensor) -> Tensor { adaptiveAvgPool2d(x, outputSize: 1) }

/// Global max pooling to [N, C, 1, 1].
public func globalMaxPool2d(_ x: Tensor) -> Tensor { adaptiveMaxPool2d(x, outputSize: 1) }

private func poolGeometry(_ x: Tensor, kernel: Size2, stride: Size2, padding: Size2, dilation: Size2,
                          ceilMode: Bool) -> ConvGeometry {
    precondition(x.rank == 4, "pooling expects an NCHW input, got \(x.shape)")
    precondition(padding.h * 2 <= kernel.h && padding.w * 2 <= kernel.w,
                 "pooling padding \(padding) must be at most half the kernel \(kernel)")
    return ConvGeometry(input: x.shape, outChannels: x.shape[1], kernel: kernel, stride: stride,
                        padding: padding, dilation: dilation, groups: x.shape[1], ceilMode: ceilMode)
}

private func adaptive(_ x: Tensor, _ size: Size2) -> (ConvGeometry, [PoolWindow]) {
    precondition(x.rank == 4, "pooling expects an NCHW input, got \(x.shape)")
    precondition(size.h > 0 && size.w > 0, "adaptive pooling needs a positive output size")
    let (h, w) = (x.shape[2], x.shape[3])
    let g = ConvGeometry(input: x.shape, outChannels: x.shape[1], kernel: Size2(1), stride: Size2(1), padding: Size2(0),
                         dilation: Size2(1), groups: x.shape[1])
    var windows: [PoolWindow] = []
    for i in 0..<size.h {
        let r0 = i * h / size.h, r1 = ((i + 1) * h + size.h - 1) / size.h
        for j in 0..<size.w {
            let c0 = j * w / size.w, c1 = ((j + 1) * w + size.w - 1) / size.w
            windows.append(PoolWindow(rows: r0..<r1, cols: c0..<c1, rowStart: r0, colStart: c0, dilation: Size2(1)))
        }
    }
    return (g.withOutput(oh: size.h, ow: size.w), windows)
}
