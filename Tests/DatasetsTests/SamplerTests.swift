import Testing
import TensorCore
@testable import Datasets

@Suite struct SamplerTests {
    /// 10 classes with 1…10 images each (class c has c + 1 images).
    static let labels: [Int] = (0..<10).flatMap { c in Array(repeating: c, count: c + 1) }

    @Test(arguments: [RandomIdentitySampler.Variant.xbm, .paddleClas])
    func pkBatchesHavePClassesTimesKImages(_ variant: RandomIdentitySampler.Variant) throws {
        let sampler = try RandomIdentitySampler(labels: Self.labels, batchSize: 12, instancesPerClass: 3, maxIters: 50, variant: variant, seed: 1)
        let batches = sampler.batches(epoch: 0)
        #expect(batches.count == 50)
        for batch in batches {
            #expect(batch.count == 12)
            let classes = batch.map { Self.labels[$0] }
            for chunk in stride(from: 0, to: 12, by: 3) {
                #expect(Set(classes[chunk..<(chunk + 3)]).count == 1)   // K consecutive images of one class
            }
            #expect(Set(classes).count == 4)                            // P distinct classes
        }
        #expect(sampler.batches(epoch: 0) == batches)
        #expect(sampler.batches(epoch: 1) != batches)
    }

    @Test func xbmPadsWithReplacementPaddleDropsLeftovers() throws {
        // One round of a single class-per-batch sampler walks each class's chunks exactly once.
        let xbm = try RandomIdentitySampler(labels: Self.labels, batchSize: 4, instancesPerClass: 4, maxIters: 1000, variant: .xbm, seed: 3)
        let paddle = try RandomIdentitySampler(labels: Self.labels, batchSize: 4, instancesPerClass: 4, maxIters: 1000, variant: .paddleClas, seed: 3)
        // Per round: XBM ceil(n/4) chunks per class, Paddle max(1, floor(n/4)); n = 1…10.
        let xbmChunks = (1...10).map { ($0 + 3) / 4 }.reduce(0, +)      // 19
        let paddleChunks = (1...10).map { max(1, $0 / 4) }.reduce(0, +) // 14
        let xbmRound = xbm.batches(epoch: 0).prefix(xbmChunks)
        let paddleRound = paddle.batches(epoch: 0).prefix(paddleChunks)
        for c in 0..<10 {
            let n = c + 1
            let xbmCount = xbmRound.filter { Self.labels[$0[0]] == c }.count
            let paddleCount = paddleRound.filter { Self.labels[$0[0]] == c }.count
            #expect(xbmCount == (n + 3) / 4)
            #expect(paddleCount == max(1, n / 4))
            // XBM keeps every image of the class in the round; Paddle draws K with replacement when n < K.
            let xbmImages = Set(xbmRound.filter { Self.labels[$0[0]] == c }.flatMap { $0 })
            #expect(xbmImages.count == n)
        }
    }

    @Test func pkSamplerFavoursClassesWithMoreChunks() throws {
        // Class 0: 40 images (10 chunks), classes 1–9: 4 images (1 chunk). With P = 2 the first batch of a
        // round contains class 0 with probability 1 − C(9,2)/… ; over many epochs it must dominate.
        let labels = Array(repeating: 0, count: 40) + (1...9).flatMap { Array(repeating: $0, count: 4) }
        let s = try RandomIdentitySampler(labels: labels, batchSize: 8, instancesPerClass: 4, maxIters: 1, seed: 0)
        var withZero = 0
        for epoch in 0..<400 where s.batches(epoch: epoch)[0].contains(where: { labels[$0] == 0 }) { withZero += 1 }
        // P(class 0 in a weighted 2-of-10 draw) = 10/19 + Σ_j (1/19)(10/18) ≈ 0.79.
        #expect(withZero > 280 && withZero < 350)
    }

    @Test func pkSamplerValidatesItsSettings() {
        #expect(throws: DatasetsError.self) { try RandomIdentitySampler(labels: Self.labels, batchSize: 10, instancesPerClass: 4, maxIters: 1) }
        #expect(throws: DatasetsError.self) { try RandomIdentitySampler(labels: [0, 0, 1, 1], batchSize: 12, instancesPerClass: 4, maxIters: 1) }
        #expect(throws: DatasetsError.self) { try RandomIdentitySampler(labels: Self.labels, batchSize: 8, instancesPerClass: 4, maxIters: 0) }
    }

    @Test func batchSamplerCoversEveryIndexOnce() throws {
        let s = try BatchSampler(count: 10, batchSize: 4, shuffle: true, dropLast: false, seed: 2)
        let batches = s.batches(epoch: 0)
        #expect(batches.map(\.count) == [4, 4, 2])
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<10))
        #expect(batches != s.batches(epoch: 1) && batches == s.batches(epoch: 0))
        let dropped = try BatchSampler(count: 10, batchSize: 4, shuffle: false, dropLast: true)
        #expect(dropped.batches(epoch: 0) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(throws: DatasetsError.self) { try BatchSampler(count: 3, batchSize: 4, dropLast: true) }
        #expect(throws: DatasetsError.self) { try BatchSampler(count: 3, batchSize: 0) }
    }
}
