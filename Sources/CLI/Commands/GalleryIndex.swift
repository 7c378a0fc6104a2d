import ArgumentParser
import Foundation
import Retrieval

/// `magpie gallery index`: chooses the index a gallery searches with and builds it.
struct GalleryIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Choose a gallery's search index (flat, HNSW or IVF-PQ) and build it.",
        discussion: """
        The choice is recorded in the gallery's manifest, so `query`, `serve` and `eval --gallery` \
        search with it. An HNSW graph or IVF-PQ index (IVF<nlist>,PQ<m>) is derived from the LMDB \
        data and saved as index.hnsw / index.ivfpq in the gallery folder, stamped with the LMDB \
        transaction it reflects; whoever opens the gallery later loads it when the stamp matches, \
        brings it up to date after writes by `gallery add` or another process, and rebuilds it \
        when it is missing or damaged (a crash). Changing only a search setting (--ef-search, \
        --nprobe, --rescore) keeps the file. `--index flat` goes back to exact search. See \
        README, "Choosing an index".
        """
    )

    @Option(help: "Gallery folder.") var gallery: String
    @OptionGroup var index: IndexOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard let spec = try index.spec() else { throw ValidationError("give --index flat, hnsw / HNSW<M> or ivfpq / IVF<nlist>,PQ<m>") }
        let previous = try Gallery.open(at: gallery).setIndex(spec)
        let start = Date()
        let opened = try SearchableGallery(path: gallery, log: { print($0) })
        let seconds = Date().timeIntervalSince(start)
        let snapshot = opened.loadedSnapshot
        opened.close()
        let file = GalleryIndexFile.url(gallery: gallery, spec: spec)
        let fileBytes = file.flatMap { try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int } ?? 0
        if json {
            let object: [String: Any] = ["gallery": gallery, "index": "\(spec)", "previous": "\(previous)", "count": snapshot.count,
                                         "seconds": seconds, "memory_bytes": snapshot.indexBytes, "file_bytes": fileBytes]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "gallery %@: %@ over %d items (was %@); opened in %.1f s, %.1f MB in memory%@", gallery, "\(spec)",
                         snapshot.count, "\(previous)", seconds, Double(snapshot.indexBytes) / 1e6,
                         file.map { String(format: ", %@ %.1f MB", $0.lastPathComponent, Double(fileBytes) / 1e6) } ?? ""))
        }
    }
}
