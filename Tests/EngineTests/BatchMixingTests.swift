import Testing
@testable import Datasets
@testable import Engine
@testable import TensorCore

@Suite struct BatchMixingTests {
    /// Four 1×4×4 images, image i filled with the value i + 1, labels 0…3.
    static func batch() -> (Tensor, [Int]) {
        (Tensor(shape: [4, 1, 4, 4], data: (0..<4).flatMap { i in Array(repeating: Float(i + 1), count: 16) }), [0, 1, 2, 3])
    }

    @Test func mixupBlendsImagesAndTargetsWithOneLambda() {
        let (images, labels) = BatchMixingTests.batch()
        var rng = RNG(seed: 3)
        let mixed = BatchMixing.mixup(alpha: 0.2).apply(images: images, labels: labels, classes: 5, rng: &rng)
        let lambda = Float(mixed.lambda!)
        #expect(lambda >= 0 && lambda <= 1)
        for i in 0..<4 {
            let j = mixed.partner[i]
            let expected = lambda * Float(i + 1) + (1 - lambda) * Float(j + 1)
            for p in 0..<16 { #expect(abs(mixed.images.data[i * 16 + p] - expected) < 1e-5) }
            let row = Array(mixed.targets.data[(i * 5)..<(i * 5 + 5)])
            #expect(abs(row.reduce(0, +) - 1) < 1e-6)
            if i != j {
                #expect(abs(row[i] - lambda) < 1e-6 && abs(row[j] - (1 - lambda)) < 1e-6)
            } else {
                #expect(abs(row[i] - 1) < 1e-6)
            }
            #expect(row[4] == 0)
        }
        #expect(Set(mixed.partner) == Set(0..<4))
    }

    @Test func cutmixPastesABoxAndLambdaIsTheKeptArea() {
        let (images, labels) = BatchMixingTests.batch()
        for seed in UInt64(0)..<20 {
            var rng = RNG(seed: seed)
            let mixed = BatchMixing.cutmix(alpha: 1).apply(images: images, labels: labels, classes: 4, rng: &rng)
            let lambda = mixed.lambda!
            for i in 0..<4 {
                let j = mixed.partner[i]
                let pixels = mixed.images.data[(i * 16)..<(i * 16 + 16)]
                #expect(pixels.allSatisfy { $0 == Float(i + 1) || $0 == Float(j + 1) })
                if i != j {
                    let pasted = pixels.filter { $0 == Float(j + 1) }.count
                    #expect(abs(Double(pasted) / 16 - (1 - lambda)) < 1e-9)
                    #expect(abs(Double(mixed.targets.data[i * 4 + j]) - (1 - lambda)) < 1e-6)
                }
            }
        }
    }

    @Test func samplerWithNoProbabilityLeavesTheBatch() {
        let (images, labels) = BatchMixingTests.batch()
        var rng = RNG(seed: 1)
        let mixed = BatchMixing.sampler([(.mixup(alpha: 0.2), 0), (.cutmix(alpha: 1), 0)]).apply(images: images, labels: labels, classes: 4, rng: &rng)
        #expect(mixed.lambda == nil)
        #expect(mixed.images.data == images.data)
        #expect(mixed.targets.data == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    }

    @Test func betaSamplesHaveTheRightMean() {
        var rng = RNG(seed: 7)
        for alpha in [0.2, 1.0, 4.0] {
            let draws = (0..<4000).map { _ in BatchMixing.beta(alpha, rng: &rng) }
            let mean = draws.reduce(0, +) / 4000
            let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4000
            #expect(abs(mean - 0.5) < 0.03)
            // Var of Beta(α, α) = 1 / (4 (2α + 1)).
            #expect(abs(variance - 1 / (4 * (2 * alpha + 1))) < 0.015)
        }
    }

    @Test func parsesPaddleClasOperators() throws {
        let c = try Config(yaml: """
        Data:
          Ops:
            - MixupOperator:
                alpha: 0.2
            - OpSampler:
                MixupOperator:
                  alpha: 0.8
                  prob: 0.5
                CutmixOperator:
                  alpha: 1.0
                  prob: 0.5
          Bad:
            - MosaicOperator:
                alpha: 1
        """)
        let ops = try BatchMixing.parse(try c.section("Data").namedList("Ops"))
        #expect(ops == [.mixup(alpha: 0.2), .sampler([(.mixup(alpha: 0.8), 0.5), (.cutmix(alpha: 1), 0.5)])])
        #expect(throws: ConfigError.self) { try BatchMixing.parse(try c.section("Data").namedList("Bad")) }
    }
}
