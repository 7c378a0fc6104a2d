import Foundation

/// The `magpie` executable built next to the test bundle (`swift build --build-tests` builds
/// every product), for tests that run commands end to end.
public enum MagpieBinary {
    public struct Run {
        public var status: Int32
        public var reason: Process.TerminationReason
        public var stdout: String
        public var stderr: String
    }

    public static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("magpie")
    }

    public static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: url.path) }

    /// Runs `magpie arguments…` (or `executable`) to completion and collects its output.
    public static func run(_ arguments: [String], executable: URL? = nil) throws -> Run {
        let child = Process()
        child.executableURL = executable ?? url
        child.arguments = arguments
        let out = Pipe(), err = Pipe()
        child.standardOutput = out
        child.standardError = err
        try child.run()
        // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Run(status: child.terminationStatus, reason: child.terminationReason,
                   stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}
