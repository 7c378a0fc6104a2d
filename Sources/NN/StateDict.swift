import TensorCore

/// What a state-dict load found: keys the model expects but the source lacks, keys the source
/// has but the model does not, and keys whose shapes differ.
public struct LoadReport: Equatable, CustomStringConvertible {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var mismatched: [(key: String, expected: [Int], found: [Int])] = []

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + list(missing)) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + list(unexpected)) }
        if !mismatched.isEmpty {
            parts.append("shape mismatches: " + list(mismatched.map { "\($0.key) expects \($0.expected), file has \($0.found)" }))
        }
        return parts.isEmpty ? "all keys matched" : parts.joined(separator: "; ")
    }

    private func list(_ items: [String]) -> String {
        items.count <= 8 ? items.joined(separator: ", ") : items.prefix(8).joined(separator: ", ") + " … (\(items.count) in all)"
    }

    public static func == (a: LoadReport, b: LoadReport) -> Bool {
        a.missing == b.missing && a.unexpected == b.unexpected
            && a.mismatched.map(\.key) == b.mismatched.map(\.key)
    }
}

extension Module {
    /// Copies values from `source` into this module's parameters and buffers (in place, so
    /// optimizers keep their references). Strict loading throws on any missing, unexpected or
    /// mis-shaped key and changes nothing; non-strict loading copies every key that fits and
    /// returns the report. A tensor with the right count but different shape is accepted only
    /// for `num_batches_tracked` scalars written as [1].
    @discardableResult
    public func load(stateDict source: [String: Tensor], strict: Bool = true) throws -> LoadReport {
        var report = LoadReport()
        let own = stateDict()
        let ownKeys = Set(own.map(\.0))
        var matched: [(Tensor, Tensor)] = []
        for (key, target) in own {
            guard let value = source[key] else { report.missing.append(key); continue }
            let scalarAlike = target.count == 1 && value.count == 1
            if value.shape != target.shape && !scalarAlike {
                report.mismatched.append((key, target.shape, value.shape))
                continue
            }
            matched.append((target, value))
        }
        report.unexpected = source.keys.filter { !ownKeys.contains($0) }.sorted()
        if strict && !report.isClean { throw NNError.stateDictMismatch(report) }
        for (target, value) in matched { target.data = value.data }
        return report
    }
}
