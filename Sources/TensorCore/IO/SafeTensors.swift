import Foundation

/// The contents of a `.safetensors` file.
public struct SafeTensorsFile {
    /// Where the data came from (used in error messages).
    public var path: String
    /// Every tensor, converted to Float32 whatever its stored dtype.
    public var tensors: [String: Tensor]
    /// Exact values of the integer and bool tensors (I64, I32, U8, BOOL).
    public var integers: [String: Int64Array]
    /// Stored dtype of each tensor as written in the header ("F32", "I64", …).
    public var dtypes: [String: String]
    /// The `__metadata__` map; empty when the file has none.
    public var metadata: [String: String]
    /// Tensor names in header order (the reference writer's order is also data order).
    public var names: [String]

    /// The tensor called `name`, or `TensorCoreError.missingTensor`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw TensorCoreError.missingTensor(name, path: path) }
        return t
    }
}

/// Reader and writer for the safetensors format: an 8-byte little-endian header length N, an
/// N-byte JSON header (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}`,
/// space-padded), then the tensors' little-endian C-order bytes, offsets relative to that buffer.
///
/// Reads F32, F64, F16, BF16, I64, I32, U8 and BOOL (all converted to Float32). Writes Float32
/// tensors as F32 and `Int64Array`s as I64, byte-identical to the Python `safetensors` package.
public enum SafeTensors {
    /// Headers longer than this are rejected as corrupt (the reference implementation's limit).
    public static let maxHeaderLength = 100_000_000

    static let kinds: [String: ElementKind] = [
        "F32": .f32, "F64": .f64, "F16": .f16, "BF16": .bf16, "I64": .i64, "I32": .i32, "U8": .u8, "BOOL": .bool,
    ]

    // MARK: Reading

    public static func read(_ url: URL) throws -> SafeTensorsFile {
        try read(data: try readFileData(url), path: url.path)
    }

    /// Parses an in-memory file; `path` only labels errors.
    public static func read(data: Data, path: String) throws -> SafeTensorsFile {
        try data.withUnsafeBytes { try parse($0, path: path) }
    }

    private struct Entry {
        let name: String, dtype: String, kind: ElementKind, shape: [Int], begin: Int, end: Int
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws -> SafeTensorsFile {
        func invalid(_ reason: String) -> TensorCoreError { .invalidFile(path: path, reason: reason) }

        guard raw.count >= 8 else {
            throw invalid("file is \(raw.count) bytes, too short for the 8-byte header length (truncated?)")
        }
        let n64 = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard n64 <= UInt64(maxHeaderLength) else {
            throw invalid("header length \(n64) exceeds the \(maxHeaderLength)-byte limit (not a safetensors file?)")
        }
        let n = Int(n64)
        guard 8 + n <= raw.count else {
            throw invalid("header length \(n) runs past the end of the \(raw.count)-byte file (truncated?)")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[8..<(8 + n)])
        guard headerBytes.first == UInt8(ascii: "{") else { throw invalid("header JSON does not start with '{'") }
        let json: HeaderJSON
        do { json = try HeaderJSON.parse(headerBytes) } catch let e as HeaderJSON.ParseError {
            throw invalid("header is not valid JSON: \(e.message)")
        }
        guard case .object(let pairs) = json else { throw invalid("header JSON is not an object") }
        let buffer = UnsafeRawBufferPointer(rebasing: raw[(8 + n)...])

        var seen = Set<String>()
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in pairs {
            guard seen.insert(key).inserted else {
                throw invalid(key == "__metadata__" ? "duplicate __metadata__ in header" : "duplicate tensor name '\(key)'")
            }
            if key == "__metadata__" {
                metadata = try parseMetadata(value, invalid)
            } else {
                entries.append(try parseEntry(key, value, bufferSize: buffer.count, path: path))
            }
        }

        // Sorted by offset, the tensors must tile the buffer exactly: no overlaps, no holes.
        var position = 0
        var previous: Entry?
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if e.begin < position, let p = previous {
                throw invalid("tensor '\(e.name)' data_offsets [\(e.begin), \(e.end)] overlap tensor '\(p.name)' [\(p.begin), \(p.end)]")
            }
            if e.begin > position {
                throw invalid("hole in the data buffer: bytes \(position)..<\(e.begin) (before tensor '\(e.name)') belong to no tensor")
            }
            position = e.end
            previous = e
        }
        if position != buffer.count {
            throw invalid("data buffer has \(buffer.count - position) bytes after the last tensor (a hole at the end)")
        }

        var file = SafeTensorsFile(path: path, tensors: [:], integers: [:], dtypes: [:], metadata: metadata, names: [])
        for e in entries {
            let count = (e.end - e.begin) / e.kind.itemSize
            let (floats, ints) = e.kind.decode(buffer, offset: e.begin, count: count)
            file.tensors[e.name] = Tensor(shape: e.shape, data: floats)
            if let ints { file.integers[e.name] = Int64Array(shape: e.shape, values: ints) }
            file.dtypes[e.name] = e.dtype
            file.names.append(e.name)
        }
        return file
    }

    private static func parseMetadata(_ value: HeaderJSON, _ invalid: (String) -> TensorCoreError) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw invalid("__metadata__ is \(value.kindName), expected a map of strings to strings")
        }
        var metadata: [String: String] = [:]
        for (key, v) in pairs {
            guard case .string(let s) = v else {
                throw invalid("__metadata__ value for '\(key)' is \(v.kindName); metadata values must be strings")
            }
            guard metadata.updateValue(s, forKey: key) == nil else { throw invalid("duplicate __metadata__ key '\(key)'") }
        }
        return metadata
    }

    private static func parseEntry(_ name: String, _ value: HeaderJSON, bufferSize: Int, path: String) throws -> Entry {
        func invalid(_ reason: String) -> TensorCoreError { .invalidFile(path: path, reason: "tensor '\(name)': \(reason)") }
        guard case .object(let pairs) = value else {
            throw invalid("header entry is \(value.kindName), expected an object with dtype, shape and data_offsets")
        }
        var fields: [String: HeaderJSON] = [:]
        for (k, v) in pairs where fields.updateValue(v, forKey: k) != nil { throw invalid("duplicate field '\(k)'") }

        guard case .string(let dtype)? = fields["dtype"] else { throw invalid("missing or non-string \"dtype\"") }
        guard case .array(let dims)? = fields["shape"] else { throw invalid("missing or non-list \"shape\"") }
        var shape: [Int] = []
        for d in dims {
            guard case .integer(let v) = d else { throw invalid("shape entries must be integers") }
            guard v >= 0 else { throw invalid("negative dimension \(v) in shape") }
            shape.append(v)
        }
        guard case .array(let offsets)? = fields["data_offsets"], offsets.count == 2,
              case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1]
        else { throw invalid("\"data_offsets\" must be [begin, end] integers") }
        guard begin >= 0, begin <= end else { throw invalid("data_offsets [\(begin), \(end)] are invalid (need 0 <= begin <= end)") }
        guard end <= bufferSize else {
            throw invalid("data_offsets [\(begin), \(end)] are out of range: the data buffer is \(bufferSize) bytes (truncated?)")
        }
        guard let kind = kinds[dtype] else { throw TensorCoreError.unsupportedDType(dtype, path: path) }
        guard let bytes = checkedByteCount(shape, itemSize: kind.itemSize) else { throw invalid("shape \(shape) is too large") }
        guard end - begin == bytes else {
            throw invalid("data_offsets span \(end - begin) bytes but \(dtype) with shape \(shape) needs \(bytes)")
        }
        return Entry(name: name, dtype: dtype, kind: kind, shape: shape, begin: begin, end: end)
    }

    // MARK: Writing

    /// Writes `tensors` (as F32) and `int64Tensors` (as I64) atomically. Empty `metadata` is omitted.
    public static func write(_ tensors: [String: Tensor], int64Tensors: [String: Int64Array] = [:],
                             metadata: [String: String] = [:], to url: URL) throws {
        let data = try encode(tensors, int64Tensors: int64Tensors, metadata: metadata, path: url.path)
        try writeFileAtomically(data, to: url)
    }

    /// The file bytes. Layout matches the Python `safetensors` writer byte for byte: I64 entries
    /// before F32 (larger alignment first), each group sorted by name; `__metadata__` first; compact
    /// JSON padded with spaces to a multiple of 8. Metadata keys are sorted (the reference writer's
    /// order for several keys comes from a hash map, so only ≤1 key can match it exactly).
    /// Throws when a name is used twice or is `__metadata__`.
    public static func encode(_ tensors: [String: Tensor], int64Tensors: [String: Int64Array] = [:],
                              metadata: [String: String] = [:]) throws -> Data {
        try encode(tensors, int64Tensors: int64Tensors, metadata: metadata, path: "<safetensors data>")
    }

    private static func encode(_ tensors: [String: Tensor], int64Tensors: [String: Int64Array],
                               metadata: [String: String], path: String) throws -> Data {
        for name in int64Tensors.keys where tensors[name] != nil {
            throw TensorCoreError.invalidFile(path: path, reason: "'\(name)' is both a Float32 and an Int64 tensor")
        }
        if tensors["__metadata__"] != nil || int64Tensors["__metadata__"] != nil {
            throw TensorCoreError.invalidFile(path: path, reason: "'__metadata__' is reserved and cannot name a tensor")
        }
        let intNames = int64Tensors.keys.sorted(by: utf8Less)
        let floatNames = tensors.keys.sorted(by: utf8Less)

        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted(by: utf8Less).map { HeaderJSON.quote($0) + ":" + HeaderJSON.quote(metadata[$0]!) }
            parts.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        func entry(_ name: String, _ dtype: String, _ shape: [Int], bytes: Int) -> String {
            defer { offset += bytes }
            let dims = shape.map(String.init).joined(separator: ",")
            return HeaderJSON.quote(name) + ":{\"dtype\":\"\(dtype)\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(offset + bytes)]}"
        }
        for name in intNames { parts.append(entry(name, "I64", int64Tensors[name]!.shape, bytes: int64Tensors[name]!.count * 8)) }
        for name in floatNames { parts.append(entry(name, "F32", tensors[name]!.shape, bytes: tensors[name]!.count * 4)) }

        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var out = Data(capacity: 8 + header.count + offset)
        out.appendLittleEndian(UInt64(header.count))
        out.append(contentsOf: header)
        for name in intNames { out.appendLittleEndian(int64Tensors[name]!.values) }
        for name in floatNames { out.appendLittleEndian(tensors[name]!.data) }
        return out
    }
}
