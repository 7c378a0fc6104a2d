import CPrefetch
import Foundation
import TensorCore

/// An inverted file with product quantization (Jégou et al. 2011; faiss `IndexIVFPQ`): a coarse
/// k-means quantizer splits the items into `nlist` lists (each item to its nearest centre by L2,
/// and searches probe the lists nearest the query by L2 too, whatever the metric, so an item's
/// list is among the first probed for queries near it); each item's residual from its list
/// centre is stored as `m` one-byte codes, one per sub-vector, from 256-centre codebooks. A
/// search visits the `nprobe` lists nearest the query and scores each code with a lookup table
/// (asymmetric distance: the query stays exact). With `rescore` > 0 the best `rescore × k`
/// candidates are re-scored from the stored vectors; `m` = 0 is IVF-Flat (exact scores inside
/// the probed lists). The vectors are kept in memory either way (re-scoring, a gallery's item
/// reads, merges): the codes make the scan cheaper, they do not yet replace the vectors.
///
/// The quantizers are trained on the first batch added (a sample of up to `trainingSample`
/// rows); later items are encoded with them. Scores follow `FlatIndex`. Searches may run
/// concurrently; `add` and `remove` must not run while another call is in flight.
public final class IVFPQIndex: @unchecked Sendable {
    public struct Parameters: Equatable, Sendable {
        /// Coarse lists (k-means centres).
        public var nlist: Int
        /// Sub-quantizers (bytes per item); 0: IVF-Flat. Must divide the dimension.
        public var m: Int
        /// Lists visited per query.
        public var nprobe: Int
        /// Re-score the best `rescore × k` candidates exactly (0: PQ scores only).
        public var rescore: Int
        public var trainingSample: Int
        public var seed: UInt64

        public init(nlist: Int = 1024, m: Int = 16, nprobe: Int = 16, rescore: Int = 8, trainingSample: Int = 65_536, seed: UInt64 = 1) {
            self.nlist = nlist; self.m = m; self.nprobe = nprobe; self.rescore = rescore
            self.trainingSample = trainingSample; self.seed = seed
        }
    }

    static let codebookSize = PQKernel.codebookSize

    public let dimension: Int
    public let metric: DistanceMetric
    public var parameters: Parameters
    public internal(set) var ids: [Int64] = []
    /// nlist × d coarse centres and their squared norms (for L2 list scores); empty until trained.
    var centres: [Float] = []
    var centreNorms: [Float] = []
    /// m × 256 × (d / m) sub-vector codebooks (for residuals); empty until trained or when m = 0.
    var codebooks: [Float] = [] {
        didSet { deriveCodebookViews() }
    }
    /// The codebooks transposed (d × 256: row i holds coordinate i of its sub-quantizer's 256
    /// codewords, what the table kernel reads) and each codeword's squared norm (m × 256).
    private(set) var codebooksTransposed: [Float] = []
    private(set) var codeNorms: [Float] = []
    /// Per list: its rows, and their codes (m bytes each, in the same order).
    var listRows: [[Int32]] = []
    var listCodes: [[UInt8]] = []
    /// Row-major vectors.
    var vectors: [Float] = []
    var position: [Int64: Int] = [:]
    var removedRows = Set<Int>()
    /// Lists actually trained (fewer than asked for when the first batch was small).
    public internal(set) var trainedLists = 0

    public init(dimension: Int, metric: DistanceMetric = .innerProduct, parameters: Parameters = Parameters()) throws {
        guard parameters.nlist >= 1, parameters.nprobe >= 1, parameters.m >= 0, parameters.rescore >= 0 else {
            throw RetrievalError.invalidArgument("IVF-PQ needs nlist and nprobe ≥ 1, m and rescore ≥ 0")
        }
        guard parameters.m == 0 || dimension % parameters.m == 0 else {
            throw RetrievalError.invalidArgument("IVF-PQ: m = \(parameters.m) must divide the dimension \(dimension)")
        }
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
    }

    var subDimension: Int { parameters.m == 0 ? 0 : dimension / parameters.m }
    public var count: Int { ids.count - removedRows.count }

    /// Adds items, training the quantizers on the first batch.
    public func add(ids newIDs: [Int64], vectors newVectors: [Float]) throws {
        try validateAdditions(ids: newIDs, vectors: newVectors, dimension: dimension, index: "IVFPQIndex.add") { row(of: $0) != nil }
        guard !newIDs.isEmpty else { return }
        if trainedLists == 0 { try train(newVectors, count: newIDs.count) }
        let d = dimension, n = newIDs.count
        let lists = try KMeans.assign(newVectors, count: n, dimension: d, to: centres, k: trainedLists)
        var residual = [Float](repeating: 0, count: d), table = [Float](repeating: 0, count: parameters.m * Self.codebookSize)
        vectors += newVectors
        for i in 0..<n {
            let row = ids.count
            ids.append(newIDs[i])
            position[newIDs[i]] = row
            let list = lists[i]
            listRows[list].append(Int32(row))
            guard parameters.m > 0 else { continue }
            newVectors.withUnsafeBufferPointer { x in
                residual.withUnsafeMutableBufferPointer { r in
                    table.withUnsafeMutableBufferPointer { t in
                        encode(x.baseAddress! + i * d, list: list, residual: r.baseAddress!, table: t.baseAddress!, into: &listCodes[list])
                    }
                }
            }
        }
    }

    private func deriveCodebookViews() {
        let m = codebooks.isEmpty ? 0 : parameters.m, ds = subDimension, ksub = Self.codebookSize
        codebooksTransposed = [Float](repeating: 0, count: m * ds * ksub)
        codeNorms = [Float](repeating: 0, count: m * ksub)
        for j in 0..<m {
            for c in 0..<ksub {
                for t in 0..<ds {
                    let w = codebooks[(j * ksub + c) * ds + t]
                    codebooksTransposed[(j * ds + t) * ksub + c] = w
                    codeNorms[j * ksub + c] += w * w
                }
            }
        }
    }

    /// Coarse centres and (for m > 0) the residual codebooks, from a sample of `data`.
    private func train(_ data: [Float], count n: Int) throws {
        let d = dimension
        let lists = min(parameters.nlist, n)
        var rng = RNG(seed: parameters.seed)
        let sampleCount = min(n, max(parameters.trainingSample, lists))
        var sample = data
        if sampleCount < n {
            var order = Array(0..<n)
            for i in 0..<sampleCount { order.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
            sample = order.prefix(sampleCount).flatMap { data[($0 * d)..<(($0 + 1) * d)] }
        }
        centres = try KMeans.train(sample, count: sampleCount, dimension: d, k: lists, seed: parameters.seed)
        centreNorms = (0..<lists).map { c in centres[(c * d)..<((c + 1) * d)].reduce(0) { $0 + $1 * $1 } }
        trainedLists = lists
        listRows = Array(repeating: [], count: lists)
        listCodes = Array(repeating: [], count: lists)
        guard parameters.m > 0 else { return }
        let assignment = try KMeans.assign(sample, count: sampleCount, dimension: d, to: centres, k: lists)
        let ds = subDimension, ksub = min(Self.codebookSize, sampleCount)
        var books = [Float](repeating: 0, count: parameters.m * Self.codebookSize * ds)
        for j in 0..<parameters.m {
            var sub = [Float](repeating: 0, count: sampleCount * ds)
            for i in 0..<sampleCount {
                for t in 0..<ds { sub[i * ds + t] = sample[i * d + j * ds + t] - centres[assignment[i] * d + j * ds + t] }
            }
            let book = try KMeans.train(sub, count: sampleCount, dimension: ds, k: ksub, iterations: 10, seed: parameters.seed &+ UInt64(j + 1))
            for c in 0..<ksub { for t in 0..<ds { books[(j * Self.codebookSize + c) * ds + t] = book[c * ds + t] } }
            // Unused code slots (a sample smaller than 256) repeat the first centre.
            for c in ksub..<Self.codebookSize { for t in 0..<ds { books[(j * Self.codebookSize + c) * ds + t] = book[t] } }
        }
        codebooks = books
    }

    /// The m codes of `x`'s residual from list `list`'s centre: per sub-vector the codeword with
    /// the least entry of its residual table (the nearest).
    private func encode(_ x: UnsafePointer<Float>, list: Int, residual: UnsafeMutablePointer<Float>,
                        table: UnsafeMutablePointer<Float>, into codes: inout [UInt8]) {
        let ksub = Self.codebookSize
        _ = residualTable(x, list: list, residual: residual, into: table)
        for j in 0..<parameters.m {
            var best = Float.infinity, bestCode = 0
            for c in 0..<ksub where table[j * ksub + c] < best { best = table[j * ksub + c]; bestCode = c }
            codes.append(UInt8(bestCode))
        }
    }

    /// For r = x − centre of `list` (left in `residual`): table[j·256 + c] = ‖w‖² − 2⟨r_j, w⟩ for
    /// codeword w = c of sub-quantizer j, i.e. ‖r_j − w‖² − ‖r_j‖²; returns ‖r‖². So ‖r − r̂‖² is the
    /// returned value plus one entry per sub-quantizer.
    private func residualTable(_ x: UnsafePointer<Float>, list: Int, residual: UnsafeMutablePointer<Float>,
                               into table: UnsafeMutablePointer<Float>) -> Float {
        let d = dimension
        var norm: Float = 0
        for t in 0..<d {
            residual[t] = x[t] - centres[list * d + t]
            norm += residual[t] * residual[t]
        }
        innerProductTables(residual, into: table)
        codeNorms.withUnsafeBufferPointer { cn in
            for e in 0..<(parameters.m * Self.codebookSize) { table[e] = cn[e] + 2 * table[e] }
        }
        return norm
    }

    /// −⟨v_j, w⟩ for every sub-vector v_j of `v` and codeword w of its sub-quantizer (m × 256).
    @inline(__always)
    private func innerProductTables(_ v: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        codebooksTransposed.withUnsafeBufferPointer { books in
            PQKernel.innerProductTables(v, booksTransposed: books.baseAddress!, dimension: dimension, subDimension: subDimension, into: table)
        }
    }

    /// The k best items per row-major query: the `nprobe` nearest lists scanned with the
    /// quantized scores, then (rescore > 0) the best `rescore × k` re-scored exactly.
    public func search(_ queries: [Float], k: Int, allowed: [Bool]? = nil) throws -> SearchResults {
        var (nq, outIDs, outScores) = try preparedSearch(queries, k: k, allowed: allowed, dimension: dimension, rows: ids.count, metric: metric)
        guard k > 0, trainedLists > 0 else { return SearchResults(k: k, ids: outIDs, scores: outScores) }
        let d = dimension, m = parameters.m, ksub = Self.codebookSize, lists = trainedLists
        let probes = min(parameters.nprobe, lists)
        let rescores = m > 0 && parameters.rescore > 0
        let depth = rescores ? k * parameters.rescore : k
        // ⟨q, centre⟩ for a block of queries at once (one sgemm); per query the tables (one small
        // kernel), the list scans (scores of a whole list, then the candidates below the worst
        // kept) and the re-scoring are left.
        let block = 256
        var centreProducts = [Float](repeating: 0, count: block * lists)
        var table = [Float](repeating: 0, count: m * ksub)
        var residual = [Float](repeating: 0, count: d)
        var listScores = [Float](repeating: 0, count: listRows.reduce(0) { max($0, $1.count) })
        let removed = removedRows
        let accepts = { (row: Int) -> Bool in (allowed?[row] ?? true) && (removed.isEmpty || !removed.contains(row)) }
        queries.withUnsafeBufferPointer { qp in
        centres.withUnsafeBufferPointer { cp in
        centreNorms.withUnsafeBufferPointer { norms in
        vectors.withUnsafeBufferPointer { vp in
        ids.withUnsafeBufferPointer { idp in
        centreProducts.withUnsafeMutableBufferPointer { products in
        table.withUnsafeMutableBufferPointer { tp in
        residual.withUnsafeMutableBufferPointer { rp in
        listScores.withUnsafeMutableBufferPointer { sp in
        CandidateHeap.with(capacity: probes) { nearestLists in
        CandidateHeap.with(capacity: depth) { best in
            let vectors = vp.baseAddress!, table = tp.baseAddress!, residual = rp.baseAddress!, scores = sp.baseAddress!
            for q in 0..<nq {
                let slot = q % block, query = qp.baseAddress! + q * d
                if slot == 0 {
                    GEMM.sgemm(transB: true, m: min(block, nq - q), n: lists, k: d, a: query, lda: d, b: cp.baseAddress!, ldb: d,
                               c: products.baseAddress!, ldc: lists)
                }
                // Lists by ‖q − c‖² (‖q‖² left out: the same for every list), as items were assigned.
                nearestLists.removeAll()
                for c in 0..<lists { nearestLists.offer(norms[c] - 2 * products[slot * lists + c], c) }
                if metric == .innerProduct && m > 0 { innerProductTables(query, into: table) }
                // Smaller is closer from here: −⟨q, ·⟩ or ‖q − ·‖².
                best.removeAll()
                // Nearest list first: its items fill the candidates, and the farther lists' mostly
                // fail the threshold instead of each replacing the farthest kept.
                for (_, list) in nearestLists.items.sorted(by: { $0.0 < $1.0 }) {
                    let rows = listRows[list]
                    rows.withUnsafeBufferPointer { rows in
                        let n = rows.count
                        if m == 0 {
                            for i in 0..<n where accepts(Int(rows[i])) {
                                best.offer(DistanceKernel.distance(query, vectors + Int(rows[i]) * d, count: d, metric: metric), Int(rows[i]))
                            }
                            return
                        }
                        // IP: ⟨q, c + r̂⟩ = ⟨q, c⟩ + Σ_j ⟨q_j, r̂_j⟩ (one table per query). L2:
                        // ‖(q − c) − r̂‖² = ‖q − c‖² + Σ_j (‖r̂_j‖² − 2⟨(q − c)_j, r̂_j⟩) (one per list).
                        let base = metric == .innerProduct ? -products[slot * lists + list]
                                                            : residualTable(query, list: list, residual: residual, into: table)
                        listCodes[list].withUnsafeBufferPointer { codes in PQKernel.scan(codes: codes.baseAddress!, count: n, m: m, table: table, base: base, into: scores) }
                        for i in 0..<n {
                            let score = scores[i]
                            if best.isFull && score >= best.worst { continue }
                            let row = Int(rows[i])
                            if accepts(row) { best.offer(score, row) }
                        }
                    }
                }
                var found = best.items
                if rescores {
                    // Each candidate's vector is asked for a few candidates ahead of its distance,
                    // so the loads overlap without flooding the memory queue.
                    let ahead = 8
                    func prefetch(_ i: Int) {
                        guard i < found.count else { return }
                        var offset = 0
                        while offset < d { magpie_prefetch(vectors + found[i].1 * d + offset); offset += 16 }
                    }
                    for i in 0..<ahead { prefetch(i) }
                    for i in found.indices {
                        prefetch(i + ahead)
                        found[i].0 = DistanceKernel.distance(query, vectors + found[i].1 * d, count: d, metric: metric)
                    }
                    // Only the best k are returned: keep those at or below the k-th distance.
                    if found.count > k {
                        let kth = CandidateHeap.with(capacity: k) { heap in
                            for (distance, row) in found { heap.offer(distance, row) }
                            return heap.worst
                        }
                        found.removeAll { $0.0 > kth }
                    }
                }
                found.sort { $0.0 != $1.0 ? $0.0 < $1.0 : idp[$0.1] < idp[$1.1] }
                for (r, hit) in found.prefix(k).enumerated() {
                    outIDs[q * k + r] = idp[hit.1]
                    outScores[q * k + r] = metric == .innerProduct ? -hit.0 : hit.0
                }
            }
        }}}}}}}}}}}
        return SearchResults(k: k, ids: outIDs, scores: outScores)
    }

    /// A copy sharing nothing with this index (the trained quantizers included).
    func copy() throws -> IVFPQIndex {
        let c = try IVFPQIndex(dimension: dimension, metric: metric, parameters: parameters)
        c.ids = ids; c.centres = centres; c.centreNorms = centreNorms; c.codebooks = codebooks; c.listRows = listRows; c.listCodes = listCodes
        c.vectors = vectors; c.position = position; c.removedRows = removedRows; c.trainedLists = trainedLists
        return c
    }
}

extension IVFPQIndex: VectorIndex, TombstonedRows {
    public var spec: IndexSpec { .ivfpq(parameters) }
    public var rowIDs: [Int64] { ids }

    public func vector(of id: Int64) -> ArraySlice<Float>? {
        row(of: id).map { vectors[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    public func merged(without gone: Set<Int64>, addingIDs: [Int64], vectors added: [Float]) throws -> any VectorIndex {
        let next = try copy()
        for id in gone { next.remove(id) }
        try next.add(ids: addingIDs, vectors: added)
        return next
    }

    public var memoryBytes: Int {
        (centres.count + codebooks.count + vectors.count) * 4 + listCodes.reduce(0) { $0 + $1.count }
            + listRows.reduce(0) { $0 + $1.count * 4 } + ids.count * (8 + 32)
    }
}
