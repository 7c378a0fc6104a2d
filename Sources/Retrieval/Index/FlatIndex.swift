import TensorCore

/// Exact nearest-neighbour search over vectors held in memory (FAISS `IndexFlatIP`/`IndexFlatL2`).
/// Search is blocked sgemm over query blocks × gallery chunks with a streaming top-k per query:
/// memory is one small tile per core plus the k results per query, whatever the gallery size.
/// Ties are broken by smaller id, so results are deterministic.
public final class FlatIndex: @unchecked Sendable {
    public let dimension: Int
    public let metric: DistanceMetric
    public private(set) var ids: [Int64] = []
    /// Row-major `count × dimension`.
    public private(set) var vectors: [Float] = []
    private var position: [Int64: Int] = [:]

    public var count: Int { ids.count }

    public init(dimension: Int, metric: DistanceMetric = .innerProduct) {
        precondition(dimension > 0, "dimension must be positive")
        self.dimension = dimension
        self.metric = metric
    }

    /// An index over a gallery snapshot (LMDB is the source of truth; this is rebuilt from it).
    public convenience init(_ snapshot: GallerySnapshot) throws {
        self.init(dimension: snapshot.manifest.dimension, metric: snapshot.manifest.metric)
        try add(ids: snapshot.ids, vectors: snapshot.vectors)
    }

    /// Appends vectors; ids must be new, non-negative and unique.
    public func add(ids newIDs: [Int64], vectors newVectors: [Float]) throws {
        try validateAdditions(ids: newIDs, vectors: newVectors, dimension: dimension, index: "FlatIndex.add") { position[$0] != nil }
        for (i, id) in newIDs.enumerated() { position[id] = ids.count + i }
        ids += newIDs
        vectors += newVectors
    }

    /// Position of `id` in `ids`, if present.
    public func index(of id: Int64) -> Int? { position[id] }

    /// A copy of `ids`/`vectors` without the ids in `gone` (one pass, order kept).
    public func without(_ gone: Set<Int64>) throws -> FlatIndex {
        let next = FlatIndex(dimension: dimension, metric: metric)
        if gone.isEmpty {
            try next.add(ids: ids, vectors: vectors)
            return next
        }
        var keptIDs: [Int64] = [], keptVectors: [Float] = []
        keptIDs.reserveCapacity(count)
        keptVectors.reserveCapacity(vectors.count)
        for (i, id) in ids.enumerated() where !gone.contains(id) {
            keptIDs.append(id)
            keptVectors += vectors[(i * dimension)..<((i + 1) * dimension)]
        }
        try next.add(ids: keptIDs, vectors: keptVectors)
        return next
    }

    /// The k best gallery entries for each of the row-major `queries`. When `excluding` is given
    /// (one id per query), a query never gets that id back — pass the queries' own ids to run
    /// the query = gallery protocol without self matches. When `allowed` is given (one flag per
    /// row, in `ids` order), only those rows can be returned: the filter acts inside the scan, so
    /// a query still gets k results when k rows pass it.
    public func search(_ queries: [Float], k: Int, excluding: [Int64]? = nil, allowed: [Bool]? = nil) throws -> SearchResults {
        guard k >= 0 else { throw RetrievalError.invalidArgument("k must be non-negative, got \(k)") }
        guard queries.count % dimension == 0 else {
            throw RetrievalError.dimensionMismatch(expected: dimension, got: queries.count, context: "queries (flattened length not a multiple)")
        }
        let nq = queries.count / dimension
        if let excluding, excluding.count != nq {
            throw RetrievalError.invalidArgument("excluding has \(excluding.count) ids for \(nq) queries")
        }
        guard queries.allSatisfy(\.isFinite) else {
            throw RetrievalError.invalidArgument("queries contain NaN or infinity")
        }
        if let allowed, allowed.count != count {
            throw RetrievalError.invalidArgument("the filter has \(allowed.count) flags for \(count) rows")
        }
        let excludedColumn: [Int] = excluding.map { $0.map { position[$0] ?? -1 } } ?? []
        var resultScores = [Float](repeating: 0, count: nq * k)
        var resultIDs = [Int64](repeating: -1, count: nq * k)
        let padScore: Float = metric == .innerProduct ? -.infinity : .infinity
        if k == 0 { return SearchResults(k: 0, ids: [], scores: []) }

        var heldCounts = [Int](repeating: 0, count: nq)
        let mask = allowed ?? []
        heldCounts.withUnsafeMutableBufferPointer { held in
        mask.withUnsafeBufferPointer { maskp in
        resultScores.withUnsafeMutableBufferPointer { rs in
            resultIDs.withUnsafeMutableBufferPointer { ri in
                queries.withUnsafeBufferPointer { qp in
                    vectors.withUnsafeBufferPointer { gp in
                        ids.withUnsafeBufferPointer { idp in
                            let scan = ScoreScan(gallery: gp.baseAddress!, count: count, dimension: dimension, metric: metric)
                            let rsBase = rs.baseAddress!, riBase = ri.baseAddress!
                            let heldBase = held.baseAddress!
                            scan.run(queries: qp.baseAddress!, count: nq) { qr, gr, tile in
                                let n = gr.count
                                for q in qr {
                                    // The heap lives in the query's result row between chunks.
                                    var heap = TopK(k: k, scores: rsBase + q * k, ids: riBase + q * k,
                                                    count: gr.lowerBound == 0 ? 0 : heldBase[q])
                                    let row = tile + (q - qr.lowerBound) * n
                                    if !excludedColumn.isEmpty {
                                        let e = excludedColumn[q]
                                        if e >= gr.lowerBound, e < gr.upperBound { row[e - gr.lowerBound] = -.infinity }
                                    }
                                    let rowMask = maskp.isEmpty ? nil : maskp.baseAddress! + gr.lowerBound
                                    if let rowMask { for j in 0..<n where !rowMask[j] { row[j] = -.infinity } }
                                    Self.scanRow(row, count: n, firstColumn: gr.lowerBound, ids: idp.baseAddress!,
                                                 excluded: excludedColumn.isEmpty ? -1 : excludedColumn[q], allowed: rowMask, heap: &heap)
                                    heldBase[q] = heap.count
                                    if gr.upperBound == count { heap.finish(padScore: padScore) }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        }
        if metric == .l2 {  // tile scores are ‖q‖² − distance
            for q in 0..<nq {
                var qn: Float = 0
                for j in 0..<dimension { qn += queries[q * dimension + j] * queries[q * dimension + j] }
                for r in 0..<k where resultIDs[q * k + r] >= 0 { resultScores[q * k + r] = max(0, qn - resultScores[q * k + r]) }
            }
        }
        return SearchResults(k: k, ids: resultIDs, scores: resultScores)
    }

    /// Offers one tile row to the heap. A SIMD pass skips 16 scores at a time that cannot enter.
    @inline(__always)
    static func scanRow(_ row: UnsafeMutablePointer<Float>, count n: Int, firstColumn: Int,
                        ids: UnsafePointer<Int64>, excluded: Int, allowed: UnsafePointer<Bool>? = nil, heap: inout TopK) {
        var j = 0
        // Filling the heap takes any row; a row outside the filter (its score set to −∞ by the
        // caller) is skipped here and can never pass the threshold below.
        while heap.count < heap.k, j < n {
            if firstColumn + j != excluded, allowed?[j] ?? true { heap.offer(row[j], ids[firstColumn + j]) }
            j += 1
        }
        var threshold = heap.threshold
        while j + 64 <= n {
            // Most groups of 64 hold no candidate once the heap is warm: one vector max skips them.
            if ScanKernels.maxOf64(row + j) >= threshold {
                // Then 16 at a time, so only short runs are scanned one by one.
                for s in stride(from: j, to: j + 64, by: 16) where ScanKernels.maxOf16(row + s) >= threshold {
                    for t in s..<(s + 16) where row[t] >= threshold && firstColumn + t != excluded {
                        heap.offer(row[t], ids[firstColumn + t])
                        threshold = heap.threshold
                    }
                }
            }
            j += 64
        }
        while j < n {
            if row[j] >= threshold, firstColumn + j != excluded {
                heap.offer(row[j], ids[firstColumn + j])
                threshold = heap.threshold
            }
            j += 1
        }
    }
}

extension FlatIndex: VectorIndex {
    public var spec: IndexSpec { .flat }
    public var rowIDs: [Int64] { ids }
    public func row(of id: Int64) -> Int? { position[id] }

    public func vector(of id: Int64) -> ArraySlice<Float>? {
        position[id].map { vectors[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    /// Moves the last row into the removed one's place (O(dimension)).
    @discardableResult
    public func remove(_ id: Int64) -> Bool {
        guard let row = position.removeValue(forKey: id) else { return false }
        let last = ids.count - 1
        if row != last {
            ids[row] = ids[last]
            position[ids[row]] = row
            for j in 0..<dimension { vectors[row * dimension + j] = vectors[last * dimension + j] }
        }
        ids.removeLast()
        vectors.removeLast(dimension)
        return true
    }

    public func search(_ queries: [Float], k: Int, allowed: [Bool]?) throws -> SearchResults {
        try search(queries, k: k, excluding: nil, allowed: allowed)
    }

    public func merged(without gone: Set<Int64>, addingIDs: [Int64], vectors added: [Float]) throws -> any VectorIndex {
        let next = try without(gone)
        try next.add(ids: addingIDs, vectors: added)
        return next
    }

    public var memoryBytes: Int { vectors.count * 4 + ids.count * (8 + 24) }
}
