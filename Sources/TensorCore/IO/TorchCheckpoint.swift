import Foundation

/// PyTorch checkpoints (`torch.save` of a state dict) read without Python or torch: the zip
/// format of PyTorch ≥ 1.6 (`archive/data.pkl` + one stored member per storage) and the legacy
/// format before it (five pickles — magic number, protocol, system info, the object, the storage
/// keys — followed by each storage as an 8-byte element count and its raw bytes).
///
/// The pickle is interpreted, never executed: only `collections.OrderedDict`,
/// `torch._utils._rebuild_tensor(_v2)` and `_rebuild_parameter` build anything; any other
/// callable yields an inert placeholder. Tensors may be views (offset, strides) of shared
/// storages; every element type converts to Float32. A checkpoint whose top level wraps the
/// weights (`state_dict`, `model`, `model_state_dict`, `net`) is unwrapped.
public enum TorchCheckpoint {
    /// File extensions PyTorch checkpoints go by.
    public static let fileExtensions: Set<String> = ["pth", "pt", "bin", "ckpt", "tar"]

    public static func read(_ url: URL) throws -> [String: Tensor] {
        try read(data: try readFileData(url), path: url.path)
    }

    public static func read(data: Data, path: String) throws -> [String: Tensor] {
        try data.withUnsafeBytes { raw in
            if raw.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try readZip(raw, path: path) }
            if raw.starts(with: legacyMagic) { return try readLegacy(raw, path: path) }
            throw TensorCoreError.invalidFile(path: path, reason: "not a PyTorch checkpoint (neither the zip format nor the legacy pickle format)")
        }
    }

    /// PROTO 2, LONG1 of 10 bytes: torch's magic number 0x1950a86a20f9469cfc6c.
    static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// One storage: a flat typed buffer named by its key; `bytes` is set once its data is located.
    final class Storage {
        let key: String
        let kind: ElementKind
        let count: Int
        var bytes: Range<Int>?
        init(key: String, kind: ElementKind, count: Int) { self.key = key; self.kind = kind; self.count = count }
    }

    /// A tensor as a strided view of a storage (materialised once every storage is located).
    final class View {
        let storage: Storage
        let offset: Int
        let shape: [Int]
        let strides: [Int]
        init(storage: Storage, offset: Int, shape: [Int], strides: [Int]) {
            self.storage = storage; self.offset = offset; self.shape = shape; self.strides = strides
        }
    }

    static let storageKinds: [String: ElementKind] = [
        "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ByteStorage": .u8, "BoolStorage": .bool,
    ]

    // MARK: Formats

    private static func readZip(_ raw: UnsafeRawBufferPointer, path: String) throws -> [String: Tensor] {
        let members = try StoredZip.members(raw, path: path, compressedAdvice: "torch.save writes stored members; re-save the checkpoint with torch.save")
        guard let pickle = members.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw TensorCoreError.invalidFile(path: path, reason: "zip archive without data.pkl: not a torch.save checkpoint")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        let byName = Dictionary(members.map { ($0.name, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        if let order = byName[prefix + "byteorder"],
           String(decoding: UnsafeRawBufferPointer(rebasing: raw[order]), as: UTF8.self) != "little" {
            throw TensorCoreError.invalidFile(path: path, reason: "big-endian checkpoints are not supported")
        }
        var reader = PickleReader(UnsafeRawBufferPointer(rebasing: raw[pickle.bytes]), path: path)
        let (top, storages) = try load(&reader, path: path)
        for storage in storages.values {
            guard let bytes = byName[prefix + "data/" + storage.key] else {
                throw TensorCoreError.invalidFile(path: path, reason: "storage '\(storage.key)' has no member \(prefix)data/\(storage.key)")
            }
            guard bytes.count / storage.kind.itemSize >= storage.count else {
                throw TensorCoreError.invalidFile(path: path, reason: "storage '\(storage.key)' is shorter than its \(storage.count) elements (truncated?)")
            }
            storage.bytes = bytes
        }
        return try tensors(top, raw: raw, path: path)
    }

    private static func readLegacy(_ raw: UnsafeRawBufferPointer, path: String) throws -> [String: Tensor] {
        var reader = PickleReader(raw, path: path)
        _ = try reader.load()                        // magic number (checked by the caller)
        guard try reader.load().int == 1001 else {
            throw TensorCoreError.invalidFile(path: path, reason: "unknown legacy checkpoint protocol version")
        }
        if case let .dict(info) = try reader.load(), case .bool(false)? = info["little_endian"] {
            throw TensorCoreError.invalidFile(path: path, reason: "big-endian checkpoints are not supported")
        }
        let (top, storages) = try load(&reader, path: path)
        guard let keys = try reader.load().elements?.compactMap(\.string) else {
            throw TensorCoreError.invalidFile(path: path, reason: "the list of storage keys is missing")
        }
        var position = reader.position
        for key in keys {
            guard raw.count - position >= 8 else {
                throw TensorCoreError.invalidFile(path: path, reason: "storage '\(key)' is cut off (truncated file?)")
            }
            let count = Int(clamping: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
            position += 8
            guard let storage = storages[key] else {
                throw TensorCoreError.invalidFile(path: path, reason: "storage '\(key)' is listed but no tensor uses it")
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: storage.kind.itemSize)
            guard !overflow, byteCount <= raw.count - position else {
                throw TensorCoreError.invalidFile(path: path, reason: "storage '\(key)' runs past the end of the file (truncated?)")
            }
            guard count >= storage.count else {
                throw TensorCoreError.invalidFile(path: path, reason: "storage '\(key)' holds \(count) elements, its tensors need \(storage.count)")
            }
            storage.bytes = position..<(position + byteCount)
            position += byteCount
        }
        return try tensors(top, raw: raw, path: path)
    }

    // MARK: Pickle hooks

    /// Loads the object pickle, turning persistent ids into storages and tensor rebuilds into views;
    /// returns it with the storages it uses, by key.
    private static func load(_ reader: inout PickleReader, path: String) throws -> (PickleValue, [String: Storage]) {
        func invalid(_ reason: String) -> TensorCoreError { .invalidFile(path: path, reason: reason) }
        var found: [String: Storage] = [:]
        reader.persistentLoad = { pid in
            // ('storage', <torch.XStorage>, key, location, element count[, view metadata])
            guard let id = pid.elements, id.count >= 5, id[0].string == "storage",
                  case let .global(_, typeName) = id[1], let key = id[2].string, let count = id[4].int, count >= 0
            else { throw invalid("unrecognised persistent id (\(pid.kind)) in the checkpoint") }
            guard let kind = storageKinds[typeName] else { throw TensorCoreError.unsupportedDType(typeName, path: path) }
            if id.count > 5, case .tuple = id[5] { throw invalid("storage views (legacy view metadata) are not supported") }
            if let known = found[key] { return .host(known) }
            let storage = Storage(key: key, kind: kind, count: count)
            found[key] = storage
            return .host(storage)
        }
        reader.reduce = { callable, args in
            guard case let .global(module, name) = callable, module == "torch._utils" else { return nil }
            switch name {
            case "_rebuild_tensor_v2", "_rebuild_tensor":
                guard args.count >= 4, case let .host(object) = args[0], let storage = object as? Storage,
                      let offset = args[1].int, let shape = args[2].elements?.compactMap(\.int),
                      let strides = args[3].elements?.compactMap(\.int), shape.count == strides.count
                else { throw invalid("malformed tensor record in the checkpoint") }
                guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), checkedCount(shape) != nil else {
                    throw invalid("tensor with a negative size, stride or offset")
                }
                // The last element a view reads must lie inside its storage.
                if !shape.contains(0) {
                    var last = offset
                    for (s, t) in zip(shape, strides) {
                        let (step, o1) = (s - 1).multipliedReportingOverflow(by: t)
                        let (sum, o2) = last.addingReportingOverflow(step)
                        guard !o1, !o2 else { throw invalid("tensor strides overflow") }
                        last = sum
                    }
                    guard last < storage.count else { throw invalid("a tensor reads past the end of storage '\(storage.key)'") }
                    // More elements than the storage holds means overlapping views (expand); a
                    // state dict has none, and refusing them bounds what a file can make us allocate.
                    guard Shape.count(shape) <= storage.count else {
                        throw invalid("a tensor of \(Shape.count(shape)) elements overlaps itself in storage '\(storage.key)' (expanded views are not supported)")
                    }
                }
                return .host(View(storage: storage, offset: offset, shape: shape, strides: strides))
            case "_rebuild_parameter", "_rebuild_parameter_with_state":
                return args.first
            default:
                return nil
            }
        }
        let top = try reader.load()
        return (top, found)
    }

    // MARK: Result

    /// The state dict inside `top` as Float32 tensors.
    private static func tensors(_ top: PickleValue, raw: UnsafeRawBufferPointer, path: String) throws -> [String: Tensor] {
        guard let dict = stateDict(top) else {
            let what = top.kind
            throw TensorCoreError.invalidFile(path: path, reason: "holds no dict of tensors (top level: \(what)); "
                                              + "save model.state_dict() rather than the model object")
        }
        var out: [String: Tensor] = [:]
        for key in dict.keys {
            guard case let .host(object)? = dict[key], let view = object as? View else { continue }
            out[key] = try materialise(view, raw: raw, path: path)
        }
        return out
    }

    /// The dict holding the tensors: the top level when it holds any, else a conventional wrapper key.
    static func stateDict(_ value: PickleValue, depth: Int = 0) -> PickleDict? {
        // A few wrapper levels at most: a dict that holds itself must not recurse forever.
        guard depth < 4, case let .dict(dict) = value else { return nil }
        let holdsTensors = dict.keys.contains { key in
            if case let .host(object)? = dict[key], object is View { return true }
            return false
        }
        if holdsTensors { return dict }
        for wrapper in ["state_dict", "model_state_dict", "model", "net", "module"] {
            if let inner = dict[wrapper], let found = stateDict(inner, depth: depth + 1) { return found }
        }
        return nil
    }

    private static func materialise(_ view: View, raw: UnsafeRawBufferPointer, path: String) throws -> Tensor {
        guard let bytes = view.storage.bytes else {
            throw TensorCoreError.invalidFile(path: path, reason: "storage '\(view.storage.key)' has no data")
        }
        let count = Shape.count(view.shape)
        guard count > 0 else { return Tensor(shape: view.shape, data: []) }
        // Decode only the span the view reads: its first element to its last.
        let span = zip(view.shape, view.strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
        let itemSize = view.storage.kind.itemSize
        let flat = view.storage.kind.decode(raw, offset: bytes.lowerBound + view.offset * itemSize, count: span).floats
        guard view.strides != Shape.strides(view.shape) else { return Tensor(shape: view.shape, data: flat) }
        var out = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: view.shape.count)
        for i in 0..<count {
            var source = 0
            for (d, stride) in view.strides.enumerated() { source += index[d] * stride }
            out[i] = flat[source]
            var d = view.shape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < view.shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: view.shape, data: out)
    }
}
