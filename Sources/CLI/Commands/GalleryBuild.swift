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
    @OptionGroup var index: IndexOptions

    func run() throws {
        let spec = try index.spec()
        let model = try self.model.load()
        let root = imageRoot ?? URL(fileURLWithPath: images).deletingLastPathComponent().path
        let dataset = try ImageListDataset.read(listFile: images, imageRoot: root)
        var manifest = GalleryManifest(dimension: model.embeddingSize, metric: .innerProduct, model: model.arch,
                                       fingerprint: model.fingerprint, preprocessing: model.preprocessing)
        manifest.index = spec == .flat ? nil : spec
        let fresh = NewGalleryCleanup(path: out)
        let gallery = try Gallery.openOrCreate(at: out, manifest: manifest)
        try gallery.checkCompatible(dimension: model.embeddingSize, metric: .innerProduct, fingerprint: model.fingerprint)
        if let spec, try gallery.manifest().indexSpec != spec {
            throw ValidationError("\(out) searches with \(try gallery.manifest().indexSpec); change it with `magpie gallery index --gallery \(out) --index …`")
        }
        let records = dataset.records.map { GalleryRecord(label: Int64($0.originalLabel), path: $0.path) }
        do {
            let result = try commit.ingest(records, model: model, gallery: gallery, label: "gallery build")
            print(try GalleryIngestFlags.summary(result, gallery: gallery, path: out))
        } catch {
            fresh.discardIfEmpty(gallery)
            throw error
        }
        print("gallery \(out): \(try gallery.manifest().count) items, \(model.embeddingSize)-d, model \(model.arch), fingerprint \(model.fingerprint)")
        if case .hnsw = try gallery.manifest().indexSpec {
            // Build the graph now, so the first query does not.
            gallery.close()
            let start = Date()
            let opened = try SearchableGallery(path: out, log: { print($0) })
            opened.close()
            print(String(format: "index %@ ready in %.1f s", "\(try Gallery.open(at: out, readOnly: true).manifest().indexSpec)", Date().timeIntervalSince(start)))
        }
    }
}
