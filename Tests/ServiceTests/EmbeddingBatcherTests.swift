import Foundation
import Testing
@testable import Service

@Suite struct EmbeddingBatcherTests {
    /// Concurrent requests share model runs and each still gets its own embedding, equal to a
    /// run of the image alone.
    @Test func concurrentRequestsGetTheirOwnRows() async throws {
        let f = try ServiceFixture(items: 2)
        defer { f.cleanup() }
        let metrics = ServiceMetrics()
        let batcher = EmbeddingBatcher(model: f.model, maxBatchSize: 4, maxRunners: 1, metrics: metrics)
        let inputs = try (0..<10).map { try f.model.preprocess(encoded: ServiceFixture.pattern($0), source: "p\($0)") }
        let alone = try inputs.map { try f.model.embed(preprocessed: [$0]).data }
        let rows = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, t) in inputs.enumerated() { group.addTask { (i, try await batcher.embed([t])[0]) } }
            var out = [[Float]](repeating: [], count: inputs.count)
            for try await (i, row) in group { out[i] = row }
            return out
        }
        for i in 0..<inputs.count {
            let worst = zip(rows[i], alone[i]).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4, "image \(i): \(worst)")
        }
        let text = metrics.registry.render()
        #expect(text.contains("magpie_embed_batch_images_sum 10\n"))
        // No run exceeds the batch limit: every observation is within the ≤4 bucket.
        let runs = text.split(separator: "\n").first { $0.hasPrefix("magpie_embed_batch_images_count ") }!
        let within4 = text.split(separator: "\n").first { $0.hasPrefix("magpie_embed_batch_images_bucket{le=\"4\"}") }!
        #expect(runs.split(separator: " ").last == within4.split(separator: " ").last)
        batcher.waitUntilIdle()
    }
}
