import ArgumentParser
import Datasets
import Engine
import Foundation
import Retrieval

/// `magpie gallery build`: embeds an image list straight into an LMDB gallery.
struct GalleryBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Embed the images of a list into a gallery (creates it, or appends with the same model).",
        discussion: """
        The model is the config's Arch with --weights (or Global.pretrained_model; without -c, the \
        config stored in a `magpie train` checkpoint), or an inference bundle (--bundle DIR); \
        preprocessing is the eval transform_ops. The gallery records the model name and a fingerprint of the \
        weights and preprocessing, and refuses embeddings from another model. --images takes an SOP \
        list (Ebay_test.txt) or a PaddleClas list (path label per line); labels and paths are stored \
        per item, ids are the list order (or continue after the largest id when appending). One LMDB \
        write transaction per batch: an interrupted build keeps every finished batch.
        """
    )

    @OptionGroup var config: ConfigOptions
    @Option(name: [.customLong("weights"), .customLong("model")], help: "Checkpoint (prefix or .safetensors) with the trained weights (--model is an alias).")
    var weights: String?
    @Option(help: "Inference bundle (`magpie export --format bundle`) instead of -c/--weights.") var bundle: String?
    @Option(help: "Image list: SOP format or `path label` lines.") var images: String
    @Option(name: .customLong("image-root"), help: "Folder the list's paths are relative to (default: the list's folder).") var imageRoot: String?
    @Option(help: "Gallery folder to create or append to, e.g. indexes/demo.") var out: String
    @Option(name: .customLong("batch-size"), help: "Images embedded and committed per transaction.") var batchSize = 128

    func run() throws {
        let model = try config.inferenceModel(weights: weights, bundle: bundle)
        let root = imageRoot ?? URL(fileURLWithPath: images).deletingLastPathComponent().path
        let dataset = try ImageListDataset.read(listFile: images, imageRoot: root)
        let manifest = GalleryManifest(dimension: model.embeddingSize, metric: .innerProduct, model: model.arch,
                                       fingerprint: model.fingerprint, preprocessing: model.preprocessing)
        let gallery = try Gallery.openOrCreate(at: out, manifest: manifest)
        try gallery.checkCompatible(dimension: model.embeddingSize, metric: .innerProduct, fingerprint: model.fingerprint)
        let existing = try gallery.snapshot()
        let firstID = (existing.ids.max() ?? -1) + 1
        let start = Date()
        var done = 0
        for lo in stride(from: 0, to: dataset.count, by: max(batchSize, 1)) {
            let records = Array(dataset.records[lo..<min(lo + batchSize, dataset.count)])
            let vectors = try model.embed(paths: records.map(\.path))
            let ids = (0..<records.count).map { firstID + Int64(lo + $0) }
            try gallery.add(ids: ids, vectors: vectors.data, records: records.map {
                GalleryRecord(label: Int64($0.originalLabel), path: $0.path)
            })
            done += records.count
            let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
            FileHandle.standardError.write(Data(String(format: "\rgallery build: %d/%d images, %.1f img/s", done, dataset.count, rate).utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        print("gallery \(out): \(try gallery.manifest().count) items, \(model.embeddingSize)-d, model \(model.arch), fingerprint \(model.fingerprint)")
    }
}
