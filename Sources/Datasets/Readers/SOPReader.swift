/// Stanford Online Products lists (`Ebay_train.txt`, `Ebay_test.txt`): a header line
/// `image_id class_id super_class_id path`, then one image per line, paths relative to the
/// dataset folder. Class ids are remapped densely in ascending order (train ids are 1…11318,
/// test ids 11319…22634); the test split is used as both query and gallery.
public enum SOPReader {
    public static let header = ["image_id", "class_id", "super_class_id", "path"]

    /// Reads `listFile`; `imageRoot` defaults to the list's folder.
    public static func read(listFile: String, imageRoot: String? = nil) throws -> ImageListDataset {
        let root = imageRoot ?? (listFile as NSString).deletingLastPathComponent
        let lines = try ImageListDataset.lines(of: listFile)
        guard let first = lines.first, ImageListDataset.fields(first).map(String.init) == header else {
            throw DatasetsError.badLine(path: listFile, line: 1, reason: "expected the SOP header '\(header.joined(separator: " "))'")
        }
        var records: [ImageRecord] = []
        var seenIDs = Set<Int>()
        for (i, line) in lines.enumerated().dropFirst() {
            let number = i + 1
            let fields = ImageListDataset.fields(line)
            if fields.isEmpty { continue }
            guard fields.count == 4 else {
                throw DatasetsError.badLine(path: listFile, line: number, reason: "expected 4 fields (image_id class_id super_class_id path), got \(fields.count)")
            }
            guard let id = Int(fields[0]), let cls = Int(fields[1]), let sup = Int(fields[2]) else {
                throw DatasetsError.badLine(path: listFile, line: number, reason: "image_id, class_id and super_class_id must be integers")
            }
            guard seenIDs.insert(id).inserted else {
                throw DatasetsError.badLine(path: listFile, line: number, reason: "duplicate image_id \(id)")
            }
            records.append(ImageRecord(path: ImageListDataset.resolve(String(fields[3]), root: root), label: cls,
                                       originalLabel: cls, superLabel: sup, uniqueID: id))
        }
        guard !records.isEmpty else { throw DatasetsError.badData(path: listFile, reason: "the list has no images") }
        let (dense, classCount) = ImageListDataset.denseLabels(records.map(\.originalLabel))
        for i in records.indices { records[i].label = dense[i] }
        return ImageListDataset(records: records, classCount: classCount, source: listFile)
    }
}

import Foundation
