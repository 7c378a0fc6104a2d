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

        --filter label=3,7 keeps items with those labels; --filter KEY=VALUE items whose metadata \
        JSON has that top-level value (repeatable; all must hold). The filter acts inside the \
        search, so --k results come back whenever k items pass it. --min-score S drops neighbours \
        scoring below S (inner-product galleries), so a query with nothing close gets "no match". \
        --exclude-self leaves out the item stored under the query's own path, so a query taken from \
        the gallery shows its real neighbours instead of itself at rank 1.
        """
    )

    @OptionGroup var model: EmbeddingModelOptions
    @Option(help: "Gallery folder.") var gallery: String
    @Option(help: "Query image file or folder (repeatable).") var image: [String]
    @Option(help: "Neighbours per query.") var k = 10
    @Flag(help: "Re-rank the neighbours with k-reciprocal encoding.") var rerank = false
    @Option(name: .customLong("rerank-depth"), help: "Re-rank within each query's N nearest (default: the whole gallery).")
    var rerankDepth: Int?
    @Option(name: .customLong("rerank-k1"), help: "k-reciprocal neighbourhood size k1.") var rerankK1 = 20
    @Option(name: .customLong("rerank-k2"), help: "Local query expansion size k2.") var rerankK2 = 6
    @Option(name: .customLong("rerank-lambda"), help: "Weight of the original distance in the final one.") var rerankLambda: Float = 0.3
    @Option(help: "Only items with label=L1,L2 or metadata KEY=VALUE (repeatable).") var filter: [String] = []
    @Option(name: .customLong("min-score"), help: "Drop neighbours scoring below this (no match when none is left).")
    var minScore: Float?
    @Flag(name: .customLong("exclude-self"),
          help: "Leave out the gallery item stored under the query image's own path (for queries taken from the gallery).")
    var excludeSelf = false
    @Flag(help: "One JSON object per query.") var json = false
    @Option(help: "Write an HTML page of the results here.") var html: String?
    @Option(name: .customLong("label-of"), help: "Label of each query, in order (comma-separated), to mark correct neighbours.")
    var labelOf: String?

    func run() throws {
        guard k > 0 else { throw ValidationError("--k must be positive, got \(k)") }
        let model = try self.model.load()
        let searchable = try SearchableGallery(path: gallery, readOnly: true)
        try searchable.checkCompatible(dimension: model.embeddingSize, fingerprint: model.fingerprint)
        let paths = try image.flatMap(ImageFiles.list)
        guard !paths.isEmpty else { throw ValidationError("no query images found in \(image.joined(separator: ", "))") }
        let labels = labelOf?.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let embeddings = try model.embed(paths: paths)
        // One more neighbour than asked when the query itself may be among them.
        let found = try searchable.search(embeddings.data, k: excludeSelf ? k + 1 : k,
                                          reranker: rerank ? KReciprocalReRanker(k1: rerankK1, k2: rerankK2, lambda: rerankLambda) : nil,
                                          depth: rerankDepth, filter: filter.isEmpty ? nil : try GalleryFilter(parsing: filter),
                                          minScore: minScore)
        var page = QueryReport(title: "magpie query: \(gallery)")
        for (q, path) in paths.enumerated() {
            let hits = excludeSelf ? Self.excludingImage(path, from: found.hits[q], keep: k) : found.hits[q]
            let queryLabel = labels.flatMap { q < $0.count ? $0[q] : nil }
            if json {
                let items = hits.map { h in
                    ["rank": h.rank, "id": h.id, "score": Double(h.score), "label": h.record.label as Any, "path": h.record.path as Any]
                }
                let data = try JSONSerialization.data(withJSONObject: ["query": path, "neighbours": items], options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("query \(path)" + (hits.isEmpty ? ": no match" : ""))
                for h in hits {
                    print(String(format: "  %2d  %.4f  id %lld  label %@  %@", h.rank, h.score, h.id,
                                 (h.record.label.map(String.init) ?? "-") as NSString, (h.record.path ?? "-") as NSString))
                }
            }
            page.add(query: path, label: queryLabel, hits: hits)
        }
        if let html {
            try page.write(to: URL(fileURLWithPath: html))
            print("wrote \(html)")
        }
    }

    /// `hits` without the item stored under `path` (compared as absolute, standardised paths),
    /// renumbered and cut to `keep`.
    static func excludingImage(_ path: String, from hits: [GalleryHit], keep: Int) -> [GalleryHit] {
        func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
        let own = canonical(path)
        var kept = hits.filter { $0.record.path.map(canonical) != own }.prefix(keep).map { $0 }
        for i in kept.indices { kept[i].rank = i + 1 }
        return kept
    }
}
