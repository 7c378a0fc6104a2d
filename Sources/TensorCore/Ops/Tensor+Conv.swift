// 2-D convolution (NCHW input, OIHW weight [K, C/groups, kh, kw]), as torch.nn.functional.conv2d.

public func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1, padding: Size2 = 0,
                   dilation: Size2 = 1, groups: Int = 1) -> Tensor {
    precondition(x.rank == 4, "conv2d expects an NCHW input, got \(x.shape)")
    precondition(weight.rank == 4, "conv2d expects an OIHW weight, got \(weight.shape)")
    let k = weight.shape[0]
    precondition(groups >= 1 && x.shape[1] % groups == 0 && k % groups == 0,
                 "conv2d: \(x.shape[1]) input and \(k) output channels do not split into \(groups) groups")
    precondition(weight.shape[1] == x.shape[1] / groups,
                 "conv2d: weight \(weight.shape) expects \(weight.shape[1] * groups) input channels, input has \(x.shape[1])")
    if let bias { precondition(bias.shape == [k], "conv2d: bias must be [\(k)], got \(bias.shape)") }
    let g = ConvGeometry(input: x.shape, outChannels: k, kernel: Size2(weight.shape[2], weight.shape[3]),
                         stride: stride, padding: padding, dilation: dilation, groups: groups)
    OpCounter.record(g.macs)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let plan = ConvolutionPlan.choose(g, hasBias: bias != nil,
                                      training: GradMode.isEnabled && inputs.contains { $0.requiresGrad })
    // oneDNN reads the input as it is stored (blocked between training convolutions). A plain
    // input is converted in place to the kernels' fp32 blocked layout, once for every convolution
    // and backward pass that reads it; never to bf16, which would round the caller's values.
    let xLayout = !plan.readsBlocked ? .plain
        : x.storageLayout == .plain && plan.inputLayout == .blocked16 ? .blocked16 : x.storageLayout
    let xData = x.values(in: xLayout), wData = weight.data
    let y = plan.forward(g, x: xData, xLayout: xLayout, weight: wData, bias: bias?.data)
    let gxLayout = plan.readsBlocked ? x.gradientLayout : .plain
    return Tensor(shape: [g.n, g.k, g.oh, g.ow], data: y, layout: plan.outputLayout, op: "conv2d", inputs: inputs) { gy in
        let (gx, gw, gb) = plan.backward(g, x: xData, xLayout: xLayout, weight: wData, gy: gy, gxLayout: gxLayout,
                                         wantX: x.requiresGrad, wantW: weight.requiresGrad, wantB: bias?.requiresGrad ?? false)
        if let gx { x.accumulateGrad(gx, layout: gxLayout) }
        if let gw { weight.accumulateGrad(gw) }
        if let gb { bias?.accumulateGrad(gb) }
    }.traced(.conv2d(stride: stride, padding: padding, dilation: dilation, groups: groups), [x, weight, bias])
}

/// `activation(batchNorm(conv2d(x, weight, …)))` with eval-mode batch norm folded into the
/// convolution: each output tile is scaled, shifted and activated right after its GEMM, while it
/// is in cache, and no intermediate map is allocated. Inference only: when grad mode is on and an
/// input requires grad, or under `OpTrace`, it runs the unfused ops instead.
public func conv2dBatchNorm(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1, padding: Size2 = 0,
                            dilation: Size2 = 1, groups: Int = 1, bnWeight: Tensor?, bnBias: Tensor?,
                            runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5,
                            activation: FusedActivation = .identity) -> Tensor {
    let taped = GradMode.isEnabled && [x, weight, bias, bnWeight, bnBias].contains { $0?.requiresGrad ?? false }
    if taped || OpTrace.current != nil {
        let y = conv2d(x, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        return batchNorm(y, weight: bnWeight, bias: bnBias, runningMean: runningMean, runningVar: runningVar,
                         training: false, eps: eps, activation: activation)
    }
    precondition(x.rank == 4 && weight.rank == 4, "conv2dBatchNorm expects NCHW input and OIHW weight, got \(x.shape), \(weight.shape)")
    let k = weight.shape[0]
    precondition(groups >= 1 && x.shape[1] % groups == 0 && k % groups == 0 && weight.shape[1] == x.shape[1] / groups,
                 "conv2dBatchNorm: weight \(weight.shape) does not fit input \(x.shape) in \(groups) groups")
    for t in [bias, bnWeight, bnBias, runningMean, runningVar].compactMap({ $0 }) {
        precondition(t.shape == [k], "conv2dBatchNorm: per-channel tensors must be [\(k)], got \(t.shape)")
    }
    let g = ConvGeometry(input: x.shape, outChannels: k, kernel: Size2(weight.shape[2], weight.shape[3]),
                         stride: stride, padding: padding, dilation: dilation, groups: groups)
    OpCounter.record(g.macs)
    let (scale, shift) = ConvEpilogue.batchNorm(weight: bnWeight, bias: bnBias, runningMean: runningMean,
                                                runningVar: runningVar, eps: eps)
    let epilogue = ConvEpilogue(scale: scale, shift: shift, active: activation != .identity, slope: activation.negativeSlope)
    let plan = ConvolutionPlan.choose(g, hasBias: bias != nil, training: false, epilogue: epilogue)
    let y = plan.forward(g, x: x.data, weight: weight.data, bias: bias?.data, epilogue: epilogue)
    return Tensor(shape: [g.n, g.k, g.oh, g.ow], data: y)
}
