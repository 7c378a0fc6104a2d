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

    static let codebookSize = 256

    public let dimension: Int
    public let metric: DistanceMetric
    public var parameters: Parameters
    public internal(set) var ids: [Int64] = []
    /// nlist × d coarse centres and their squared norms (for L2 list scores); empty until trained.
    var centres: [Float] = []
    var centreNorms: [Float] = []
    /// m × 256 × (d / m) sub-vector codebooks (for residuals); empty until trained or when m = 0.
    var codebooks: [Float] = []
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
        for i in 0..<n {
            let row = ids.count
            ids.append(newIDs[i])
            position[newIDs[i]] = row
            let x = newVectors[(i * d)..<((i + 1) * d)]
            vectors += x
            let list = lists[i]
            listRows[list].append(Int32(row))
            if parameters.m > 0 { listCodes[list] += encode(Array(x), list: list) }
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
        codebooks = [Float](repeating: 0, count: parameters.m * Self.codebookSize * ds)
        for j in 0..<parameters.m {
            var sub = [Float](repeating: 0, count: sampleCount * ds)
            for i in 0..<sampleCount {
                for t in 0..<ds { sub[i * ds + t] = sample[i * d + j * ds + t] - centres[assignment[i] * d + j * ds + t] }
            }
            let book = try KMeans.train(sub, count: sampleCount, dimension: ds, k: ksub, iterations: 10, seed: parameters.seed &+ UInt64(j + 1))
            for c in 0..<ksub { for t in 0..<ds { codebooks[(j * Self.codebookSize + c) * ds + t] = book[c * ds + t] } }
            // Unused code slots (a sample smaller than 256) repeat the first centre.
            for c in ksub..<Self.codebookSize { for t in 0..<ds { codebooks[(j * Self.codebookSize + c) * ds + t] = book[t] } }
        }
    }

    /// The m codes of `x`'s residual from list `list`'s centre.
    private func encode(_ x: [Float], list: Int) -> [UInt8] {
        (0..<parameters.m).map { j in
            var best = Float.infinity, bestCode = 0
            for c in 0..<Self.codebookSize {
                let dist = residualDistance(x, list: list, sub: j, code: c)
                if dist < best { best = dist; bestCode = c }
            }
            return UInt8(bestCode)
        }
    }

    /// ‖(x − centre of `list`)_j − codeword c of sub-quantizer j‖².
    @inline(__always)
    private func residualDistance(_ x: [Float], list: Int, sub j: Int, code c: Int) -> Float {
        let d = dimension, ds = subDimension, book = (j * Self.codebookSize + c) * ds
        var s: Float = 0
        for t in 0..<ds {
            let r = x[j * ds + t] - centres[list * d + j * ds + t] - codebooks[book + t]
            s += r * r
        }
        return s
    }

    /// The k best items per row-major query: the `nprobe` nearest lists scanned with the
    /// quantized scores, then (rescore > 0) the best `rescore × k` re-scored exactly.
    public func search(_ queries: [Float], k: Int, allowed: [Bool]? = nil) throws -> SearchResults {
        var (nq, outIDs, outScores) = try preparedSearch(queries, k: k, allowed: allowed, dimension: dimension, rows: ids.count, metric: metric)
        let d = dimension
        guard k > 0, trainedLists > 0 else { return SearchResults(k: k, ids: outIDs, scores: outScores) }
        let probes = min(parameters.nprobe, trainedLists)
        let depth = parameters.m > 0 && parameters.rescore > 0 ? k * parameters.rescore : k
        // ⟨q, centre⟩ for a block of queries at once (one sgemm), and the IP code tables (one
        // sgemm per sub-quantizer): the per-query work left is the list scan.
        let block = 256, lists = trainedLists, m = parameters.m, ksub = Self.codebookSize, ds = subDimension
        var centreProducts = [Float](repeating: 0, count: block * lists)
        var tables = [Float](repeating: 0, count: metric == .innerProduct ? block * m * ksub : 0)
        for q in 0..<nq {
            let slot = q % block
            if slot == 0 {
                let rows = min(block, nq - q)
                queries.withUnsafeBufferPointer { qp in
                    centres.withUnsafeBufferPointer { cp in
                        centreProducts.withUnsafeMutableBufferPointer { out in
                            GEMM.sgemm(transB: true, m: rows, n: lists, k: d, a: qp.baseAddress! + q * d, lda: d, b: cp.baseAddress!, ldb: d,
                                       c: out.baseAddress!, ldc: lists)
                        }
                    }
                    guard metric == .innerProduct, m > 0 else { return }
                    codebooks.withUnsafeBufferPointer { bp in
                        tables.withUnsafeMutableBufferPointer { out in
                            for j in 0..<m {
                                // −⟨q_j, codeword⟩ into row slot, columns j·256 ..< (j+1)·256.
                                GEMM.sgemm(transB: true, m: rows, n: ksub, k: ds, alpha: -1, a: qp.baseAddress! + q * d + j * ds, lda: d,
                                           b: bp.baseAddress! + j * ksub * ds, ldb: ds, c: out.baseAddress! + j * ksub, ldc: m * ksub)
                            }
                        }
                    }
                }
            }
            let query = Array(queries[(q * d)..<((q + 1) * d)])
            // Lists by ‖q − c‖² (‖q‖² left out: the same for every list), as items were assigned.
            var nearestLists = NeighbourHeap(nearestFirst: false, capacity: probes + 1)
            for c in 0..<lists {
                offer(centreNorms[c] - 2 * centreProducts[slot * lists + c], c, into: &nearestLists, depth: probes)
            }
            // Smaller is closer from here: −⟨q, ·⟩ or ‖q − ·‖².
            var best = NeighbourHeap(nearestFirst: false, capacity: depth + 1)
            for (_, list) in nearestLists.items {
                let rows = listRows[list]
                if rows.isEmpty { continue }
                if m == 0 {
                    for r in rows {
                        let row = Int(r)
                        guard accepts(row, allowed) else { continue }
                        offer(distance(query, vectors, offset: row * d), row, into: &best, depth: depth)
                    }
                    continue
                }
                // IP: ⟨q, c + r̂⟩ = ⟨q, c⟩ + Σ_j ⟨q_j, r̂_j⟩ (the query's rows of `tables`); L2:
                // ‖(q − c) − r̂‖², a table per list.
                let listTable = metric == .innerProduct ? tables : l2Table(query, list: list)
                let tableStart = metric == .innerProduct ? slot * m * ksub : 0
                let base: Float = metric == .innerProduct ? -centreProducts[slot * lists + list] : 0
                listCodes[list].withUnsafeBufferPointer { cp in
                    listTable.withUnsafeBufferPointer { tp in
                        let table = tp.baseAddress! + tableStart
                        for (i, r) in rows.enumerated() {
                            let row = Int(r)
                            guard accepts(row, allowed) else { continue }
                            var dist = base
                            let code = cp.baseAddress! + i * m
                            for j in 0..<m { dist += table[j * ksub + Int(code[j])] }
                            offer(dist, row, into: &best, depth: depth)
                        }
                    }
                }
            }
            var found = best.items
            if parameters.m > 0 && parameters.rescore > 0 {
                found = found.map { (distance(query, vectors, offset: $0.1 * d), $0.1) }
            }
            found.sort { $0.0 != $1.0 ? $0.0 < $1.0 : ids[$0.1] < ids[$1.1] }
            for (r, hit) in found.prefix(k).enumerated() {
                outIDs[q * k + r] = ids[hit.1]
                outScores[q * k + r] = metric == .innerProduct ? -hit.0 : hit.0
            }
        }
        return SearchResults(k: k, ids: outIDs, scores: outScores)
    }

    @inline(__always)
    private func accepts(_ row: Int, _ allowed: [Bool]?) -> Bool {
        (allowed?[row] ?? true) && (removedRows.isEmpty || !removedRows.contains(row))
    }

    @inline(__always)
    private func offer(_ dist: Float, _ row: Int, into heap: inout NeighbourHeap, depth: Int) {
        if heap.count < depth { heap.push(dist, row) } else if dist < heap.top!.0 { _ = heap.pop(); heap.push(dist, row) }
    }

    /// ‖(q − c)_j − codeword‖² for every sub-quantizer j and code, for list `list`'s centre c.
    private func l2Table(_ query: [Float], list: Int) -> [Float] {
        var table = [Float](repeating: 0, count: parameters.m * Self.codebookSize)
        for j in 0..<parameters.m {
            for c in 0..<Self.codebookSize { table[j * Self.codebookSize + c] = residualDistance(query, list: list, sub: j, code: c) }
        }
        return table
    }

    /// Smaller is closer: −⟨q, v⟩ or ‖q − v‖², v the `dimension` floats of `store` from `offset`.
    @inline(__always)
    private func distance(_ query: [Float], _ store: [Float], offset: Int) -> Float {
        query.withUnsafeBufferPointer { q in
            store.withUnsafeBufferPointer { s in DistanceKernel.distance(q.baseAddress!, s.baseAddress! + offset, count: dimension, metric: metric) }
        }
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
