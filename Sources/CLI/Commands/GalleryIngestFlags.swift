import ArgumentParser
import Engine
import Foundation
import Retrieval

/// How `gallery build` and `gallery add` commit: all or nothing (default), per batch, resuming.
struct GalleryIngestFlags: ParsableArguments {
    @Option(name: .customLong("batch-size"), help: "Images embedded per model run (and committed per transaction with --incremental).")
    var batchSize = 128
    @Flag(help: "Commit every batch as it is embedded (an interrupted run keeps the finished batches) instead of all at the end.")
    var incremental = false
    @Flag(help: "Skip images whose path the gallery already stores (continue a run that committed part of its work).")
    var resume = false

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    /// Embeds and adds `records` with a progress line named `label`; returns the new ids and how
    /// many records `--resume` skipped.
    func ingest(_ records: [GalleryRecord], model: InferenceModel, gallery: Gallery, label: String) throws -> (ids: [Int64], skipped: Int) {
        let line = ProgressLine()
        defer { line.end() }
        let start = Date()
        let ingest = GalleryIngest(model: model, gallery: gallery, batchSize: batchSize,
                                   commit: incremental ? .everyBatch : .atEnd) { done, total in
            let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
            line.update(String(format: "%@: %d/%d images embedded, %.1f img/s", label, done, total, rate))
        }
        let todo = resume ? try ingest.skippingStored(records) : records
        return (try ingest.run(todo), records.count - todo.count)
    }

    /// The closing line: what was added (and skipped), and the gallery's size.
    static func summary(_ result: (ids: [Int64], skipped: Int), gallery: Gallery, path: String) throws -> String {
        let skipped = result.skipped > 0 ? "; skipped \(result.skipped) already stored" : ""
        let range = result.ids.first.map { "ids \($0)...\(result.ids.last!)" } ?? "nothing new"
        return "added \(result.ids.count) items (\(range)) to \(path)\(skipped); it now holds \(try gallery.manifest().count)"
    }
}

/// Remembers whether a gallery (and its folder) existed before a command, so a failed first
/// write can remove what the command created instead of leaving an empty gallery behind.
struct NewGalleryCleanup {
    let path: String
    let galleryExisted: Bool
    let folderExisted: Bool

    init(path: String) {
        self.path = path
        galleryExisted = FileManager.default.fileExists(atPath: path + "/data.mdb")
        folderExisted = FileManager.default.fileExists(atPath: path)
    }

    /// Removes the gallery when this command created it and it holds nothing.
    func discardIfEmpty(_ gallery: Gallery) {
        guard !galleryExisted, (try? gallery.manifest().count) == 0 else { return }
        gallery.close()
        if folderExisted {
            for file in ["data.mdb", "lock.mdb"] { try? FileManager.default.removeItem(atPath: path + "/" + file) }
        } else {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
