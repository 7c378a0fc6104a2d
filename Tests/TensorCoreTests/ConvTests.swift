import Testing
@testable import TensorCore

@Suite struct ConvTests {
    @Test func matchesPyTorchFixtures() throws {
        let cases = try KernelFixture.cases(in: "conv2d")
        #expect(cases.count >= 10)
        for c in cases {
            let x = try c.tensor("x"), w = try c.tensor("w"), b = c.optional("b")
            var inputs = ["x": x, "w": w]
            var grads = [("x", "gx"), ("w", "gw")]
            if let b { inputs["b"] = b; grads.append(("b", "gb")) }
            try c.expectMatches(inputs: inputs, gradients: grads) {
                conv2d(x, w, bias: b, stride: c.pair("stride"), padding: c.pair("padding"),
                       dilation: c.pair("dilation"), groups: c.int("groups"))
            }
        }
    }

    struct Case: Sendable, CustomStringConvertible {
        var n = 2, c = 3, k = 4, h = 5, w = 6
        var kernel: Size2 = 3, stride: Size2 = 1, padding: Size2 = 0, dilation: Size2 = 1, groups = 1
        var bias = true
        var description: String { "n\(n) c\(c) k\(k) \(h)x\(w) k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups)" }
    }

    static let grid: [Case] = [
        Case(), Case(padding: 1), Case(stride: 2, padding: 1), Case(kernel: 1), Case(kernel: 1, stride: 2),
        Case(kernel: [1, 3], padding: [0, 1]), Case(kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2]),
        Case(h: 7, w: 7, kernel: 3, padding: 2, dilation: 2), Case(c: 4, k: 6, padding: 1, groups: 2),
        Case(c: 4, k: 4, stride: 2, padding: 1, groups: 4), Case(c: 3, k: 6, padding: 1, groups: 3, bias: false),
        Case(n: 1, c: 2, k: 2, h: 4, w: 4, kernel: 5, padding: 2), Case(n: 3, h: 8, w: 5, kernel: 3, stride: 3),
    ]

    @Test(arguments: grid)
    func gradientsMatchFiniteDifferences(c: Case) {
        let x = GradCheck.random([c.n, c.c, c.h, c.w], seed: 1)
        let w = GradCheck.random([c.k, c.c / c.groups, c.kernel.h, c.kernel.w], seed: 2)
        var inputs = [x, w]
        if c.bias { inputs.append(GradCheck.random([c.k], seed: 3)) }
        GradCheck.check(inputs) { t in
            conv2d(t[0], t[1], bias: c.bias ? t[2] : nil, stride: c.stride, padding: c.padding,
                   dilation: c.dilation, groups: c.groups)
        }
    }

    @Test func identityKernelCopiesInput() {
        let x = GradCheck.random([1, 1, 4, 4], seed: 4)
        let w = Tensor(shape: [1, 1, 3, 3], data: [0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(conv2d(x, w, padding: 1).data == x.data)
    }
}
