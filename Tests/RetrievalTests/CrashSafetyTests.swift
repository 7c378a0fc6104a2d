import Foundation
import Testing
import TensorCore
@testable import Retrieval

/// kill -9 in the middle of a multi-batch build must leave every committed batch intact.
@Suite struct CrashSafetyTests {
    /// The `magpie` executable built next to this test bundle (`swift test` builds every product).
    static var magpie: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("magpie")
    }

    @Test func killDuringBuildKeepsCommittedBatches() throws {
        let binary = Self.magpie
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the magpie product first: \(binary.path)")
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let n = 40_000, d = 8, batch = 200
        var rng = RNG(seed: 11)
        let x = (0..<(n * d)).map { _ in rng.normal() }
        let input = dir.path + "/x.npy"
        try NPY.write(Tensor(shape: [n, d], data: x), to: URL(fileURLWithPath: input))
        let galleryPath = dir.path + "/gallery"

        let child = Process()
        child.executableURL = binary
        child.arguments = ["gallery", "import", "--gallery", galleryPath, "--input", input,
                           "--batch-size", "\(batch)", "--batch-delay-ms", "20"]
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        // Wait until a few batches are committed, then kill without warning.
        var seen = 0
        let deadline = Date().addingTimeInterval(30)
        while seen < 5 * batch, Date() < deadline {
            usleep(10_000)
            if let g = try? Gallery.open(at: galleryPath, readOnly: true) { seen = (try? g.manifest().count) ?? 0 }
        }
        #expect(child.isRunning, "the import finished before it could be killed")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)

        let gallery = try Gallery.open(at: galleryPath)
        let snap = try gallery.snapshot()
        #expect(snap.ids.count >= 5 * batch && snap.ids.count < n)
        #expect(snap.ids.count % batch == 0, "a partial batch is visible: \(snap.ids.count) vectors")
        #expect(snap.manifest.count == snap.ids.count)
        #expect(snap.ids == (0..<snap.ids.count).map(Int64.init))
        #expect(snap.vectors == Array(x[0..<(snap.ids.count * d)]))
        // The gallery stays writable after the crash.
        try gallery.add(ids: [Int64(n + 1)], vectors: [Float](repeating: 0.5, count: d))
        #expect(try gallery.manifest().count == snap.ids.count + 1)
    }
}
