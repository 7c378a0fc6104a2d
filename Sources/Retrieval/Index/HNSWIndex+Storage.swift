import Foundation

/// The HNSW graph on disk: a derived file beside a gallery's LMDB data, stamped with what it was
/// built from (for example the gallery's last transaction id) so a stale file is rebuilt.
///
/// Layout, little-endian: "MGHNSW01", then Int64 dimension, metric (0 IP, 1 L2), M,
/// efConstruction, efSearch, count, entry point, top level, stamp; per item its id (Int64) and
/// level (Int32); the vectors (Float32); the layer-0 links (Int32, 2·M per item, −1 past the
/// end); per item and upper layer a link count (Int32) and the links; the removed rows (a count,
/// then Int64 rows). Written to a temporary file and renamed, so a crash leaves the old file or
/// the new one.
extension HNSWIndex: PersistentIndex {
    static let magic = Array("MGHNSW01".utf8)

    public func save(to url: URL, stamp: Int) throws {
        var out = Data()
        out.append(contentsOf: Self.magic)
        for v in [dimension, metric == .innerProduct ? 0 : 1, parameters.m, parameters.efConstruction, parameters.efSearch,
                  ids.count, entryPoint, topLevel, stamp] { IndexFile.append(v, to: &out) }
        for (id, level) in zip(ids, levels) {
            withUnsafeBytes(of: id.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: Int32(level).littleEndian) { out.append(contentsOf: $0) }
        }
        IndexFile.append(contentsOf: vectors, to: &out)
        IndexFile.append(contentsOf: links0, to: &out)
        withGraph(mutable: false, lockStripes: 0) { graph in
            for row in ids.indices where levels[row] > 0 {
                for level in 1...Int(levels[row]) {
                    var links: [Int32] = []
                    graph.forEachLink(of: row, level: level) { links.append(Int32($0)) }
                    withUnsafeBytes(of: Int32(links.count).littleEndian) { out.append(contentsOf: $0) }
                    links.withUnsafeBytes { out.append(contentsOf: $0) }
                }
            }
        }
        IndexFile.append(removedRows: removedRows, to: &out)
        try IndexFile.write(out, to: url, kind: "HNSW")
    }

    /// The stamp of the HNSW file at `url` (header field 8), without reading the graph.
    public static func savedStamp(at url: URL) -> Int? { IndexFile.headerField(8, at: url, magic: magic) }

    /// Re-stamps the file at `url` from `old` to `new`, with `p`'s efSearch, when it holds a graph
    /// built as `p` asks (M, efConstruction): the header alone is read and patched in place.
    static func restamp(at url: URL, for p: Parameters, from old: Int, to new: Int) {
        guard let h = IndexFile.headerFields(9, at: url, magic: magic), h[2] == p.m, h[3] == p.efConstruction, h[8] == old else { return }
        try? IndexFile.overwriteHeaderFields(from: 4, with: [p.efSearch] + h[5...7] + [new], at: url, magic: magic)
    }

    /// The index saved at `url` and its stamp. A short, foreign or damaged file is an error.
    public static func load(from url: URL) throws -> (index: HNSWIndex, stamp: Int) {
        let opened = try IndexFileReader.open(url, kind: "HNSW", magic: magic, fields: 9)
        var reader = opened.reader
        let header = opened.header
        let (d, metricCode, m, efc, efs, n, entry, top, stamp) = (header[0], header[1], header[2], header[3], header[4],
                                                                   header[5], header[6], header[7], header[8])
        guard d > 0, m >= 2, m <= 256, n >= 0, metricCode == 0 || metricCode == 1, entry < n, n < Int(Int32.max),
              !n.multipliedReportingOverflow(by: d).overflow else { throw reader.damaged("bad header") }
        let index = HNSWIndex(dimension: d, metric: metricCode == 0 ? .innerProduct : .l2,
                              parameters: .init(m: m, efConstruction: efc, efSearch: efs))
        for row in 0..<n {
            let id = Int64(try reader.int64()), level = Int(try reader.int32())
            // An id may repeat when it was removed and added again: the last row is the live one.
            guard id >= 0, level >= 0, level < 64 else { throw reader.damaged("bad item \(row)") }
            index.ids.append(id); index.levels.append(Int32(level)); index.position[id] = row
        }
        let vectors = try reader.floats(n * d)
        let links0 = try reader.int32s(n * 2 * m)
        guard links0.allSatisfy({ $0 < n }) else { throw reader.damaged("a link points past the items") }
        index.setLevel0(vectors: vectors, links: links0)
        for row in 0..<n {
            index.upperStart.append(index.upperLinks.count)
            for _ in 0..<Int(index.levels[row]) {
                let count = Int(try reader.int32())
                guard (0...m).contains(count) else { throw reader.damaged("bad link count") }
                let links = try reader.int32s(count)
                guard links.allSatisfy({ $0 >= 0 && $0 < n }) else { throw reader.damaged("a link points past the items") }
                index.upperLinks += links + [Int32](repeating: -1, count: m - count)
            }
        }
        index.removedRows = try reader.removedRows(below: n)
        guard reader.atEnd else { throw reader.damaged("trailing bytes") }
        for (row, id) in index.ids.enumerated() where index.position[id] != row && !index.removedRows.contains(row) {
            throw reader.damaged("id \(id) is live in two rows")
        }
        index.entryPoint = entry
        index.topLevel = top
        return (index, stamp)
    }
}
