import Foundation

/// An output folder built under a temporary name beside its destination and renamed into place
/// when complete, so `DIR` either does not exist or holds a whole export. A crash leaves only a
/// hidden `.DIR.partial-*` folder, which the next export of the same name removes.
public struct StagedFolder {
    public let destination: URL
    public let staging: URL

    /// Creates the staging folder. Throws if `destination` exists, unless `replacing` and
    /// `refusal` (why this existing folder must not be replaced, nil when it may be) says nothing.
    public init(destination path: String, replacing: Bool, refusal: (URL) -> String? = { _ in nil }) throws {
        destination = URL(fileURLWithPath: path).standardizedFileURL
        let parent = destination.deletingLastPathComponent()
        let name = destination.lastPathComponent
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RetrievalError.invalidInput(path: parent.path, reason: "the folder to export into does not exist; create it first")
        }
        if fm.fileExists(atPath: destination.path) {
            guard replacing else {
                throw RetrievalError.invalidInput(path: destination.path, reason: "already exists; pass --force to replace it or choose another --out")
            }
            if let reason = refusal(destination) { throw RetrievalError.invalidInput(path: destination.path, reason: reason) }
        }
        // Leftovers of an export killed earlier (its process is gone) would only waste space.
        let prefix = ".\(name).partial-"
        for entry in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? [] where entry.hasPrefix(prefix) {
            // Only when the owner is gone (ESRCH); EPERM means it runs under another user.
            if let pid = Int32(entry.dropFirst(prefix.count).prefix(while: { $0 != "-" })), kill(pid, 0) != 0, errno == ESRCH {
                try? fm.removeItem(at: parent.appendingPathComponent(entry))
            }
        }
        staging = parent.appendingPathComponent(".\(name).partial-\(getpid())-\(UInt32.random(in: .min ... .max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw RetrievalError.invalidInput(path: staging.path, reason: "cannot create the staging folder (\(error.localizedDescription))")
        }
    }

    public func path(_ file: String) -> String { staging.appendingPathComponent(file).path }

    /// Moves the staging folder to the destination (replacing an existing one: the old folder is
    /// moved aside first and removed after, so a failure in between keeps one of the two whole).
    public func commit() throws {
        let fm = FileManager.default
        var aside: URL?
        if fm.fileExists(atPath: destination.path) {
            let old = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).old-\(getpid())-\(UInt32.random(in: .min ... .max))")
            guard rename(destination.path, old.path) == 0 else { throw failure("cannot move the existing folder aside") }
            aside = old
        }
        guard rename(staging.path, destination.path) == 0 else {
            let error = failure("cannot rename the finished export into place")
            if let aside { _ = rename(aside.path, destination.path) }
            throw error
        }
        if let aside { try? fm.removeItem(at: aside) }
    }

    /// Removes the staging folder and everything in it.
    public func abandon() { try? FileManager.default.removeItem(at: staging) }

    private func failure(_ what: String) -> RetrievalError {
        .invalidInput(path: destination.path, reason: "\(what) (\(String(cString: strerror(errno))))")
    }
}
