import Foundation
import Retrieval

/// Embeds image records into a gallery in batches, and commits them all or nothing (the
/// default) or one transaction per batch.
///
/// All or nothing keeps the vectors in memory (rows × dimension floats) and writes them in one
/// LMDB transaction at the end: a bad image, a full disk or an interruption leaves the gallery
/// exactly as it was. Per-batch commits keep every finished batch instead; after a failure,
/// running again with `skippingStored` adds the rest without duplicates. Ids are assigned inside
/// the committing transaction (the gallery's next automatic id), so another process writing to
/// the same gallery cannot collide with them.
public struct GalleryIngest {
    public enum Commit: Sendable { case atEnd, everyBatch }

    public let model: InferenceModel
    public let gallery: Gallery
    public var batchSize: Int
    public var commit: Commit
    /// Called after each embedded batch with (done, total).
    public var progress: (Int, Int) -> Void

    public init(model: InferenceModel, gallery: Gallery, batchSize: Int = 128, commit: Commit = .atEnd,
                progress: @escaping (Int, Int) -> Void = { _, _ in }) {
        self.model = model
        self.gallery = gallery
        self.batchSize = max(1, batchSize)
        self.commit = commit
        self.progress = progress
    }

    /// `records` without those whose image path the gallery already stores (resuming a run that
    /// committed part of its work).
    public func skippingStored(_ records: [GalleryRecord]) throws -> [GalleryRecord] {
        let stored = try gallery.storedPaths()
        return records.filter { $0.path.map { !stored.contains($0) } ?? true }
    }

    /// Embeds and adds `records` (each with the image `path` to embed); returns the new ids in order.
    public func run(_ records: [GalleryRecord]) throws -> [Int64] {
        var committed: [Int64] = []
        var staged: [Float] = []
        do {
            for lo in stride(from: 0, to: records.count, by: batchSize) {
                let batch = Array(records[lo..<min(lo + batchSize, records.count)])
                let vectors = try model.embed(paths: batch.map { $0.path ?? "" }).data
                switch commit {
                case .everyBatch:
                    committed += try gallery.add(vectors: vectors, records: batch, requestedIDs: batch.map { _ in nil }).ids
                case .atEnd:
                    staged += vectors
                }
                progress(lo + batch.count, records.count)
            }
            if commit == .atEnd, !records.isEmpty {
                committed = try gallery.add(vectors: staged, records: records, requestedIDs: records.map { _ in nil }).ids
            }
            return committed
        } catch {
            throw GalleryIngestError(underlying: error, committed: committed)
        }
    }
}

/// An ingest failed; `committed` are the ids written before the failure (empty when all or nothing).
/// Also what `gallery import --incremental` reports; `advice` (nil: none) follows the list of
/// what was committed.
public struct GalleryIngestError: Error, CustomStringConvertible {
    public let underlying: Error
    public let committed: [Int64]
    public let advice: String?

    public init(underlying: Error, committed: [Int64],
                advice: String? = "fix the input and rerun with --resume to add the rest without duplicates") {
        self.underlying = underlying
        self.committed = committed
        self.advice = advice
    }

    public var description: String {
        let cause = "\(underlying)"
        guard let first = committed.first, let last = committed.last else {
            return cause.contains("nothing was written") ? cause : "\(cause); nothing was written to the gallery"
        }
        let batch = cause.replacingOccurrences(of: "nothing was written", with: "that batch was not written")
        return "\(batch); \(committed.count) items were committed before it (ids \(first)...\(last))" + (advice.map { ": " + $0 } ?? "")
    }
}
