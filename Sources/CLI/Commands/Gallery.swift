import ArgumentParser

/// `magpie gallery …`: LMDB gallery folders.
struct GalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Create, fill, inspect and export LMDB galleries.",
        discussion: """
        A gallery is a folder holding one LMDB environment (data.mdb, lock.mdb) with the databases \
        `vectors` (big-endian int64 id → dim × float32), `items` (id → JSON label/path/metadata) and \
        `meta` (manifest: embedding_size, dist_type IP|L2, count, model, fingerprint, created, \
        updated, format_version). Every batch is one transaction: a crash loses at most the batch \
        being written. Vectors of another dimension or model fingerprint are refused.

        `build` embeds an image list into a new or existing gallery; `add` embeds more images \
        (lists, files, folders) with the gallery's model; `remove` deletes items by id; `import` \
        and `export` move embeddings in and out (`export --format npy|parquet|ndjson` writes a folder \
        for bulk import into Milvus, Qdrant, OpenSearch or Vespa); `index` chooses exact, HNSW or \
        IVF-PQ search and builds the index; `stats` prints the manifest. `magpie serve` does the same live over HTTP.
        """,
        subcommands: [GalleryBuildCommand.self, GalleryAddCommand.self, GalleryRemoveCommand.self, GalleryImportCommand.self, GalleryExportCommand.self, GalleryIndexCommand.self, GalleryStatsCommand.self]
    )
}
