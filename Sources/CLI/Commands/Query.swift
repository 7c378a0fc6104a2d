import ArgumentParser
import Datasets
import Engine
import Foundation
import Retrieval

/// `magpie query`: nearest gallery items for query images.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Find the nearest gallery products for query images.",
        discussion: """
        Embeds each --image (a file, or every .jpg/.jpeg/.png in a folder and its subfolders) with the config's model and \
        eval preprocessing, refuses a gallery built with another model fingerprint, and prints rank, \
        score (cosine similarity), id, label and path of the --k nearest items. --json prints one JSON \
        object per query; --html writes a page with each query and its neighbours as thumbnails \
        (neighbours sharing the query's label, when --label-of gives it, are marked). Without -c, \
        --weights must be a checkpoint written by `magpie train` (its metadata holds the config); \
        --bundle DIR (from `magpie export --format bundle`) replaces -c and --weights.

        --rerank applies k-reciprocal re-ranking (Zhong et al. 2017; k1, k2, lambda as in \
        PaddleClas's re_ranking) to the queries against the whole gallery; scores then are the \
        negated re-ranked distances. --rerank-depth N re-ranks only each query's N nearest \
        (bounds the cost on large galleries).
        """
    )

    @OptionGroup var config: ConfigOptions
    @Option(name: [.customLong("weights"), .customLong("model")], help: "Checkpoint with the trained weights (--model is an alias).")
    var weights: String?
    @Option(help: "Inference bundle (`magpie export --format bundle`) instead of -c/--weights.") var bundle: String?
    @Option(help: "Gallery folder.") var gallery: String
    @Option(help: "Query image file or folder (repeatable).") var image: [String]
    @Option(help: "Neighbours per query.") var k = 10
    @Flag(help: "Re-rank the neighbours with k-reciprocal encoding.") var rerank = false
    @Option(name: .customLong("rerank-depth"), help: "Re-rank within each query's N nearest (default: the whole gallery).")
    var rerankDepth: Int?
    @Option(name: .customLong("rerank-k1"), help: "k-reciprocal neighbourhood size k1.") var rerankK1 = 20
    @Option(name: .customLong("rerank-k2"), help: "Local query expansion size k2.") var rerankK2 = 6
    @Option(name: .customLong("rerank-lambda"), help: "Weight of the original distance in the final one.") var rerankLambda: Float = 0.3
    @Flag(help: "One JSON object per query.") var json = false
    @Option(help: "Write an HTML page of the results here.") var html: String?
    @Option(name: .customLong("label-of"), help: "Label of each query, in order (comma-separated), to mark correct neighbours.")
    var labelOf: String?

    func run() throws {
        guard k > 0 else { throw ValidationError("--k must be positive, got \(k)") }
        let model = try config.inferenceModel(weights: weights, bundle: bundle)
        let store = try Gallery.open(at: gallery, readOnly: true)
        try store.checkCompatible(dimension: model.embeddingSize, fingerprint: model.fingerprint)
        let snapshot = try store.snapshot()
        let index = try FlatIndex(snapshot)
        let paths = try image.flatMap(ImageFiles.list)
        guard !paths.isEmpty else { throw ValidationError("no query images found in \(image.joined(separator: ", "))") }
        let labels = labelOf?.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let embeddings = try model.embed(paths: paths)
        let results = rerank
            ? try index.searchReRanked(embeddings.data, k: k,
                                       reranker: KReciprocalReRanker(k1: rerankK1, k2: rerankK2, lambda: rerankLambda),
                                       depth: rerankDepth)
            : try index.search(embeddings.data, k: k)
        var page = HTMLReport(title: "magpie query: \(gallery)")
        for (q, path) in paths.enumerated() {
            let ids = Array(results.ids(ofQuery: q)), scores = Array(results.scores(ofQuery: q))
            let hits: [(id: Int64, score: Float, record: GalleryRecord?)] = zip(ids, scores).filter { $0.0 >= 0 }.map { id, score in
                (id, score, index.index(of: id).map { snapshot.records[$0] })
            }
            let queryLabel = labels.flatMap { q < $0.count ? $0[q] : nil }
            if json {
                let items = hits.enumerated().map { r, h in
                    ["rank": r + 1, "id": h.id, "score": Double(h.score), "label": h.record?.label as Any, "path": h.record?.path as Any]
                }
                let data = try JSONSerialization.data(withJSONObject: ["query": path, "neighbours": items], options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("query \(path)")
                for (r, h) in hits.enumerated() {
                    print(String(format: "  %2d  %.4f  id %lld  label %@  %@", r + 1, h.score, h.id,
                                 (h.record?.label.map(String.init) ?? "-") as NSString, (h.record?.path ?? "-") as NSString))
                }
            }
            page.add(query: path, label: queryLabel, neighbours: hits.map { ($0.record?.path ?? "", $0.score, $0.record?.label) })
        }
        if let html {
            try page.write(to: URL(fileURLWithPath: html))
            print("wrote \(html)")
        }
    }
}

/// A static page: one row per query with its neighbours as thumbnails (images referenced by absolute path).
struct HTMLReport {
    let title: String
    private var rows: [String] = []

    init(title: String) { self.title = title }

    mutating func add(query: String, label: Int64?, neighbours: [(path: String, score: Float, label: Int64?)]) {
        let cells = neighbours.map { n -> String in
            let correct = label != nil && n.label == label
            return "<figure class=\"\(correct ? "hit" : "miss")\"><img src=\"\(HTMLReport.src(n.path))\"><figcaption>"
                + String(format: "%.3f", n.score) + (correct ? " ✓" : "") + "</figcaption></figure>"
        }.joined()
        rows.append("<div class=\"row\"><figure class=\"query\"><img src=\"\(HTMLReport.src(query))\"><figcaption>query"
                    + (label.map { " (label \($0))" } ?? "") + "</figcaption></figure>" + cells + "</div>")
    }

    static func src(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.absoluteString
        return absolute.replacingOccurrences(of: "\"", with: "%22")
    }

    func write(to url: URL) throws {
        let style = """
        body{font-family:sans-serif;margin:1em} .row{display:flex;gap:6px;margin-bottom:10px;align-items:flex-start}
        figure{margin:0;text-align:center;font-size:11px} img{width:96px;height:96px;object-fit:contain;border:3px solid #ddd}
        .query img{border-color:#36c} .hit img{border-color:#2a2} .miss img{border-color:#ddd}
        """
        let body = "<!doctype html><meta charset=\"utf-8\"><title>\(title)</title><style>\(style)</style><h1>\(title)</h1>"
            + rows.joined(separator: "\n")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(body.utf8).write(to: url, options: .atomic)
    }
}
