import Foundation
import Testing
@testable import NN
@testable import TensorCore

@Suite struct XBMLossTests {
    static func unit(_ degrees: [Double]) -> Tensor {
        Tensor(shape: [degrees.count, 2], data: degrees.flatMap { d -> [Float] in
            let r = d * Double.pi / 180
            return [Float(cos(r)), Float(sin(r))]
        })
    }

    /// A worked example of the similarity-form contrastive loss, computed by hand.
    @Test func specWorkedExample() {
        let batch = Self.unit([0, 30, 100, 200]), labels = [1, 1, 2, 2]
        let loss = ContrastiveLoss(margin: 0.5, epsilon: 1e-5)
        let batchLoss = loss(batch, labels: labels, references: batch, referenceLabels: labels)
        #expect(abs(batchLoss.item - 0.653811) < 1e-5)

        let memory = CrossBatchMemory(capacity: 8, dimension: 2)
        memory.enqueue(Self.unit([10, 80, 150, 260]), labels: [1, 2, 3, 2])
        let xbm = XBMLoss(loss: loss, memory: memory, weight: 1, startIteration: 0)
        let (total, b, m) = xbm(batch, labels: labels)
        #expect(abs(b.item - 0.653811) < 1e-5)
        #expect(abs(m!.item - 2.154777) < 1e-5)
        #expect(abs(total.item - 2.808588) < 1e-5)
        #expect(memory.count == 8 && memory.isFull)
    }

    /// Per-anchor losses computed by loops in the test, against the op on random data; and the gradient.
    @Test func matchesLoopsAndFiniteDifferences() {
        var rng = RNG(seed: 3)
        let f = Tensor.randn([6, 4], rng: &rng).l2Normalized().detached()
        let r = Tensor.randn([5, 4], rng: &rng).l2Normalized().detached()
        let ya = [0, 1, 0, 2, 1, 2], yr = [2, 0, 1, 1, 3]
        let loss = ContrastiveLoss(margin: 0.1)
        var expected: Double = 0
        for i in 0..<6 {
            for j in 0..<5 {
                var s: Double = 0
                for k in 0..<4 { s += Double(f.data[i * 4 + k]) * Double(r.data[j * 4 + k]) }
                if ya[i] == yr[j] { if s < 1 - 1e-5 { expected += 1 - s } } else if s > 0.1 { expected += s }
            }
        }
        #expect(abs(Double(loss(f, labels: ya, references: r, referenceLabels: yr).item) - expected / 6) < 1e-5)

        // d/df of the memory loss: −r_j/n for positives, +r_j/n for hard negatives.
        f.requiresGrad = true
        loss(f, labels: ya, references: r, referenceLabels: yr).backward()
        for i in 0..<6 {
            for k in 0..<4 {
                var g: Double = 0
                for j in 0..<5 {
                    var s: Double = 0
                    for t in 0..<4 { s += Double(f.data[i * 4 + t]) * Double(r.data[j * 4 + t]) }
                    if ya[i] == yr[j] { if s < 1 - 1e-5 { g -= Double(r.data[j * 4 + k]) } } else if s > 0.1 { g += Double(r.data[j * 4 + k]) }
                }
                #expect(abs(Double(f.grad![i * 4 + k]) - g / 6) < 1e-5)
            }
        }
    }

    @Test func referenceQueueWritesTheTailThenRestarts() {
        // K = 10, q = 4: slots 0-3, 4-7, then the third batch goes to 6-9 and the pointer resets.
        let memory = CrossBatchMemory(capacity: 10, dimension: 1)
        for b in 0..<3 { memory.enqueue(Tensor(shape: [4, 1], data: [Float](repeating: Float(b + 1), count: 4)), labels: [b, b, b, b]) }
        #expect(memory.features == [1, 1, 1, 1, 2, 2, 3, 3, 3, 3])
        #expect(memory.pointer == 0 && memory.isFull)
        #expect(memory.labels[0] == 0)   // label 0 does not make it look empty
        // Exactly full (K = 8, q = 4): the pointer stays at K, so batch 3 overwrites slots 4-7.
        let exact = CrossBatchMemory(capacity: 8, dimension: 1)
        for b in 0..<3 { exact.enqueue(Tensor(shape: [4, 1], data: [Float](repeating: Float(b + 1), count: 4)), labels: [b, b, b, b]) }
        #expect(exact.features == [1, 1, 1, 1, 3, 3, 3, 3])
        #expect(exact.pointer == 0 && exact.count == 8)
        let ring = CrossBatchMemory(capacity: 10, dimension: 1, mode: .ring)
        for b in 0..<3 { ring.enqueue(Tensor(shape: [4, 1], data: [Float](repeating: Float(b + 1), count: 4)), labels: [b, b, b, b]) }
        #expect(ring.features == [3, 3, 1, 1, 2, 2, 2, 2, 3, 3])
        #expect(ring.pointer == 2 && ring.isFull)
    }

    @Test func memoryStartsAfterTheStartIteration() throws {
        let memory = CrossBatchMemory(capacity: 16, dimension: 2)
        let xbm = XBMLoss(memory: memory, startIteration: 2)
        let f = Self.unit([0, 90]), y = [0, 1]
        #expect(xbm(f, labels: y).memory == nil)
        #expect(xbm(f, labels: y).memory == nil)
        #expect(memory.count == 0)
        #expect(xbm(f, labels: y).memory != nil)
        #expect(memory.count == 2)
        let copy = CrossBatchMemory(capacity: 16, dimension: 2)
        try copy.load(stateDict: memory.stateDict())
        #expect(copy.contents().labels == y && copy.pointer == 2)
    }
}
