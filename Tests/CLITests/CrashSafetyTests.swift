import Foundation
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

/// kill -9 in the middle of a multi-batch build must leave every committed batch intact.
@Suite struct CrashSafetyTests {
    @Test func killDuringBuildKeepsCommittedBatches() throws {
        let binary = MagpieBinary.url
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
                           "--batch-size", "\(batch)", "--incremental", "--batch-delay-ms", "20"]
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

/// A write that hits the disk or file-size limit is an error and leaves the gallery as it was.
@Suite struct DiskFullTests {
    @Test func failedCommitIsAnErrorAndKeepsTheGallery() throws {
        let binary = MagpieBinary.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the magpie product first: \(binary.path)")
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let galleryPath = dir.path + "/gallery"
        let small = dir.path + "/small.npy", big = dir.path + "/big.npy"
        try NPY.write(Tensor(shape: [100, 64], data: randomVectors(100, 64, seed: 1)), to: URL(fileURLWithPath: small))
        try NPY.write(Tensor(shape: [20_000, 64], data: randomVectors(20_000, 64, seed: 2)), to: URL(fileURLWithPath: big))
        #expect(try MagpieBinary.run(["gallery", "import", "--gallery", galleryPath, "--input", small]).status == 0)

        // A 1 MiB file-size limit (SIGXFSZ ignored, so write() fails with EFBIG): the 5 MB import
        // cannot commit. Its ids start after the first import's, so only the limit can refuse it.
        let ids = dir.path + "/ids.npy"
        try NPY.write(Int64Array(shape: [20_000], values: (100..<20_100).map(Int64.init)), to: URL(fileURLWithPath: ids))
        let limited = try MagpieBinary.run(["-c", "trap '' XFSZ; ulimit -f 1024; exec \"$0\" \"$@\"", binary.path,
                                            "gallery", "import", "--gallery", galleryPath, "--input", big, "--ids", ids],
                                           executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(limited.status != 0 && limited.reason == .exit, "exit \(limited.status): \(limited.stderr)")
        #expect(limited.stderr.contains("nothing of this write was committed"), "\(limited.stderr)")
        #expect(!limited.stderr.contains("double free"))
        let g = try Gallery.open(at: galleryPath)
        #expect(try g.manifest().count == 100)
        #expect(try g.snapshot().ids == (0..<100).map(Int64.init))
    }
}
