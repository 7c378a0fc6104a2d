import Foundation
import TensorCore

/// One image file with its (dense) class label.
public struct ImageRecord: Equatable, Sendable {
    /// Path to the image file (list-relative paths are resolved against the image root).
    public var path: String
    /// Dense class index 0..<classCount.
    public var label: Int
    /// The class id as written in the source, before any remapping.
    public var originalLabel: Int
    /// SOP's super-class (category) id, when the source has one.
    public var superLabel: Int?
    /// A per-image id (SOP `image_id`, a list file's third column), when the source has one.
    public var uniqueID: Int?

    public init(path: String, label: Int, originalLabel: Int? = nil, superLabel: Int? = nil, uniqueID: Int? = nil) {
        self.path = path; self.label = label; self.originalLabel = originalLabel ?? label
        self.superLabel = superLabel; self.uniqueID = uniqueID
    }
}

/// Something a loader can draw samples from: the payload (encoded file or decoded array) and the
/// label of item `index`.
public protocol ImageSource: Sendable {
    var count: Int { get }
    func label(at index: Int) -> Int
    /// The item's input to the transform chain; throws for an unreadable file.
    func payload(at index: Int) throws -> Payload
}

/// A list of image files with labels: what every file-based reader returns.
public struct ImageListDataset: ImageSource, Sendable {
    public var records: [ImageRecord]
    /// Number of distinct classes (labels are 0..<classCount).
    public var classCount: Int
    /// Where the list came from (for messages).
    public var source: String

    public init(records: [ImageRecord], classCount: Int, source: String) {
        self.records = records; self.classCount = classCount; self.source = source
    }

    public var count: Int { records.count }
    public var labels: [Int] { records.map(\.label) }
    public func label(at index: Int) -> Int { records[index].label }

    public func payload(at index: Int) throws -> Payload {
        let path = records[index].path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetsError.badImage(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        return .encoded([UInt8](data), source: path)
    }

    /// Maps arbitrary class ids to 0..<n in ascending order of the original id.
    static func denseLabels(_ ids: [Int]) -> (labels: [Int], classCount: Int) {
        let sorted = Array(Set(ids)).sorted()
        var index = [Int: Int](minimumCapacity: sorted.count)
        for (i, id) in sorted.enumerated() { index[id] = i }
        return (ids.map { index[$0]! }, sorted.count)
    }

    /// Resolves `path` against `root` unless it is absolute.
    static func resolve(_ path: String, root: String) -> String {
        path.hasPrefix("/") ? path : (root as NSString).appendingPathComponent(path)
    }

    /// The lines of a text file, with a clear error when it cannot be read.
    /// Reads a list of either layout: SOP's (`image_id class_id super_class_id path` header, see
    /// `SOPReader`) or PaddleClas's `path label` lines (`LabelListReader`); `imageRoot` defaults to
    /// the list's folder.
    public static func read(listFile: String, imageRoot: String? = nil) throws -> ImageListDataset {
        let isSOP = try lines(of: listFile).first?.hasPrefix("image_id") ?? false
        return isSOP ? try SOPReader.read(listFile: listFile, imageRoot: imageRoot)
                     : try LabelListReader.read(listFile: listFile, imageRoot: imageRoot)
    }

    static func lines(of path: String) throws -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetsError.badData(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetsError.badData(path: path, reason: "not UTF-8 text")
        }
        // Split on the UTF-8 bytes: "\r\n" is a single Character, and Character iteration is slow
        // for 60k-line lists.
        var lines: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex, i = utf8.startIndex
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "\n") {
                var end = i
                if end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "\r") { end = utf8.index(before: end) }
                lines.append(text[start..<end])
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        var end = utf8.endIndex
        if end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "\r") { end = utf8.index(before: end) }
        lines.append(text[start..<end])
        return lines
    }

    /// The fields of a line separated by runs of spaces and tabs.
    static func fields(_ line: Substring) -> [Substring] {
        var result: [Substring] = []
        let utf8 = line.utf8
        var fieldStart: String.Index?
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") {
                if let s = fieldStart { result.append(line[s..<i]); fieldStart = nil }
            } else if fieldStart == nil {
                fieldStart = i
            }
            i = utf8.index(after: i)
        }
        if let s = fieldStart { result.append(line[s..<utf8.endIndex]) }
        return result
    }
}
