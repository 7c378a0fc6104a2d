import Foundation
import Retrieval

/// Streams a gallery snapshot as NDJSON rows of one `NDJSONFlavor`. Each line is built in a
/// reusable byte buffer; floats use Swift's shortest round-trip text (`Float.description`).
struct NDJSONWriter {
    let flavor: NDJSONFlavor
    let target: ExportTarget

    func write(_ snap: GallerySnapshot, to path: String) throws {
        let sink = try FileSink(path: path)
        let d = snap.manifest.dimension
        var line: [UInt8] = []
        line.reserveCapacity(d * 12 + 256)
        try snap.vectors.withUnsafeBufferPointer { vectors in
            for (i, id) in snap.ids.enumerated() {
                line.removeAll(keepingCapacity: true)
                appendRow(id: id, vector: UnsafeBufferPointer(rebasing: vectors[(i * d)..<((i + 1) * d)]),
                          record: snap.records[i], to: &line)
                try sink.append(line)
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
            // Embedded only after a parse and compact re-serialisation: a stored value with a newline
            // inside, or text that merely starts with '{', must not break the one-line-per-row layout.
            if !metadataAsText, let compact = Self.compactJSON(meta) { out += compact } else { Self.appendString(meta, to: &out) }
        }
    }

    /// `text` as one-line JSON when it is a JSON value (object, array, string, number, boolean or
    /// null: `gallery import` keeps any JSON value of an NDJSON row's "metadata"), else nil. A scalar
    /// is embedded as itself, so metadata `5` exports as 5 and `"red"` as "red", not as the strings
    /// "5" and "\"red\"" (which `gallery import` would then store as different metadata).
    static func compactJSON(_ text: String) -> [UInt8]? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.withoutEscapingSlashes, .fragmentsAllowed])
        else { return nil }
        return [UInt8](data)
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
