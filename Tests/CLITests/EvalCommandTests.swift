import Foundation
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

/// `magpie eval` and `magpie gallery` end to end through the built executable.
@Suite struct EvalCommandTests {
    /// Writes the metrics_ints fixture as .npy files and returns (embeddings, labels) paths.
    static func writeFixture(_ dir: TemporaryFolder) throws -> (String, String, Fixture) {
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let f = try Fixture("metrics_ints")
        let e = dir.path + "/e.npy", l = dir.path + "/l.npy"
        try NPY.write(Tensor(shape: f.shape("x"), data: f.floats("x")), to: URL(fileURLWithPath: e))
        try NPY.write(Int64Array(f.ints("labels")), to: URL(fileURLWithPath: l))
        return (e, l, f)
    }

    @Test func evalOnFilesMatchesNumpyReference() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let (e, l, f) = try Self.writeFixture(dir)
        for (proto, key) in [("standard", "standard"), ("paddleclas", "paddleclas")] {
            let run = try MagpieBinary.run(["eval", "--embeddings", e, "--labels", l, "--ks", "1,2,5,10", "--protocol", proto, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(run.stdout.utf8))
            let expected = f.doubles(key)
            for (i, k) in [1, 2, 5, 10].enumerated() { #expect(abs(report.recall(at: k)! - expected[i]) < 1e-6) }
            #expect(abs(report.mAP - expected[4]) < 1e-6)
        }
    }

    /// `--index`: the usual exact metrics, plus the index's agreement with exact search and the
    /// label recall its answers give; flat agrees completely and gives the exact recall.
    @Test func evalWithAnIndexReportsItsRecallAgainstExactSearch() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let n = 3000, d = 16
        let vectors = randomVectors(n, d, seed: 9)
        let e = dir.path + "/e.npy", l = dir.path + "/l.npy"
        try NPY.write(Tensor(shape: [n, d], data: vectors), to: URL(fileURLWithPath: e))
        try NPY.write(Int64Array((0..<n).map { Int64($0 % 50) }), to: URL(fileURLWithPath: l))
        for (index, floor) in [("flat", 1.0), ("hnsw", 0.9)] {
            let run = try MagpieBinary.run(["eval", "--embeddings", e, "--labels", l, "--ks", "1,10", "--index", index, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
            let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(run.stdout.utf8))
            let agreement = try JSONDecoder().decode(IndexAgreement.self,
                                                     from: JSONSerialization.data(withJSONObject: object["index"] ?? [:]))
            #expect(agreement.atK.map(\.k) == [1, 10])
            for row in agreement.atK {
                #expect(row.agreement >= floor, "\(index) @\(row.k): \(row.agreement)")
                if index == "flat" { #expect(abs(row.recall - report.recall(at: row.k)!) < 1e-9) }
            }
        }
        let refused = try MagpieBinary.run(["eval", "--embeddings", e, "--labels", l, "--index", "flat", "--m", "8"])
        #expect(refused.status != 0)
    }

    @Test func galleryImportThenEvalGivesTheSameNumbers() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let (e, l, f) = try Self.writeFixture(dir)
        let g = dir.path + "/gallery"
        let imported = try MagpieBinary.run(["gallery", "import", "--gallery", g, "--input", e, "--labels", l, "--batch-size", "40"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let run = try MagpieBinary.run(["eval", "--gallery", g, "--ks", "1,2,5,10", "--json"])
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(run.stdout.utf8))
        #expect(abs(report.mAP - f.doubles("standard")[4]) < 1e-6)
        let nd = dir.path + "/g.ndjson"
        #expect(try MagpieBinary.run(["gallery", "export", "--gallery", g, "--output", nd]).status == 0)
        let lines = try String(contentsOfFile: nd, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 150)
        #expect(lines[0].hasPrefix("{\"id\":0,\"vector\":["))
    }

    @Test func galleryStatsPrintsTheRecordedPreprocessing() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let preprocessing = "transform_ops:\n- ResizeImage: {resize_short: 72}\nfeature_normalize: true"
        let g = dir.path + "/gallery"
        _ = try Gallery.create(at: g, manifest: GalleryManifest(dimension: 4, model: "ResNet18", fingerprint: "f00d",
                                                                preprocessing: preprocessing))
        let json = try MagpieBinary.run(["gallery", "stats", "--gallery", g, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["preprocessing"] as? String == preprocessing)
        #expect(object?["fingerprint"] as? String == "f00d")
        let text = try MagpieBinary.run(["gallery", "stats", "--gallery", g])
        #expect(text.stdout.contains("preprocessing transform_ops:\n              - ResizeImage: {resize_short: 72}\n              feature_normalize"),
                "\(text.stdout)")
        let imported = dir.path + "/imported"
        _ = try Gallery.create(at: imported, manifest: GalleryManifest(dimension: 4))
        let none = try MagpieBinary.run(["gallery", "stats", "--gallery", imported, "--json"])
        let noneObject = try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [String: Any]
        #expect(noneObject != nil && noneObject?["preprocessing"] == nil)
    }

    @Test func badInputExitsNonZeroWithOneLine() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let (e, l, _) = try Self.writeFixture(dir)
        let truncated = dir.path + "/t.npy"
        try Data(try Data(contentsOf: URL(fileURLWithPath: e)).prefix(200)).write(to: URL(fileURLWithPath: truncated))
        let cases: [[String]] = [
            ["eval", "--embeddings", truncated, "--labels", l],
            ["eval", "--gallery", dir.path + "/missing"],
            ["eval", "--embeddings", e, "--labels", l, "--protocol", "nope"],
            ["gallery", "stats", "--gallery", dir.path],
        ]
        for args in cases {
            let run = try MagpieBinary.run(args)
            #expect(run.status != 0, "\(args)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: "), "\(args): \(run.stderr)")
        }
    }
}
