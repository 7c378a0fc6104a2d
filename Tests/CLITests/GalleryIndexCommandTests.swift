import Foundation
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

/// `magpie gallery index`: records the choice, builds and saves the graph; kill -9 during the
/// build leaves a gallery that opens, rebuilds and answers; `stats` says whether the file is current.
@Suite struct GalleryIndexCommandTests {
    static func stats(_ gallery: String) throws -> [String: Any] {
        let run = try MagpieBinary.run(["gallery", "stats", "--gallery", gallery, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    @Test func buildsSavesAndSurvivesAKillDuringTheBuild() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let n = 30_000, d = 16
        let input = dir.path + "/x.npy", gallery = dir.path + "/gallery"
        try NPY.write(Tensor(shape: [n, d], data: randomVectors(n, d, seed: 4)), to: URL(fileURLWithPath: input))
        #expect(try MagpieBinary.run(["gallery", "import", "--gallery", gallery, "--input", input]).status == 0)
        #expect(try Self.stats(gallery)["index"] as? String == "FLAT (exact)")

        // kill -9 while the graph is being built: the choice is committed, the file is not written.
        let child = Process()
        child.executableURL = MagpieBinary.url
        child.arguments = ["gallery", "index", "--gallery", gallery, "--index", "HNSW16"]
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? Gallery.open(at: gallery, readOnly: true).manifest().index) == nil { usleep(10_000) }
        usleep(300_000)
        #expect(child.isRunning, "the build finished before it could be killed")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let killed = try Self.stats(gallery)
        #expect((killed["index"] as? String)?.hasPrefix("HNSW16") == true)
        #expect((killed["index_file"] as? String)?.contains("missing") == true, "\(killed)")

        // The next open rebuilds it and answers; the one after loads the saved graph.
        let rebuilt = try MagpieBinary.run(["gallery", "index", "--gallery", gallery, "--index", "HNSW16", "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect((try Self.stats(gallery)["index_file"] as? String)?.hasSuffix("current") == true)
        let g = try SearchableGallery(path: gallery, readOnly: true)
        let probe = Array(randomVectors(n, d, seed: 4)[(123 * d)..<(124 * d)])
        #expect(try g.search(probe, k: 1).hits[0].first?.id == 123)
        g.close()

        // Only a search setting changes: the graph is kept (re-stamped), not rebuilt.
        let retuned = try MagpieBinary.run(["gallery", "index", "--gallery", gallery, "--index", "HNSW16", "--ef-search", "32"])
        #expect(retuned.status == 0 && !retuned.stdout.contains("building"), "\(retuned.stdout)")
        #expect((try Self.stats(gallery)["index_file"] as? String)?.hasSuffix("current") == true)

        // Back to exact search.
        #expect(try MagpieBinary.run(["gallery", "index", "--gallery", gallery, "--index", "flat"]).status == 0)
        #expect(try Self.stats(gallery)["index"] as? String == "FLAT (exact)")
        let wrong = try MagpieBinary.run(["gallery", "index", "--gallery", gallery, "--index", "IVF"])
        #expect(wrong.status != 0 && wrong.stderr.contains("unknown index 'IVF'"), "\(wrong.stderr)")
    }
}
