import Foundation
import TestSupport
import Testing

/// `magpie bench ann --index-file`: the first run builds and saves the index, the next loads it
/// and answers with the same recall; a file for other vectors is refused with the way out.
@Suite struct BenchANNCommandTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, json: [String: Any], stderr: String) {
        let run = try MagpieBinary.run(["bench", "ann", "--json"] + arguments)
        let json = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any] ?? [:]
        return (run.status, json, run.stderr)
    }

    static func recalls(_ json: [String: Any]) -> [Double] {
        (json["search"] as? [[String: Any]] ?? []).compactMap { $0["recall_at_10"] as? Double }
    }

    @Test(arguments: ["hnsw", "ivfpq"])
    func savesThenLoadsTheIndex(type: String) throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let file = dir.path + "/index." + type
        let settings = ["--type", type, "--n", "3000", "--dim", "16", "--queries", "50", "--clusters", "30",
                        "--nlist", "32", "--pq-m", "4", "--nprobe", "4", "--ef-search", "32", "--index-file", file]
        let built = try Self.run(settings)
        #expect(built.status == 0, "\(built.stderr)")
        #expect(built.json["loaded"] as? Bool == false && FileManager.default.fileExists(atPath: file))
        let loaded = try Self.run(settings)
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.json["loaded"] as? Bool == true)
        #expect(!Self.recalls(built.json).isEmpty && Self.recalls(loaded.json) == Self.recalls(built.json))

        var other = settings
        other[other.firstIndex(of: "3000")!] = "2000"
        let refused = try Self.run(other)
        #expect(refused.status != 0 && refused.stderr.contains("remove it to rebuild"), "\(refused.stderr)")
    }
}
