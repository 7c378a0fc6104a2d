import Foundation

/// A gallery: one LMDB environment holding vectors (`vectors`: big-endian id → D little-endian
/// Float32), records (`items`: id → JSON label/path/metadata) and a manifest (`meta`).
///
/// Every mutating call is one write transaction: it commits whole or throws and leaves the
/// gallery as it was. Other processes may read while one writes.
public final class Gallery: @unchecked Sendable {
    public let path: String
    private(set) var environment: LMDBEnvironment
    private let readOnly: Bool
    static let databaseNames = ["vectors", "items", "meta"]
    static let manifestKey = Array("manifest".utf8)
    /// Ids are 0...2^53 - 1: every id is exact as a JSON number (JavaScript reads numbers as
    /// doubles), and automatic ids can always count up without overflow. Galleries written by
    /// older versions may hold larger ids; they open, serve and can be deleted from.
    public static let maxID: Int64 = (1 << 53) - 1

    private init(path: String, environment: LMDBEnvironment, readOnly: Bool = false) {
        self.path = path
        self.environment = environment
        self.readOnly = readOnly
    }

    /// Creates an empty gallery at `path` (a folder, created if missing). Throws if one exists there.
    public static func create(at path: String, manifest: GalleryManifest) throws -> Gallery {
        guard manifest.dimension > 0 else {
            throw RetrievalError.invalidArgument("gallery dimension must be positive, got \(manifest.dimension)")
        }
        if FileManager.default.fileExists(atPath: path + "/data.mdb") { throw RetrievalError.galleryExists(path: path) }
        let env = try LMDBEnvironment(path: path, databases: databaseNames, create: true)
        var m = manifest
        m.count = 0
        try env.write { txn in _ = try txn.put("meta", key: manifestKey, bytes: m.encoded()) }
        return Gallery(path: path, environment: env)
    }

    /// Opens an existing gallery.
    public static func open(at path: String, readOnly: Bool = false) throws -> Gallery {
        guard FileManager.default.fileExists(atPath: path) else { throw RetrievalError.galleryMissing(path: path) }
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw RetrievalError.notAGallery(path: path, reason: "no data.mdb inside")
        }
        let env = try LMDBEnvironment(path: path, databases: databaseNames, create: false, readOnly: readOnly)
        let gallery = Gallery(path: path, environment: env, readOnly: readOnly)
        let m = try gallery.manifest()
        guard m.formatVersion <= GalleryManifest.currentFormatVersion else {
            throw RetrievalError.notAGallery(path: path, reason: "format version \(m.formatVersion) is newer than this magpie understands; upgrade magpie")
        }
        return gallery
    }

    /// Opens the gallery at `path`, or creates it with `manifest` when there is none; then checks
    /// that its dimension, metric and fingerprint agree with `manifest`.
    public static func openOrCreate(at path: String, manifest: GalleryManifest) throws -> Gallery {
        if FileManager.default.fileExists(atPath: path + "/data.mdb") {
            let g = try open(at: path)
            try g.checkCompatible(dimension: manifest.dimension, metric: manifest.metric, fingerprint: manifest.fingerprint)
            return g
        }
        return try create(at: path, manifest: manifest)
    }

    /// The manifest as last committed.
    public func manifest() throws -> GalleryManifest {
        try environment.read { try manifest(in: $0) }
    }

    func manifest(in txn: LMDBTransaction) throws -> GalleryManifest {
        guard let bytes = try txn.get("meta", key: Self.manifestKey) else {
            throw RetrievalError.notAGallery(path: path, reason: "it has no manifest")
        }
        return try GalleryManifest.decode(bytes, path: path)
    }

    /// Throws unless vectors of `dimension` from a model with `fingerprint` belong here. An empty
    /// fingerprint on either side is not checked; `metric` nil is not checked.
    public func checkCompatible(dimension: Int, metric: DistanceMetric? = nil, fingerprint: String = "") throws {
        let m = try manifest()
        guard m.dimension == dimension else {
            throw RetrievalError.dimensionMismatch(expected: m.dimension, got: dimension, context: "gallery \(path)")
        }
        if let metric, metric != m.metric {
            throw RetrievalError.metricMismatch(expected: m.metric.rawValue, got: metric.rawValue)
        }
        if !fingerprint.isEmpty, !m.fingerprint.isEmpty, fingerprint != m.fingerprint {
            throw RetrievalError.fingerprintMismatch(expected: m.fingerprint, got: fingerprint)
        }
    }

    // MARK: Writing

    /// Records the index searches should use (one transaction; none when it is already the
    /// choice). A derived index file that was current and holds the same index (only a search
    /// setting changed: efSearch, nprobe, rescore) is re-stamped; otherwise the next `SearchableGallery` to open the gallery
    /// rebuilds it. Returns the previous choice.
    @discardableResult
    public func setIndex(_ spec: IndexSpec) throws -> IndexSpec {
        guard !readOnly else { throw RetrievalError.invalidArgument("the gallery \(path) is open read-only") }
        let before = try lastTransactionID()
        let (previous, count) = try environment.write { txn -> (IndexSpec, Int) in
            var m = try manifest(in: txn)
            guard m.indexSpec != spec else { return (spec, m.count) }
            let previous = m.indexSpec
            m.index = spec == .flat ? nil : spec
            _ = try txn.put("meta", key: Self.manifestKey, bytes: m.encoded())
            return (previous, m.count)
        }
        if previous != spec {
            GalleryIndexFile.restamp(gallery: path, spec: spec, from: GalleryIndexFile.stamp(transaction: before, count: count),
                                     to: GalleryIndexFile.stamp(transaction: try lastTransactionID(), count: count))
        }
        return previous
    }

    /// Adds new items in one transaction. Nothing is written if any id exists already or repeats,
    /// any vector has the wrong dimension or a NaN/infinity.
    public func add(_ items: [GalleryItem]) throws {
        try write(items, overwrite: false)
    }

    /// Adds `ids.count` vectors stored row-major in `vectors` (and optional records) in one transaction.
    public func add(ids: [Int64], vectors: [Float], records: [GalleryRecord]? = nil) throws {
        try write(ids: ids, vectors: vectors, records: records, overwrite: false)
    }

    /// Adds or replaces items in one transaction.
    public func upsert(_ items: [GalleryItem]) throws {
        try write(items, overwrite: true)
    }

    public func upsert(ids: [Int64], vectors: [Float], records: [GalleryRecord]? = nil) throws {
        try write(ids: ids, vectors: vectors, records: records, overwrite: true)
    }

    private func write(_ items: [GalleryItem], overwrite: Bool) throws {
        let d = try manifest().dimension
        for item in items where item.vector.count != d {
            throw RetrievalError.dimensionMismatch(expected: d, got: item.vector.count, context: "gallery \(path), id \(item.id)")
        }
        try write(ids: items.map(\.id), vectors: items.flatMap(\.vector), records: items.map(\.record), overwrite: overwrite)
    }

    /// Adds items, assigning fresh ids to those whose requested id is nil, in one transaction.
    /// Automatic ids come from the manifest's `nextID` (never below the largest stored id + 1), so
    /// they never collide with ids written by another process. Returns the ids and the
    /// transaction id of the commit.
    public func add(vectors: [Float], records: [GalleryRecord], requestedIDs: [Int64?]) throws -> (ids: [Int64], transaction: Int) {
        guard records.count == requestedIDs.count else {
            throw RetrievalError.invalidArgument("\(requestedIDs.count) ids but \(records.count) records")
        }
        var explicit = Set<Int64>()
        for case let id? in requestedIDs where !explicit.insert(id).inserted { throw RetrievalError.duplicateID(id: id) }
        // Explicit ids are validated with the rest in `write`; the placeholders (0) are replaced
        // inside the transaction, where the stored ids and the manifest are current.
        var assigned: [Int64] = []
        let transaction = try write(ids: requestedIDs.map { $0 ?? 0 }, vectors: vectors, records: records, overwrite: false,
                                    skipDuplicateCheck: true) { txn, manifest in
            var next = try self.nextAutomaticID(in: txn, manifest: manifest)
            var assignedSoFar = Set<Int64>()
            assigned = try requestedIDs.map { requested in
                if let requested { return requested }
                while next <= Self.maxID, try explicit.contains(next) || txn.get("vectors", key: Self.key(next)) != nil { next += 1 }
                if next > Self.maxID {
                    // Counting up reached the end of the range (someone stored an id near 2^53):
                    // fill the lowest free id instead of refusing.
                    guard let free = try self.firstFreeID(in: txn, skipping: explicit.union(assignedSoFar)) else {
                        throw RetrievalError.idsExhausted(after: Self.maxID)
                    }
                    assignedSoFar.insert(free)
                    return free
                }
                assignedSoFar.insert(next)
                defer { next += 1 }
                return next
            }
            return assigned
        }
        return (assigned, transaction)
    }

    /// The smallest id in 0...maxID that is neither stored nor in `skipping` (O(stored ids); only
    /// used once automatic ids have counted up to the end of the range).
    func firstFreeID(in txn: LMDBTransaction, skipping: Set<Int64>) throws -> Int64? {
        var candidate: Int64 = 0
        try txn.forEachKey("vectors", from: Self.key(0)) { key in
            let id = Self.id(key)
            while skipping.contains(candidate) { candidate += 1 }
            guard id <= candidate else { return false }  // a gap before this key
            if id == candidate { candidate += 1 }
            return candidate <= Self.maxID
        }
        while skipping.contains(candidate) { candidate += 1 }
        return candidate <= Self.maxID ? candidate : nil
    }

    /// One past the largest id automatic ids have used or that is stored (within `maxID`).
    func nextAutomaticID(in txn: LMDBTransaction, manifest: GalleryManifest) throws -> Int64 {
        var next = manifest.nextID ?? 0
        if let last = try txn.lastKey("vectors", before: Self.key(Self.maxID + 1)) {
            next = max(next, last.withUnsafeBytes { Self.id($0) } + 1)
        }
        return next
    }

    @discardableResult
    private func write(ids: [Int64], vectors: [Float], records: [GalleryRecord]?, overwrite: Bool,
                       skipDuplicateCheck: Bool = false,
                       assignIDs: ((LMDBTransaction, GalleryManifest) throws -> [Int64])? = nil) throws -> Int {
        // Validate everything before the transaction so a bad batch writes nothing.
        let d = try manifest().dimension
        guard vectors.count == ids.count * d else {
            throw RetrievalError.dimensionMismatch(expected: d, got: ids.isEmpty ? vectors.count : vectors.count / ids.count,
                                                   context: "gallery \(path)")
        }
        if let records, records.count != ids.count {
            throw RetrievalError.invalidArgument("\(ids.count) ids but \(records.count) records")
        }
        var seen = Set<Int64>(minimumCapacity: ids.count)
        for (i, id) in ids.enumerated() {
            guard (0...Self.maxID).contains(id) else { throw RetrievalError.invalidID(id: id) }
            guard skipDuplicateCheck || seen.insert(id).inserted else { throw RetrievalError.duplicateID(id: id) }
            for j in (i * d)..<((i + 1) * d) where !vectors[j].isFinite { throw RetrievalError.nonFiniteVector(id: id) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try vectors.withUnsafeBytes { raw in
            try environment.write { txn in
                var m = try manifest(in: txn)
                let ids = try assignIDs?(txn, m) ?? ids
                for (i, id) in ids.enumerated() {
                    let key = Self.key(id)
                    let row = UnsafeRawBufferPointer(rebasing: raw[(i * d * 4)..<((i + 1) * d * 4)])
                    let inserted = try txn.put("vectors", key: key, value: row, noOverwrite: !overwrite)
                    if !overwrite, !inserted { throw RetrievalError.duplicateID(id: id) }
                    let record = records?[i] ?? GalleryRecord()
                    if record.isEmpty {
                        if overwrite { try txn.delete("items", key: key) }
                    } else {
                        _ = try txn.put("items", key: key, bytes: Array(try encoder.encode(record)))
                    }
                }
                m.count = try txn.count("vectors")
                m.updated = Date()
                if let largest = ids.filter({ $0 <= Self.maxID }).max() { m.nextID = max(m.nextID ?? 0, largest + 1) }
                _ = try txn.put("meta", key: Self.manifestKey, bytes: m.encoded())
                return txn.id
            }
        }
    }

    /// Deletes the given ids in one transaction; returns how many existed.
    @discardableResult
    public func delete(_ ids: [Int64]) throws -> Int {
        try deleteReportingTransaction(ids).removed
    }

    /// `delete` that also returns the id of the committing transaction.
    public func deleteReportingTransaction(_ ids: [Int64]) throws -> (removed: Int, transaction: Int) {
        try environment.write { txn in
            var m = try manifest(in: txn)
            m.nextID = try nextAutomaticID(in: txn, manifest: m)  // before deleting: deleted ids stay used
            var removed = 0
            for id in ids {
                let key = Self.key(id)
                if try txn.delete("vectors", key: key) { removed += 1 }
                try txn.delete("items", key: key)
            }
            m.count = try txn.count("vectors")
            m.updated = Date()
            _ = try txn.put("meta", key: Self.manifestKey, bytes: m.encoded())
            return (removed, txn.id)
        }
    }

    // MARK: Reading

    /// The item stored under `id`, or nil.
    public func item(_ id: Int64) throws -> GalleryItem? {
        try environment.read { txn in
            let key = Self.key(id)
            guard let bytes = try txn.get("vectors", key: key) else { return nil }
            let vector = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            var record = GalleryRecord()
            if let r = try txn.get("items", key: key) {
                record = (try? JSONDecoder().decode(GalleryRecord.self, from: Data(r))) ?? GalleryRecord()
            }
            return GalleryItem(id: id, vector: vector, record: record)
        }
    }

    /// Every vector, id and record in id order, read from one consistent snapshot.
    public func snapshot() throws -> GallerySnapshot {
        try environment.read { txn in
            let m = try manifest(in: txn)
            let d = m.dimension
            var ids: [Int64] = []
            var vectors: [Float] = []
            let n = try txn.count("vectors")
            ids.reserveCapacity(n)
            vectors.reserveCapacity(n * d)
            try txn.forEach("vectors") { k, v in
                guard k.count == 8 else {
                    throw RetrievalError.corrupt(path: path, reason: "a vector key has \(k.count) bytes, expected 8")
                }
                guard v.count == d * 4 else {
                    throw RetrievalError.corrupt(path: path, reason: "the vector of id \(Self.id(k)) has \(v.count) bytes, expected \(d * 4)")
                }
                ids.append(Self.id(k))
                vectors.append(contentsOf: v.bindMemory(to: Float.self))
            }
            var records = [GalleryRecord](repeating: GalleryRecord(), count: ids.count)
            var position: [Int64: Int] = [:]
            position.reserveCapacity(ids.count)
            for (i, id) in ids.enumerated() { position[id] = i }
            let decoder = JSONDecoder()
            try txn.forEach("items") { k, v in
                if let i = position[Self.id(k)], let r = try? decoder.decode(GalleryRecord.self, from: Data(v)) {
                    records[i] = r
                }
            }
            return GallerySnapshot(manifest: m, ids: ids, vectors: vectors, records: records, transaction: txn.id)
        }
    }

    /// Rewrites the environment without free pages (after many deletes). Needs exclusive access:
    /// no other process may have the gallery open.
    public func compact() throws {
        let tmp = path + "/.compact-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try environment.copyCompacted(to: tmp)
        // rename() is atomic: readers see the old file or the compacted one, never a mix.
        guard rename(tmp + "/data.mdb", path + "/data.mdb") == 0 else {
            throw RetrievalError.invalidInput(path: path, reason: "cannot replace data.mdb with the compacted copy (errno \(errno))")
        }
        environment.close()
        environment = try LMDBEnvironment(path: path, databases: Self.databaseNames, create: false, readOnly: readOnly)
    }

    /// Closes the LMDB environment now (a service's shutdown); the gallery must not be used after.
    public func close() {
        environment.close()
    }

    /// Id of the last transaction committed to this gallery by any process.
    public func lastTransactionID() throws -> Int { try environment.lastTransactionID() }

    /// The image paths stored in the items' records. Reads every record: for resuming an
    /// interrupted CLI run, not for per-request work.
    public func storedPaths() throws -> Set<String> {
        try environment.read { txn in
            var paths = Set<String>()
            let decoder = JSONDecoder()
            try txn.forEach("items") { _, v in
                if let p = (try? decoder.decode(GalleryRecord.self, from: Data(v)))?.path { paths.insert(p) }
            }
            return paths
        }
    }

    /// Size of `data.mdb` on disk, in bytes.
    public func fileSize() -> Int { environment.dataFileSize }

    // MARK: Keys

    static func key(_ id: Int64) -> [UInt8] {
        withUnsafeBytes(of: UInt64(bitPattern: id).bigEndian) { Array($0) }
    }

    static func id(_ key: UnsafeRawBufferPointer) -> Int64 {
        Int64(bitPattern: UInt64(bigEndian: key.loadUnaligned(as: UInt64.self)))
    }
}

/// A gallery's contents at one moment, in id order.
public struct GallerySnapshot: Sendable {
    public var manifest: GalleryManifest
    public var ids: [Int64]
    /// Row-major `ids.count × manifest.dimension`.
    public var vectors: [Float]
    public var records: [GalleryRecord]
    /// The last committed LMDB transaction this snapshot reflects (0 when not read from a gallery).
    public var transaction: Int = 0
    public var labels: [Int64?] { records.map(\.label) }
}
