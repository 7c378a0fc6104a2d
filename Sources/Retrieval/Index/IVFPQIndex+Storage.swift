import Foundation

/// The IVF-PQ index on disk, beside a gallery's LMDB data, so opening a gallery neither
/// retrains the quantizers (k-means) nor re-encodes the items.
///
/// Layout, little-endian: "MGIVFPQ1", then Int64 dimension, metric (0 IP, 1 L2), nlist, m,
/// nprobe, rescore, training sample, seed, trained lists, rows, stamp; the centres (Float32,
/// trained lists × dimension); the codebooks (Float32, m × 256 × dimension / m; none when m = 0);
/// per row its id (Int64); the vectors (Float32); per list its row count (Int64), rows (Int32) and
/// codes (m bytes per row); the removed rows (a count, then Int64 rows).
extension IVFPQIndex: PersistentIndex {
    static let magic = Array("MGIVFPQ1".utf8)

    public func save(to url: URL, stamp: Int) throws {
        var out = Data()
        out.append(contentsOf: Self.magic)
        let p = parameters
        for v in [dimension, metric == .innerProduct ? 0 : 1, p.nlist, p.m, p.nprobe, p.rescore, p.trainingSample,
                  Int(Int64(bitPattern: p.seed)), trainedLists, ids.count, stamp] {
            IndexFile.append(v, to: &out)
        }
        IndexFile.append(contentsOf: centres, to: &out)
        IndexFile.append(contentsOf: codebooks, to: &out)
        IndexFile.append(contentsOf: ids.map(\.littleEndian), to: &out)
        IndexFile.append(contentsOf: vectors, to: &out)
        for (rows, codes) in zip(listRows, listCodes) {
            IndexFile.append(rows.count, to: &out)
            IndexFile.append(contentsOf: rows.map(\.littleEndian), to: &out)
            IndexFile.append(contentsOf: codes, to: &out)
        }
        IndexFile.append(removedRows: removedRows, to: &out)
        try IndexFile.write(out, to: url, kind: "IVF-PQ")
    }

    /// The stamp of the IVF-PQ file at `url` (header field 10), without reading the lists.
    public static func savedStamp(at url: URL) -> Int? { IndexFile.headerField(10, at: url, magic: magic) }

    /// Re-stamps the file at `url` from `old` to `new`, with `p`'s nprobe and rescore, when it
    /// holds an index trained as `p` asks (lists, sub-quantizers, sample, seed): the header alone
    /// is read and patched in place.
    static func restamp(at url: URL, for p: Parameters, from old: Int, to new: Int) {
        guard let h = IndexFile.headerFields(11, at: url, magic: magic), h[2] == p.nlist, h[3] == p.m,
              h[6] == p.trainingSample, UInt64(bitPattern: Int64(h[7])) == p.seed, h[10] == old else { return }
        try? IndexFile.overwriteHeaderFields(from: 4, with: [p.nprobe, p.rescore] + h[6...9] + [new], at: url, magic: magic)
    }

    /// The index saved at `url` and its stamp. A short, foreign or damaged file is an error.
    public static func load(from url: URL) throws -> (index: IVFPQIndex, stamp: Int) {
        let opened = try IndexFileReader.open(url, kind: "IVF-PQ", magic: magic, fields: 11)
        var reader = opened.reader
        let h = opened.header
        let (d, metricCode, lists, n, stamp) = (h[0], h[1], h[8], h[9], h[10])
        let parameters = Parameters(nlist: h[2], m: h[3], nprobe: h[4], rescore: h[5], trainingSample: h[6], seed: UInt64(bitPattern: Int64(h[7])))
        guard d > 0, d <= 1 << 16, parameters.nlist <= 1 << 24, metricCode == 0 || metricCode == 1, (0...256).contains(parameters.m), lists >= 0, lists <= parameters.nlist,
              n >= 0, n < Int(Int32.max), n == 0 || lists > 0 else { throw reader.damaged("bad header") }
        let index: IVFPQIndex
        do {
            index = try IVFPQIndex(dimension: d, metric: metricCode == 0 ? .innerProduct : .l2, parameters: parameters)
        } catch {
            throw reader.damaged("bad header (\(error))")
        }
        let m = parameters.m
        index.centres = try reader.floats(lists * d)
        index.centreNorms = (0..<lists).map { c in index.centres[(c * d)..<((c + 1) * d)].reduce(0) { $0 + $1 * $1 } }
        index.codebooks = lists > 0 && m > 0 ? try reader.floats(m * codebookSize * index.subDimension) : []
        index.trainedLists = lists
        index.ids = try reader.int64s(n)
        index.vectors = try reader.floats(n * d)
        var listed = [Bool](repeating: false, count: n)
        for _ in 0..<lists {
            let count = try reader.int64()
            guard count >= 0, count <= n else { throw reader.damaged("bad list length") }
            let rows = try reader.int32s(count)
            for r in rows {
                guard r >= 0, Int(r) < n, !listed[Int(r)] else { throw reader.damaged("a list holds a row past the items or twice") }
                listed[Int(r)] = true
            }
            index.listRows.append(rows)
            index.listCodes.append(try reader.bytes(count * m))
        }
        guard listed.allSatisfy({ $0 }) else { throw reader.damaged("a row is in no list") }
        index.removedRows = try reader.removedRows(below: n)
        guard reader.atEnd else { throw reader.damaged("trailing bytes") }
        for (row, id) in index.ids.enumerated() {
            guard id >= 0 else { throw reader.damaged("a negative id") }
            if index.removedRows.contains(row) { continue }
            // An id removed and added again keeps its old, removed row: only one row may be live.
            guard index.position[id] == nil else { throw reader.damaged("id \(id) is live in two rows") }
            index.position[id] = row
        }
        return (index, stamp)
    }
}
