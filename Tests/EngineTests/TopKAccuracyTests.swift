import Testing
@testable import Engine

@Suite struct TopKAccuracyTests {
    @Test func handComputedBatches() throws {
        var acc = TopKAccuracy(ks: [1, 2])
        // Row 0: label 2 has the highest score → top-1 and top-2.
        // Row 1: label 0 is second (0.5 < 0.7) → top-2 only.
        // Row 2: label 1 is last → neither.
        try acc.update(logits: [0.1, 0.2, 0.9,
                                0.5, 0.7, 0.1,
                                0.3, 0.1, 0.6], classes: 3, labels: [2, 0, 1])
        // Row 3: tie between class 0 and label 1: the lower index wins, so label 1 is second.
        try acc.update(logits: [0.4, 0.4, 0.2], classes: 3, labels: [1])
        #expect(acc.count == 4)
        #expect(acc.correct == [1, 3])
        #expect(acc.accuracies == [0.25, 0.75])
        #expect(acc.named["top2"] == 0.75)
    }

    @Test func rejectsMismatchedShapesAndLabels() {
        var acc = TopKAccuracy()
        #expect(throws: EngineError.self) { try acc.update(logits: [1, 2, 3], classes: 2, labels: [0]) }
        #expect(throws: EngineError.self) { try acc.update(logits: [1, 2], classes: 2, labels: [2]) }
        #expect(acc.count == 0)
    }
}
