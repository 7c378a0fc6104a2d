import ArgumentParser
import Foundation
import GalleryExport
import Retrieval
import TensorCore

/// `magpie gallery export`: a gallery as files a vector database bulk-imports, with a manifest
/// and exact top-k answers for measuring the target's recall.
struct GalleryExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a gallery for bulk import into Milvus, Qdrant, OpenSearch or Vespa (or to .npz/.ndjson).",
        discussion: """
        --out DIR writes a folder: the data files of --format, manifest.json (count, dimension, \
        metric, model, fingerprint, preprocessing, magpie version) and exact_topk.json (the exact \
        top-k neighbours of --sample seeded items, self excluded, to measure a target's recall@k). \
        npy: id.npy int64, vector.npy float32 [N, dim], label.npy int64 (-1 = none), path.npy and \
        metadata.npy numpy unicode arrays — Milvus NumPy import (files named after fields). \
        parquet: gallery.parquet with id int64, vector list<float>, label, path, metadata (JSON \
        text) — Milvus Parquet import, pyarrow, Spark. ndjson: gallery.ndjson in a --flavor: plain \
        rows (what `gallery import` reads), opensearch (_bulk action + document lines, with \
        opensearch_index.json), vespa (feed operations, with a .sd schema), qdrant (points, with \
        qdrant_collection.json). The folder is written under a temporary name beside DIR and \
        renamed when complete; an existing DIR is refused unless --force.

        --output FILE keeps the single-file exports: .npz (vectors, ids, labels, paths; label -1 = none) \
        or .ndjson/.jsonl plain rows.
        """
    )

    @Option(help: "Gallery folder.") var gallery: String
    @Option(help: "Output folder for --format.") var out: String?
    @Option(help: "npy, parquet or ndjson.") var format: String?
    @Option(help: "NDJSON row shape: plain, opensearch, vespa or qdrant.") var flavor = "plain"
    @Option(help: "Items in the exact top-k sample (0 for none).") var sample = 100
    @Option(help: "Neighbours per sampled item in exact_topk.json.") var k = 10
    @Option(help: "Seed that picks the sample.") var seed: UInt64 = 0
    @Option(name: .customLong("row-group-size"), help: "Parquet rows per row group.") var rowGroupSize = 65_536
    @Option(help: "OpenSearch index name in the _bulk action lines.") var index = "magpie"
    @Option(help: "Vespa document id namespace.") var namespace = "magpie"
    @Option(name: .customLong("document-type"), help: "Vespa document type (schema name).") var documentType = "image"
    @Flag(help: "Replace an existing output folder.") var force = false
    @Option(help: "Single output file instead: .npz or .ndjson/.jsonl.") var output: String?

    func validate() throws {
        guard (out == nil) != (output == nil) else { throw ValidationError("give either --out DIR (with --format) or --output FILE") }
        if out != nil, format == nil { throw ValidationError("--out needs --format npy, parquet or ndjson") }
        if output != nil, format != nil { throw ValidationError("--format goes with --out DIR; --output FILE takes its format from the file name") }
        guard k > 0, sample >= 0, rowGroupSize > 0 else { throw ValidationError("--k and --row-group-size must be positive, --sample 0 or more") }
        if let format, GalleryExportFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)': use npy, parquet or ndjson")
        }
        if NDJSONFlavor(rawValue: flavor) == nil {
            throw ValidationError("unknown --flavor '\(flavor)': use \(NDJSONFlavor.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let snap = try Gallery.open(at: gallery, readOnly: true).snapshot()
        if let output { return try writeSingleFile(snap, to: output) }
        var options = GalleryExportOptions(format: GalleryExportFormat(rawValue: format!)!)
        options.flavor = NDJSONFlavor(rawValue: flavor)!
        options.target.index = index
        options.target.namespace = namespace
        options.target.documentType = documentType
        options.sampleSize = sample
        options.k = k
        options.seed = seed
        options.rowGroupSize = rowGroupSize
        options.force = force
        options.magpieVersion = Magpie.version
        let start = Date()
        let summary = try GalleryExporter.export(snap, to: out!, options: options)
        let m = summary.manifest
        print("exported \(m.count) vectors (dimension \(m.dimension), \(m.metric.rawValue)) to \(out!) in "
              + String(format: "%.2f s", Date().timeIntervalSince(start)))
        for file in m.files {
            let name = file.name.padding(toLength: max(24, file.name.count), withPad: " ", startingAt: 0)
            print("  \(name)" + String(format: "%12d bytes  %7.3f s  ", file.bytes, summary.seconds[file.name] ?? 0) + file.content)
        }
    }

    private func writeSingleFile(_ snap: GallerySnapshot, to output: String) throws {
        if output.hasSuffix(".npz") {
            try NPZ.write(["vectors": Tensor(shape: [snap.ids.count, snap.manifest.dimension], data: snap.vectors)],
                          int64Arrays: ["ids": Int64Array(snap.ids), "labels": Int64Array(snap.labels.map { $0 ?? -1 })],
                          strings: ["paths": snap.records.map { $0.path ?? "" }],
                          to: URL(fileURLWithPath: output))
        } else if output.hasSuffix(".ndjson") || output.hasSuffix(".jsonl") {
            try GalleryExporter.writeNDJSON(snap, to: output)
        } else {
            throw ValidationError("--output must end in .npz, .ndjson or .jsonl (or use --out DIR --format ...)")
        }
        print("exported \(snap.ids.count) vectors (dimension \(snap.manifest.dimension)) to \(output)")
    }
}
