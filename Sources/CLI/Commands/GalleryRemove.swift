import ArgumentParser
import Foundation
import Retrieval

/// `magpie gallery remove`: deletes items by id.
struct GalleryRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Delete items from a gallery by id, in one transaction.",
        discussion: """
        Ids come from --id (repeatable, or comma-separated) and --ids-file (one id per line). An id \
        that is not in the gallery is an error and nothing is removed, unless --ignore-missing.
        """
    )

    @Option(help: "Gallery folder.") var gallery: String
    @Option(help: "Id(s) to remove: --id 3 --id 5 or --id 3,5.") var id: [String] = []
    @Option(name: .customLong("ids-file"), help: "File with one id per line.") var idsFile: String?
    @Flag(name: .customLong("ignore-missing"), help: "Skip ids that are not in the gallery.") var ignoreMissing = false

    func run() throws {
        var texts = id.flatMap { $0.split(separator: ",").map(String.init) }
        if let idsFile {
            guard let text = try? String(contentsOfFile: idsFile, encoding: .utf8) else {
                throw ValidationError("cannot read --ids-file \(idsFile)")
            }
            texts += text.split(whereSeparator: \.isNewline).map(String.init)
        }
        let ids: [Int64] = try texts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { text in
            guard let v = Int64(text), v >= 0 else { throw ValidationError("'\(text)' is not a gallery id (a non-negative integer)") }
            return v
        }
        guard !ids.isEmpty else { throw ValidationError("give the ids to remove: --id N (repeatable) or --ids-file FILE") }
        let store = try Gallery.open(at: gallery)
        let missing = try ids.filter { try store.item($0) == nil }
        if !missing.isEmpty, !ignoreMissing {
            let shown = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
            throw ValidationError("\(missing.count) id(s) not in \(gallery): \(shown); nothing was removed (use --ignore-missing to skip them)")
        }
        let removed = try store.delete(ids)
        print("removed \(removed) items from \(gallery); it now holds \(try store.manifest().count)")
    }
}
