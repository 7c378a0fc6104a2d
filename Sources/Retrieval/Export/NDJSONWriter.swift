import Foundation

/// Streams a gallery snapshot as NDJSON rows of one `NDJSONFlavor`: blocks of rows are formatted
/// in parallel into reusable byte buffers and written in order; floats use Swift's shortest
/// round-trip text (`Float.description`).
struct NDJSONWriter {
    let flavor: NDJSONFlavor
    let target: ExportTarget

    /// Rows formatted per block; blocks are formatted on all cores, then written in order.
    static let blockRows = 2048

    func write(_ snap: GallerySnapshot, to path: String) throws {
        let sink = try FileSink(path: path)
        let d = snap.manifest.dimension
        let n = snap.ids.count
        let blockCount = (n + Self.blockRows - 1) / Self.blockRows
        let inFlight = max(1, ProcessInfo.processInfo.activeProcessorCount) * 2
        var blocks = [[UInt8]](repeating: [], count: inFlight)
        try snap.vectors.withUnsafeBufferPointer { vectors in
            for first in stride(from: 0, to: blockCount, by: inFlight) {
                let count = min(inFlight, blockCount - first)
                blocks.withUnsafeMutableBufferPointer { out in
                    DispatchQueue.concurrentPerform(iterations: count) { b in
                        var text: [UInt8] = []
                        swap(&text, &out[b])  // take the buffer uniquely, so its capacity is reused
                        text.removeAll(keepingCapacity: true)
                        let lo = (first + b) * Self.blockRows
                        for i in lo..<min(n, lo + Self.blockRows) {
                            appendRow(id: snap.ids[i], vector: UnsafeBufferPointer(rebasing: vectors[(i * d)..<((i + 1) * d)]),
                                      record: snap.records[i], to: &text)
                        }
                        out[b] = text
                    }
                }
                for b in 0..<count { try sink.append(blocks[b]) }
            }
        }
        try sink.close()
    }

    func appendRow(id: Int64, vector: UnsafeBufferPointer<Float>, record r: GalleryRecord, to out: inout [UInt8]) {
        switch flavor {
        case .plain:
            out += #"{"id":"#.utf8; out += String(id).utf8
            out += #","vector":"#.utf8; Self.appendArray(vector, to: &out)
            appendRecord(r, metadataAsText: false, to: &out)
            out += "}\n".utf8
        case .opensearch:
            out += #"{"index":{"_index":"#.utf8; Self.appendString(target.index, to: &out)
            out += #","_id":""#.utf8; out += String(id).utf8; out += "\"}}\n".utf8
            out += #"{"id":"#.utf8; out += String(id).utf8
            out += #","vector":"#.utf8; Self.appendArray(vector, to: &out)
            appendRecord(r, metadataAsText: false, to: &out)
            out += "}\n".utf8
        case .vespa:
            out += #"{"put":"#.utf8
            Self.appendString("id:\(target.namespace):\(target.documentType)::\(id)", to: &out)
            out += #","fields":{"id":"#.utf8; out += String(id).utf8
            out += #","vector":{"values":"#.utf8; Self.appendArray(vector, to: &out); out += "}".utf8
            appendRecord(r, metadataAsText: true, to: &out)
            out += "}}\n".utf8
        case .qdrant:
            out += #"{"id":"#.utf8; out += String(id).utf8
            out += #","vector":"#.utf8; Self.appendArray(vector, to: &out)
            out += #","payload":{"#.utf8
            let start = out.count
            appendRecord(r, metadataAsText: false, to: &out)
            if out.count > start { out.remove(at: start) }  // the payload's first key has no comma
            out += "}}\n".utf8
        }
    }

    /// `,"label":…,"path":…,"metadata":…` for the fields that are set. Metadata is stored as JSON
    /// text: embedded as a JSON value, or as a string where the engine has no free JSON type.
    private func appendRecord(_ r: GalleryRecord, metadataAsText: Bool, to out: inout [UInt8]) {
        if let label = r.label { out += #","label":"#.utf8; out += String(label).utf8 }
        if let path = r.path { out += #","path":"#.utf8; Self.appendString(path, to: &out) }
        if let meta = r.metadata {
            out += #","metadata":"#.utf8
            let trimmed = meta.drop { $0 == " " || $0 == "\n" || $0 == "\t" }
            if !metadataAsText, trimmed.first == "{" || trimmed.first == "[" { out += meta.utf8 } else { Self.appendString(meta, to: &out) }
        }
    }

    static func appendArray(_ values: UnsafeBufferPointer<Float>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (j, v) in values.enumerated() {
            if j > 0 { out.append(UInt8(ascii: ",")) }
            var text = v.description
            text.withUTF8 { out.append(contentsOf: $0) }
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
