import Foundation

/// Which gallery items a search may return: labels in a set, and metadata fields equal to one of
/// the given values (top-level keys of the item's metadata JSON object; strings, numbers and
/// booleans compare by their JSON text, so `shop=A` matches `"shop": "A"` and `size=3` matches
/// `"size": 3`). Conditions on different keys must all hold; several values for one key (or
/// `label=3,7`) are alternatives. Applied inside the search, so k results come back whenever k
/// items pass it.
public struct GalleryFilter: Equatable, Sendable {
    public var labels: Set<Int64>?
    public var metadata: [String: Set<String>]

    public init(labels: Set<Int64>? = nil, metadata: [String: Set<String>] = [:]) {
        self.labels = labels
        self.metadata = metadata
    }

    /// Parses `label=1,2` and `key=value` conditions (`magpie query --filter`, the service's
    /// `filter` parameter); conditions on the same key are one condition.
    public init(parsing conditions: [String]) throws {
        self.init()
        for condition in conditions {
            guard let eq = condition.firstIndex(of: "="), eq != condition.startIndex else {
                throw RetrievalError.invalidArgument("filter '\(condition)' is not key=value (e.g. label=3,7 or shop=A)")
            }
            let key = condition[..<eq].trimmingCharacters(in: .whitespaces)
            let value = String(condition[condition.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            if key == "label" {
                let parsed = value.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
                guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
                    throw RetrievalError.invalidArgument("filter label=\(value): labels are comma-separated integers")
                }
                labels = (labels ?? []).union(parsed.map { $0! })
            } else {
                metadata[key, default: []].insert(value)
            }
        }
    }

    /// Whether an item with `record` passes.
    public func accepts(_ record: GalleryRecord, fields: [String: String]?) -> Bool {
        if let labels, !(record.label.map(labels.contains) ?? false) { return false }
        guard !metadata.isEmpty else { return true }
        guard let fields else { return false }
        return metadata.allSatisfy { condition in fields[condition.key].map(condition.value.contains) ?? false }
    }

    /// The top-level scalar fields of a metadata JSON object, as text.
    public static func fields(ofMetadata text: String?) -> [String: String]? {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        var out: [String: String] = [:]
        for (key, value) in object {
            if let s = value as? String {
                out[key] = s
            } else if let n = value as? NSNumber {
                let type = String(cString: n.objCType)
                out[key] = type == "c" || type == "B" ? (n.boolValue ? "true" : "false") : n.stringValue
            }
        }
        return out
    }
}
