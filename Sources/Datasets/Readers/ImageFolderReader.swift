import Foundation

/// torchvision `ImageFolder`: `root/<class>/<image>`, classes indexed in sorted folder-name order,
/// images sorted by name; files without an image extension are skipped.
public enum ImageFolderReader {
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The dataset and the class names (index = label).
    public static func read(root: String) throws -> (dataset: ImageListDataset, classNames: [String]) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetsError.badData(path: root, reason: "not a folder")
        }
        let classes = try fm.contentsOfDirectory(atPath: root).filter { name in
            var dir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &dir) && dir.boolValue
        }.sorted()
        guard !classes.isEmpty else { throw DatasetsError.badData(path: root, reason: "no class folders inside") }
        var records: [ImageRecord] = []
        for (label, name) in classes.enumerated() {
            let folder = (root as NSString).appendingPathComponent(name)
            let files = try fm.contentsOfDirectory(atPath: folder)
                .filter { !$0.hasPrefix(".") && ImageFiles.hasImageExtension($0) }.sorted()
            guard !files.isEmpty else { throw DatasetsError.badData(path: folder, reason: "class folder has no .jpg/.jpeg/.png images") }
            records += files.map { ImageRecord(path: (folder as NSString).appendingPathComponent($0), label: label) }
        }
        return (ImageListDataset(records: records, classCount: classes.count, source: root), classes)
    }
}
