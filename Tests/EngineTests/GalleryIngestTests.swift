import Foundation
import Retrieval
import Testing
@testable import Engine

/// `gallery build/add`: all or nothing by default; per batch on request, resumable without duplicates.
@Suite struct GalleryIngestTests {
    /// 8 readable images and one unreadable one at position 5.
    static func setUp(_ work: URL) throws -> (model: InferenceModel, records: [GalleryRecord], broken: String) {
        let data = try TinyDataset.make(classes: 3, perClass: 3)
        let model = try InferenceModel(config: Config(yaml: TinyDataset.config(root: data, output: work)))
        let folder = data.appendingPathComponent("images")
        var paths = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { folder.appendingPathComponent($0).path }
        let broken = paths[5]
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: broken))
        paths = Array(paths.prefix(9))
        return (model, paths.map { GalleryRecord(label: 1, path: $0) }, broken)
    }

    @Test func aBadImageLeavesTheGalleryUntouched() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-ingest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let (model, records, broken) = try Self.setUp(work)
        let gallery = try Gallery.create(at: work.appendingPathComponent("g").path,
                                         manifest: GalleryManifest(dimension: model.embeddingSize, fingerprint: model.fingerprint))
        let ingest = GalleryIngest(model: model, gallery: gallery, batchSize: 2)
        do {
            _ = try ingest.run(records)
            Issue.record("an unreadable image was accepted")
        } catch let error as GalleryIngestError {
            #expect(error.committed.isEmpty)
            #expect(error.description.contains(broken) && error.description.contains("nothing was written"), "\(error)")
        }
        #expect(try gallery.manifest().count == 0)
    }

    @Test func perBatchCommitsReportWhatWasWrittenAndResumeSkipsIt() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-ingest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let (model, records, broken) = try Self.setUp(work)
        let gallery = try Gallery.create(at: work.appendingPathComponent("g").path,
                                         manifest: GalleryManifest(dimension: model.embeddingSize, fingerprint: model.fingerprint))
        let ingest = GalleryIngest(model: model, gallery: gallery, batchSize: 2, commit: .everyBatch)
        do {
            _ = try ingest.run(records)
            Issue.record("an unreadable image was accepted")
        } catch let error as GalleryIngestError {
            #expect(error.committed == [0, 1, 2, 3])  // batches [0, 1] and [2, 3]; [4, 5] failed at 5
            #expect(error.description.contains("4 items were committed before it (ids 0...3)"), "\(error)")
        }
        #expect(try gallery.manifest().count == 4)

        // Fixed input, resumed: only the missing images are added, no duplicates.
        let fixed = records.filter { $0.path != broken }
        let rest = try ingest.skippingStored(fixed)
        #expect(rest.count == fixed.count - 4)
        let ids = try ingest.run(rest)
        #expect(ids == (4..<Int64(4 + rest.count)).map { $0 })
        let stored = try gallery.snapshot().records.compactMap(\.path)
        #expect(stored.sorted() == fixed.compactMap(\.path).sorted())
    }
}
