import ArgumentParser
import Foundation
import Retrieval
import TensorCore

/// `magpie gallery export`: write a gallery's vectors, ids and labels to .npz or NDJSON.
struct GalleryExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a gallery to .npz (vectors, ids, labels) or NDJSON rows (id, vector, label, path, metadata).",
        discussion: """
        NDJSON rows load into vector databases and Parquet tools directly. In .npz, items without a \
        label get label -1. The file is written to a temporary name and renamed when complete.
        """
    )

    @Option(help: "Gallery folder.") var gallery: String
    @Option(help: "Output file: .npz or .ndjson/.jsonl.") var output: String

    func run() throws {
        let snap = try Gallery.open(at: gallery, readOnly: true).snapshot()
        let url = URL(fileURLWithPath: output)
        if output.hasSuffix(".npz") {
            try NPZ.write(["vectors": Tensor(shape: [snap.ids.count, snap.manifest.dimension], data: snap.vectors)],
                          int64Arrays: ["ids": Int64Array(snap.ids), "labels": Int64Array(snap.labels.map { $0 ?? -1 })],
                          to: url)
        } else if output.hasSuffix(".ndjson") || output.hasSuffix(".jsonl") {
            try writeNDJSON(snap, to: url)
        } else {
            throw ValidationError("--output must end in .npz, .ndjson or .jsonl")
        }
        print("exported \(snap.ids.count) vectors (dimension \(snap.manifest.dimension)) to \(output)")
    }

    private func writeNDJSON(_ snap: GallerySnapshot, to url: URL) throws {
        let d = snap.manifest.dimension
        var text = ""
        for (i, id) in snap.ids.enumerated() {
            text += "{\"id\":\(id),\"vector\":["
            text += snap.vectors[(i * d)..<((i + 1) * d)].map { "\($0)" }.joined(separator: ",")
            text += "]"
            let r = snap.records[i]
            if let label = r.label { text += ",\"label\":\(label)" }
            if let path = r.path {
                let quoted = String(decoding: try JSONSerialization.data(withJSONObject: path, options: .fragmentsAllowed), as: UTF8.self)
                text += ",\"path\":\(quoted)"
            }
            if let meta = r.metadata { text += ",\"metadata\":\(meta)" }
            text += "}\n"
        }
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(text.utf8).write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw RetrievalError.invalidInput(path: url.path, reason: "cannot write (\(error.localizedDescription))")
        }
    }
}
