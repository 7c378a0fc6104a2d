import Datasets
import Foundation
import TensorCore

/// `magpie export-embeddings`: the embeddings of a set of images as `.npy` (float32 [N, D]) or
/// `.npz` (`embeddings` [N, D] float32, `labels` [N] int64 with -1 for unlabelled images, `paths`
/// [N] unicode strings), for analysis or another index outside Magpie.
public enum EmbeddingExport {
    public struct Item: Equatable, Sendable {
        public var path: String
        public var label: Int64?

        public init(path: String, label: Int64? = nil) { self.path = path; self.label = label }
    }

    /// The images of a list file (PaddleClas `path label` lines, or SOP's `Ebay_*.txt`; paths
    /// relative to `root`, default the list's folder), or of a folder or one image (sorted,
    /// unlabelled).
    public static func items(images: String, root: String? = nil) throws -> [Item] {
        guard FileManager.default.fileExists(atPath: images) else {
            throw EngineError.data("\(images): no such image list or folder")
        }
        if ImageFiles.namesImages(images) { return try ImageFiles.list(images).map { Item(path: $0) } }
        return try ImageListDataset.read(listFile: images, imageRoot: root).records.map { Item(path: $0.path, label: Int64($0.originalLabel)) }
    }

    /// Embeds `items` in batches and writes them to `url` (`.npy` or `.npz`, temp file + rename).
    /// `progress` gets (images done, total) after each batch. Returns the [N, D] embeddings.
    @discardableResult
    public static func run(model: InferenceModel, items: [Item], batchSize: Int = 32, to url: URL,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Tensor {
        let ext = url.pathExtension.lowercased()
        guard ext == "npy" || ext == "npz" else { throw EngineError.config("\(url.path): the output must end in .npy or .npz") }
        guard !items.isEmpty else { throw EngineError.data("no images to embed") }
        guard batchSize > 0 else { throw EngineError.config("the batch size must be positive, got \(batchSize)") }
        if ext == "npz" {  // checked before the (long) embedding, not after it
            try checkNPZFits(url, count: items.count, dimension: model.embeddingSize, pathWidth: NPY.unicodeWidth(items.map(\.path)))
        }
        var values: [Float] = []
        values.reserveCapacity(items.count * model.embeddingSize)
        for start in stride(from: 0, to: items.count, by: batchSize) {
            let batch = items[start..<min(start + batchSize, items.count)]
            values += try model.embed(paths: batch.map(\.path)).data
            progress(start + batch.count, items.count)
        }
        let embeddings = Tensor(shape: [items.count, model.embeddingSize], data: values)
        if ext == "npy" {
            try NPY.write(embeddings, to: url)
        } else {
            try NPZ.write(["embeddings": embeddings], int64Arrays: ["labels": Int64Array(items.map { $0.label ?? -1 })],
                          strings: ["paths": items.map(\.path)], to: url)
        }
        return embeddings
    }

    /// The array bytes of the `.npz` (float32 embeddings, int64 labels, `<U` paths of
    /// `pathWidth` characters), without the few hundred bytes of headers.
    static func npzPayloadBytes(count: Int, dimension: Int, pathWidth: Int) -> Int {
        count * dimension * 4 + count * 8 + count * pathWidth * 4
    }

    static func checkNPZFits(_ url: URL, count: Int, dimension: Int, pathWidth: Int) throws {
        let bytes = npzPayloadBytes(count: count, dimension: dimension, pathWidth: pathWidth)
        guard bytes + 4096 < NPZ.maximumArchiveBytes else {
            throw EngineError.config(String(format: "%@: %d images would make a %.1f GiB .npz, over the 4 GiB a zip without zip64 holds; "
                + "write .npy (embeddings only) or split the list", url.path, count, Double(bytes) / 1_073_741_824))
        }
    }
}
