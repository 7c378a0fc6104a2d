import Testing
@testable import TensorCore

@Suite struct PadTests {
    @Test func zeroPaddedPlacesEachImageInsideZeros() {
        let x = Tensor.arange(2 * 3 * 2 * 3).reshaped([2, 3, 2, 3])
        let p = Padding2D(top: 0, bottom: 1, left: 2, right: 1)
        let y = x.zeroPadded(p)
        #expect(y.shape == [2, 3, 3, 6])
        for plane in 0..<6 {
            for row in 0..<3 {
                for col in 0..<6 {
                    let inside = row < 2 && col >= 2 && col < 5
                    let expected: Float = inside ? x.data[(plane * 2 + row) * 3 + col - 2] : 0
                    #expect(y.data[(plane * 3 + row) * 6 + col] == expected)
                }
            }
        }
        GradCheck.check([GradCheck.random([2, 2, 3, 2], seed: 1)]) { $0[0].zeroPadded(p) }
    }

    /// TensorFlow's SAME: output ceil(input / stride), the odd pixel of the padding after.
    @Test(arguments: [(224, 3, 2, 0, 1), (224, 5, 2, 1, 2), (225, 3, 2, 1, 1), (7, 5, 1, 2, 2), (56, 1, 1, 0, 0), (9, 3, 3, 0, 0)])
    func samePaddingMatchesTensorFlow(size: Int, kernel: Int, stride: Int, before: Int, after: Int) {
        let p = Padding2D.same(height: size, width: size, kernel: kernel, stride: stride)
        #expect(p == Padding2D(top: before, bottom: after, left: before, right: after))
        let outSize = (size + before + after - kernel) / stride + 1
        #expect(outSize == (size + stride - 1) / stride)
    }

    @Test func zeroPaddingIsTheIdentity() {
        let x = GradCheck.random([1, 2, 3, 3], seed: 2)
        #expect(x.zeroPadded(Padding2D(top: 0, bottom: 0, left: 0, right: 0)) === x)
    }
}
