import ArgumentParser
import Engine
import Foundation

/// `magpie export-embeddings`: embeddings of a list or folder of images as .npy / .npz.
struct ExportEmbeddingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-embeddings",
        abstract: "Embed a list or folder of images and write the embeddings as .npy or .npz.",
        discussion: """
        The model: --bundle DIR, or -c CONFIG [--weights CKPT] (or --weights alone for a checkpoint \
        written by `magpie train`), with the eval preprocessing and Global.feature_normalize. \
        --images is a PaddleClas list (`path label` per line) or an SOP list, paths relative to \
        --image-root (default: the list's folder), a folder of .jpg/.jpeg/.png images (with subfolders, sorted, no \
        labels), or one such image. --out X.npy writes float32 [N, D]; X.npz writes `embeddings` (float32 [N, D]), \
        `labels` (int64 [N], -1 without a label) and `paths` (unicode [N]); np.load reads both. \
        The file is written under a temp name and renamed. A progress line goes to stderr.
        """
    )

    @OptionGroup var model: EmbeddingModelOptions
    @Option(help: "Image list (`path label` lines, or SOP), a folder of images, or one image.") var images: String
    @Option(name: [.customLong("image-root"), .customLong("root")], help: "Folder the list's paths are relative to (default: the list's folder).")
    var root: String?
    @Option(help: "Output .npy or .npz file.") var out: String
    @Option(name: .customLong("batch-size"), help: "Images per model run.") var batchSize = 32

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard out.hasSuffix(".npy") || out.hasSuffix(".npz") else { throw ValidationError("--out must end in .npy or .npz, got \(out)") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder) else { throw ValidationError("no such folder for --out: \(folder)") }
        let items = try EmbeddingExport.items(images: images, root: root)
        let model = try self.model.load()
        let start = Date()
        let embeddings = try EmbeddingExport.run(model: model, items: items, batchSize: batchSize, to: URL(fileURLWithPath: out)) { done, total in
            let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
            FileHandle.standardError.write(Data(String(format: "\rexport-embeddings: %d/%d images, %.1f img/s", done, total, rate).utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        let labelled = items.filter { $0.label != nil }.count
        print("wrote \(out): \(embeddings.shape[0]) × \(embeddings.shape[1]) float32 (\(labelled) labelled), model \(model.arch) \(model.fingerprint)")
    }
}
