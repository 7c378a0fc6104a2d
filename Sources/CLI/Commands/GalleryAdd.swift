import ArgumentParser
import Datasets
import Engine
import Foundation
import Retrieval

/// `magpie gallery add`: embeds more images into an existing gallery.
struct GalleryAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Embed images (lists, files or folders) into an existing gallery with the gallery's model.",
        discussion: """
        Each --images is an SOP list (Ebay_test.txt), a PaddleClas list (`path label` lines), one \
        .jpg/.jpeg/.png file or a folder of them (subfolders included; paths are stored absolute). Items \
        from lists keep the list's labels; files and \
        folders get --label (or none). The model (-c CONFIG [--weights], --weights of a trained \
        checkpoint alone, or --bundle DIR) must have the gallery's fingerprint: embeddings of another model or \
        preprocessing are refused before anything is written. New ids continue after the largest \
        id in the gallery and are printed. One LMDB write transaction per batch.
        """
    )

    @OptionGroup var config: ConfigOptions
    @Option(name: [.customLong("weights"), .customLong("model")], help: "Checkpoint with the trained weights (--model is an alias).")
    var weights: String?
    @Option(help: "Inference bundle (`magpie export --format bundle`) instead of -c/--weights.") var bundle: String?
    @Option(help: "Gallery folder (must exist; `gallery build` creates one).") var gallery: String
    @Option(help: "Image list, image file or folder (repeatable).") var images: [String]
    @Option(name: .customLong("image-root"), help: "Folder a list's paths are relative to (default: the list's folder).") var imageRoot: String?
    @Option(help: "Label for images given as files or folders.") var label: Int64?
    @Option(help: "JSON object stored as every new item's metadata.") var metadata: String?
    @Option(name: .customLong("batch-size"), help: "Images embedded and committed per transaction.") var batchSize = 128

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let metadata {
            guard (try? JSONSerialization.jsonObject(with: Data(metadata.utf8))) is [String: Any] else {
                throw ValidationError("--metadata must be a JSON object, e.g. '{\"sku\": \"A-1\"}'")
            }
        }
        let records = try images.flatMap(collect)
        guard !records.isEmpty else { throw ValidationError("no images found in \(images.joined(separator: ", "))") }
        let store = try Gallery.open(at: gallery)
        let model = try config.inferenceModel(weights: weights, bundle: bundle)
        try store.checkCompatible(dimension: model.embeddingSize, fingerprint: model.fingerprint)
        var nextID = (try store.snapshot().ids.max() ?? -1) + 1
        let firstID = nextID
        for lo in stride(from: 0, to: records.count, by: batchSize) {
            let batch = Array(records[lo..<min(lo + batchSize, records.count)])
            let vectors = try model.embed(paths: batch.map { $0.path ?? "" })
            let ids = (0..<batch.count).map { nextID + Int64($0) }
            try store.add(ids: ids, vectors: vectors.data, records: batch)
            nextID += Int64(batch.count)
            FileHandle.standardError.write(Data("\rgallery add: \(lo + batch.count)/\(records.count) images".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        print("added \(records.count) items (ids \(firstID)...\(nextID - 1)) to \(gallery); it now holds \(try store.manifest().count)")
    }

    private func collect(_ source: String) throws -> [GalleryRecord] {
        guard FileManager.default.fileExists(atPath: source) else {
            throw ValidationError("no such file or folder: \(source)")
        }
        if ImageFiles.namesImages(source) {
            return try ImageFiles.list(source).map { GalleryRecord(label: label, path: $0, metadata: metadata) }
        }
        let root = imageRoot ?? URL(fileURLWithPath: source).deletingLastPathComponent().path
        let dataset = try ImageListDataset.read(listFile: source, imageRoot: root)
        return dataset.records.map { GalleryRecord(label: Int64($0.originalLabel), path: $0.path, metadata: metadata) }
    }
}
