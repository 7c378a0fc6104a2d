import Foundation

/// The images a user names on the command line (`query --image`, `gallery add --images`,
/// `predict --infer_imgs`, `export-embeddings --images`): one file, or the JPEG and PNG files
/// under a folder and its subfolders, sorted. Paths come back absolute, so what a gallery records
/// still opens when the service runs from another working directory (list files already resolve
/// against their folder).
public enum ImageFiles {
    /// The extensions the decoder reads (JPEG and PNG, whatever the case).
    public static let extensions = ImageFolderReader.extensions

    /// Whether a file name ends in one of `extensions`.
    public static func hasImageExtension(_ name: String) -> Bool {
        extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// Whether `path` names images (a folder, or a file with an image extension) rather than a
    /// list file of `path label` lines: how every command that takes either tells them apart.
    public static func namesImages(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return true }
        return hasImageExtension(path)
    }

    public static func list(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetsError.badData(path: path, reason: "no such file or folder")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard isDirectory.boolValue else { return [absolute] }
        var out: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: absolute)
        while let item = enumerator?.nextObject() as? String {
            if hasImageExtension(item) {
                out.append((absolute as NSString).appendingPathComponent(item))
            }
        }
        guard !out.isEmpty else { throw DatasetsError.badData(path: path, reason: "no .jpg, .jpeg or .png images in the folder") }
        return out.sorted()
    }
}
