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
        per item, ids are the list order (or continue from the gallery's next id when appending). \
        All or nothing: every image is embedded first and committed in one LMDB transaction, so a \
        bad image or an interruption leaves the gallery as it was. --incremental commits each batch \
        (an interrupted build keeps the finished ones); --resume then skips the images already stored.
        """
    )

    @OptionGroup var model: EmbeddingModelOptions
    @Option(help: "Image list: SOP format or `path label` lines.") var images: String
    @Option(name: .customLong("image-root"), help: "Folder the list's paths are relative to (default: the list's folder).") var imageRoot: String?
    @Option(help: "Gallery folder to create or append to, e.g. indexes/demo.") var out: String
    @OptionGroup var commit: GalleryIngestFlags

    func run() throws {
        let model = try self.model.load()
        let root = imageRoot ?? URL(fileURLWithPath: images).deletingLastPathComponent().path
        let dataset = try ImageListDataset.read(listFile: images, imageRoot: root)
        let manifest = GalleryManifest(dimension: model.embeddingSize, metric: .innerProduct, model: model.arch,
                                       fingerprint: model.fingerprint, preprocessing: model.preprocessing)
        let fresh = NewGalleryCleanup(path: out)
        let gallery = try Gallery.openOrCreate(at: out, manifest: manifest)
        try gallery.checkCompatible(dimension: model.embeddingSize, metric: .innerProduct, fingerprint: model.fingerprint)
        let records = dataset.records.map { GalleryRecord(label: Int64($0.originalLabel), path: $0.path) }
        do {
            let result = try commit.ingest(records, model: model, gallery: gallery, label: "gallery build")
            print(try GalleryIngestFlags.summary(result, gallery: gallery, path: out))
        } catch {
            fresh.discardIfEmpty(gallery)
            throw error
        }
        print("gallery \(out): \(try gallery.manifest().count) items, \(model.embeddingSize)-d, model \(model.arch), fingerprint \(model.fingerprint)")
    }
}
