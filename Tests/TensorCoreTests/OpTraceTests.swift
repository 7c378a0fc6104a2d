import Testing
@testable import TensorCore

@Suite struct OpTraceTests {
    @Test func recordsTypedOpsWithAttributesAndPositionalInputs() {
        var rng = RNG(seed: 1)
        let x = Tensor.uniform([2, 3, 8, 8], rng: &rng)
        let w = Tensor.uniform([4, 3, 3, 3], rng: &rng)
        let mean = Tensor.zeros([4]), variance = Tensor.ones([4])
        let (y, trace) = OpTrace.recording {
            let c = conv2d(x, w, stride: 2, padding: 1)
            let b = batchNorm(c, weight: nil, bias: nil, runningMean: mean, runningVar: variance, training: false, eps: 1e-3)
            return b.leakyRelu(0.1).hardSigmoid(slope: 0.2, offset: 0.5).flattened()
        }
        #expect(trace.nodes.map(\.op) == [
            .conv2d(stride: 2, padding: 1, dilation: 1, groups: 1),
            .batchNorm(eps: 1e-3, training: false),
            .leakyRelu(slope: 0.1),
            .hardSigmoid(slope: 0.2, offset: 0.5),
            .flatten(startAxis: 1),  // flattened() is one record, not a reshape
        ])
        let conv = trace.nodes[0], bn = trace.nodes[1]
        #expect(conv.inputs.count == 3 && conv.inputs[0] === x && conv.inputs[1] === w && conv.inputs[2] == nil)
        // BN lists its running statistics although the tape does not need them.
        #expect(bn.inputs.count == 5 && bn.inputs[0] === conv.output && bn.inputs[1] == nil && bn.inputs[3] === mean
                && bn.inputs[4] === variance)
        #expect(trace.producer(of: y)?.op == .flatten(startAxis: 1))
        #expect(trace.producer(of: x) == nil)
    }

    @Test func opsWithoutATypedRecordAppearUnderTheirTapeName() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let (y, trace) = OpTrace.recording { x.permuted([1, 0]) }
        #expect(trace.nodes.count == 1)
        #expect(trace.producer(of: y)?.op == .other("permute"))
        #expect(trace.producer(of: y)?.inputs.first! === x)
    }

    @Test func scalarOpsKeepTheirConstantAndNothingIsRecordedOutsideTheClosure() {
        let x = Tensor([1, 2], shape: [2])
        let (_, trace) = OpTrace.recording { (x * 0.8 + 1) - 2 }
        #expect(trace.nodes.map(\.op) == [.mulScalar(0.8), .addScalar(1), .addScalar(-2)])
        _ = x.relu()
        #expect(trace.nodes.count == 3)
    }

    @Test func batchedMatmulWithSharedRightOperandIsOneRecordOverTheOriginalInputs() {
        var rng = RNG(seed: 2)
        let a = Tensor.uniform([2, 3, 4], rng: &rng), b = Tensor.uniform([5, 4], rng: &rng)
        let (y, trace) = OpTrace.recording { matmul(a, b, transposeB: true) }
        let node = trace.producer(of: y)
        #expect(node?.op == .matmul(transposeA: false, transposeB: true))
        #expect(node?.inputs.count == 2 && node?.inputs[0] === a && node?.inputs[1] === b)
    }
}
