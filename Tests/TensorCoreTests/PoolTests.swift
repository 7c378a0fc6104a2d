import Testing
@testable import TensorCore

@Suite struct PoolTests {
    @Test func matchesPyTorchFixtures() throws {
        let cases = try KernelFixture.cases(in: "pool")
        #expect(cases.count >= 10)
        for c in cases {
            let x = try c.tensor("x")
            try c.expectMatches(inputs: ["x": x], gradients: [("x", "gx")]) {
                switch c.string("op") {
                case "max":
                    return maxPool2d(x, kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.pair("padding"),
                                     dilation: c.pair("dilation"), ceilMode: c.bool("ceil_mode"))
                case "avg":
                    return avgPool2d(x, kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.pair("padding"),
                                     ceilMode: c.bool("ceil_mode"), countIncludePad: c.bool("count_include_pad"))
                case "adaptive_avg":
                    return adaptiveAvgPool2d(x, outputSize: c.pair("output_size"))
                default:
                    return adaptiveMaxPool2d(x, outputSize: c.pair("output_size"))
                }
            }
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        let x = GradCheck.distinct([2, 2, 6, 5], seed: 1)
        GradCheck.check([x]) { maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
        GradCheck.check([x]) { maxPool2d($0[0], kernel: 2, stride: 2, ceilMode: true) }
        GradCheck.check([x]) { avgPool2d($0[0], kernel: 3, stride: 1, padding: 1, countIncludePad: false) }
        GradCheck.check([x]) { avgPool2d($0[0], kernel: 2, stride: 2, ceilMode: true, countIncludePad: false) }
        GradCheck.check([x]) { adaptiveAvgPool2d($0[0], outputSize: [4, 3]) }
        GradCheck.check([x]) { adaptiveMaxPool2d($0[0], outputSize: [2, 2]) }
        GradCheck.check([x]) { globalAvgPool2d($0[0]) }
        GradCheck.check([x]) { globalMaxPool2d($0[0]) }
    }

    @Test func globalPoolingValues() {
        let x = Tensor([1, 5, 3, 2, 4, 9, 0, 1], shape: [1, 2, 2, 2])
        #expect(globalAvgPool2d(x).data == [2.75, 3.5])
        #expect(globalMaxPool2d(x).data == [5, 9])
        #expect(globalMaxPool2d(x).shape == [1, 2, 1, 1])
    }

    @Test func maxPoolWithoutTheTapeGivesTheSameOutput() {
        let x = GradCheck.distinct([2, 3, 9, 8], seed: 17)
        x.data[5] = .nan
        x.requiresGrad = true
        let taped = maxPool2d(x, kernel: 3, stride: 2, padding: 1)
        let untaped = withNoGrad { maxPool2d(x, kernel: 3, stride: 2, padding: 1) }
        #expect(taped.opName == "max_pool2d" && untaped.opName == "leaf")
        #expect(zip(taped.data, untaped.data).allSatisfy { $0 == $1 || $0.isNaN && $1.isNaN })
        #expect(untaped.data.contains { $0.isNaN } && !untaped.data.allSatisfy { $0.isNaN })
    }
}
