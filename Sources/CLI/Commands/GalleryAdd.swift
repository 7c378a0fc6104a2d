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
        preprocessing are refused before anything is written. New ids continue from the gallery's \
        next id and are printed. All or nothing: every image is embedded first and the items are \
        committed in one LMDB transaction, so an unreadable image leaves the gallery unchanged. \
        --incremental commits each batch instead; after a failure, --resume adds the rest \
        without duplicates.
        """
    )

    @OptionGroup var model: EmbeddingModelOptions
    @Option(help: "Gallery folder (must exist; `gallery build` creates one).") var gallery: String
    @Option(help: "Image list, image file or folder (repeatable).") var images: [String]
    @Option(name: .customLong("image-root"), help: "Folder a list's paths are relative to (default: the list's folder).") var imageRoot: String?
    @Option(help: "Label for images given as files or folders.") var label: Int64?
    @Option(help: "JSON object stored as every new item's metadata.") var metadata: String?
    @OptionGroup var commit: GalleryIngestFlags

    func run() throws {
        if let metadata {
            guard (try? JSONSerialization.jsonObject(with: Data(metadata.utf8))) is [String: Any] else {
                throw ValidationError("--metadata must be a JSON object, e.g. '{\"sku\": \"A-1\"}'")
            }
        }
        let records = try images.flatMap(collect)
        guard !records.isEmpty else { throw ValidationError("no images found in \(images.joined(separator: ", "))") }
        let store = try Gallery.open(at: gallery)
        let model = try self.model.load()
        try store.checkCompatible(dimension: model.embeddingSize, fingerprint: model.fingerprint)
        let result = try commit.ingest(records, model: model, gallery: store, label: "gallery add")
        print(try GalleryIngestFlags.summary(result, gallery: store, path: gallery))
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
