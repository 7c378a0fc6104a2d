import Foundation

/// PaddleClas list files (`ImageNetDataset`, PULC, gallery `data_file`): `path label` per line,
/// separated by a space or a tab (or the given delimiter), an optional third integer column
/// (a per-image id, as PaddleClas's VeriWild lists have). Paths are relative to `imageRoot`.
public enum LabelListReader {
    /// - Parameters:
    ///   - delimiter: the field separator; nil splits on runs of spaces and tabs.
    ///   - relabel: remap labels densely in ascending order (PaddleClas `relabel: True`); otherwise
    ///     labels must be non-negative and `classCount` is the largest + 1.
    public static func read(listFile: String, imageRoot: String? = nil, delimiter: String? = nil,
                            relabel: Bool = false) throws -> ImageListDataset {
        let root = imageRoot ?? (listFile as NSString).deletingLastPathComponent
        var records: [ImageRecord] = []
        for (i, line) in try ImageListDataset.lines(of: listFile).enumerated() {
            let fields: [Substring]
            if let delimiter {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                fields = trimmed.components(separatedBy: delimiter).filter { !$0.isEmpty }.map { Substring($0) }
            } else {
                fields = ImageListDataset.fields(line)
            }
            if fields.isEmpty { continue }
            guard fields.count == 2 || fields.count == 3 else {
                throw DatasetsError.badLine(path: listFile, line: i + 1,
                                            reason: "expected 'path label' (optionally a third id column), got \(fields.count) field(s)")
            }
            guard let label = Int(fields[1]) else {
                throw DatasetsError.badLine(path: listFile, line: i + 1, reason: "label '\(fields[1])' is not an integer")
            }
            guard relabel || label >= 0 else {
                throw DatasetsError.badLine(path: listFile, line: i + 1, reason: "label \(label) is negative")
            }
            var uniqueID: Int?
            if fields.count == 3 {
                guard let id = Int(fields[2]) else {
                    throw DatasetsError.badLine(path: listFile, line: i + 1, reason: "third column '\(fields[2])' is not an integer id")
                }
                uniqueID = id
            }
            records.append(ImageRecord(path: ImageListDataset.resolve(String(fields[0]), root: root), label: label, uniqueID: uniqueID))
        }
        guard !records.isEmpty else { throw DatasetsError.badData(path: listFile, reason: "the list has no images") }
        if relabel {
            let (dense, n) = ImageListDataset.denseLabels(records.map(\.originalLabel))
            for i in records.indices { records[i].label = dense[i] }
            return ImageListDataset(records: records, classCount: n, source: listFile)
        }
        return ImageListDataset(records: records, classCount: (records.map(\.label).max() ?? -1) + 1, source: listFile)
    }
}
