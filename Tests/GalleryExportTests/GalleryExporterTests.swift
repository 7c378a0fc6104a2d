import Foundation
@testable import GalleryExport
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

@Suite struct GalleryExporterTests {
    /// Four unit vectors in the plane: ids 10 (1, 0), 20 (0, 1), 30 (0.6, 0.8), 40 (-1, 0).
    static func planeSnapshot() -> GallerySnapshot {
        var m = GalleryManifest(dimension: 2, model: "Toy", fingerprint: "f00d", preprocessing: "resize 8")
        m.count = 4
        return GallerySnapshot(manifest: m, ids: [10, 20, 30, 40], vectors: [1, 0, 0, 1, 0.6, 0.8, -1, 0], records: [
            GalleryRecord(label: 1, path: "a \"quoted\"\npath.jpg", metadata: #"{"shop": "x"}"#),
            GalleryRecord(metadata: "{\"multi\":\n 1}"), GalleryRecord(label: 2, metadata: "not json"),
            GalleryRecord(path: "ü.png", metadata: "{oops"),
        ])
    }

    @Test func exactTopKOfAHandComputableGallery() throws {
        let sample = try ExactTopKSample.compute(Self.planeSnapshot(), sampleSize: 10, k: 2, seed: 1)
        // Inner products: 10·20 = 0, 10·30 = 0.6, 10·40 = -1, 20·30 = 0.8, 20·40 = 0, 30·40 = -0.6.
        #expect(sample.queries.map(\.id) == [10, 20, 30, 40])
        #expect(sample.queries.map(\.neighbors) == [[30, 20], [30, 10], [20, 10], [20, 30]],
                "own entry excluded; 20's tie at 0 between 10 and 40 goes to the smaller id")
        let expectedScores: [[Float]] = [[0.6, 0], [0.8, 0], [0.8, 0.6], [0, -0.6]]
        for (q, want) in zip(sample.queries, expectedScores) {
            #expect(zip(q.scores, want).allSatisfy { abs($0 - $1) < 1e-6 }, "\(q.id): \(q.scores)")
        }
        let wide = try ExactTopKSample.compute(Self.planeSnapshot(), sampleSize: 10, k: 5, seed: 1)
        #expect(wide.queries.allSatisfy { $0.neighbors.count == 3 }, "k beyond the gallery: only real neighbours")
    }

    @Test func sampleIsSeededAndDrawnFromTheGallery() throws {
        let n = 50
        var rng = RNG(seed: 9)
        var m = GalleryManifest(dimension: 3)
        m.count = n
        let snap = GallerySnapshot(manifest: m, ids: (0..<n).map { Int64($0 * 2) },
                                   vectors: (0..<(n * 3)).map { _ in rng.normal() }, records: Array(repeating: GalleryRecord(), count: n))
        let a = try ExactTopKSample.compute(snap, sampleSize: 7, k: 3, seed: 42)
        let b = try ExactTopKSample.compute(snap, sampleSize: 7, k: 3, seed: 42)
        #expect(a == b)
        #expect(a.queries.count == 7 && Set(a.queries.map(\.id)).count == 7)
        #expect(a.queries.allSatisfy { $0.id % 2 == 0 && $0.id < 100 && !$0.neighbors.contains($0.id) })
        // Brute force check of one query's neighbours.
        let q = a.queries[0]
        let qi = Int(q.id / 2)
        var scores: [(id: Int64, s: Float)] = []
        for j in 0..<n where j != qi {
            var s: Float = 0
            for c in 0..<3 { s += snap.vectors[qi * 3 + c] * snap.vectors[j * 3 + c] }
            scores.append((Int64(j * 2), s))
        }
        let best = scores.sorted { $0.s > $1.s || ($0.s == $1.s && $0.id < $1.id) }.prefix(3).map(\.id)
        #expect(q.neighbors == best)
    }

    @Test func ndjsonFlavorsParseAndKeepEveryValue() throws {
        let snap = Self.planeSnapshot()
        var target = ExportTarget()
        target.index = "shop"
        for flavor in NDJSONFlavor.allCases {
            var text: [UInt8] = []
            let writer = NDJSONWriter(flavor: flavor, target: target)
            snap.vectors.withUnsafeBufferPointer { v in
                for i in 0..<4 {
                    writer.appendRow(id: snap.ids[i], vector: UnsafeBufferPointer(rebasing: v[(2 * i)..<(2 * i + 2)]),
                                     record: snap.records[i], to: &text)
                }
            }
            let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
            #expect(lines.count == (flavor == .opensearch ? 8 : 4), "\(flavor)")
            let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            var docs = objects
            if flavor == .opensearch {
                let actions = stride(from: 0, to: 8, by: 2).map { objects[$0]["index"] as? [String: Any] }
                #expect(actions.map { $0?["_id"] as? String } == ["10", "20", "30", "40"])
                #expect(actions.allSatisfy { $0?["_index"] as? String == "shop" })
                docs = stride(from: 1, to: 8, by: 2).map { objects[$0] }
            }
            if flavor == .vespa {
                #expect(docs.map { $0["put"] as? String } == ["id:magpie:image::10", "id:magpie:image::20", "id:magpie:image::30", "id:magpie:image::40"])
                docs = docs.map { $0["fields"] as! [String: Any] }
            }
            let fields = flavor == .qdrant ? docs.map { ($0["payload"] as! [String: Any]).merging($0) { a, _ in a } } : docs
            for (i, doc) in fields.enumerated() {
                let raw = flavor == .vespa ? (doc["vector"] as? [String: Any])?["values"] : doc["vector"]
                let vector = (raw as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue }
                #expect(vector == Array(snap.vectors[(2 * i)..<(2 * i + 2)]), "\(flavor) row \(i)")
                #expect((doc["id"] as? NSNumber)?.int64Value == snap.ids[i])
                #expect((doc["label"] as? NSNumber)?.int64Value == snap.records[i].label)
                #expect(doc["path"] as? String == snap.records[i].path)
            }
            let meta = fields[0]["metadata"]
            if flavor == .vespa {
                #expect(meta as? String == #"{"shop": "x"}"#, "Vespa gets metadata as JSON text")
            } else {
                #expect((meta as? [String: Any])?["shop"] as? String == "x", "\(flavor): metadata embedded as JSON")
            }
            #expect(fields[2]["metadata"] as? String == "not json", "\(flavor): non-JSON metadata becomes a string")
            #expect(fields[3]["metadata"] as? String == "{oops", "\(flavor): text that only starts like JSON becomes a string")
            if flavor != .vespa {
                #expect((fields[1]["metadata"] as? [String: Any])?["multi"] as? Int == 1, "\(flavor): multi-line JSON re-serialised on one line")
            }
        }
    }

    /// `gallery import` keeps any JSON value as metadata (`5`, `"red"`, `true`...): the NDJSON
    /// flavors embed it as that value, not as a string of its text, so a plain export imports back
    /// to the same metadata and Qdrant/OpenSearch payloads hold the number, string or boolean.
    @Test func ndjsonEmbedsScalarJSONMetadataAsItself() throws {
        let texts = ["5", #""red""#, "true", "3.5", "[1,2]", #"{"a":{"b":[null]}}"#]
        var m = GalleryManifest(dimension: 1)
        m.count = texts.count
        let snap = GallerySnapshot(manifest: m, ids: texts.indices.map { Int64($0) }, vectors: texts.map { _ in Float(1) },
                                   records: texts.map { GalleryRecord(metadata: $0) })
        for flavor in NDJSONFlavor.allCases {
            var text: [UInt8] = []
            let writer = NDJSONWriter(flavor: flavor, target: ExportTarget())
            snap.vectors.withUnsafeBufferPointer { v in
                for i in texts.indices {
                    writer.appendRow(id: snap.ids[i], vector: UnsafeBufferPointer(rebasing: v[i..<(i + 1)]), record: snap.records[i], to: &text)
                }
            }
            var docs = try String(decoding: text, as: UTF8.self).split(separator: "\n").map {
                try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            if flavor == .opensearch { docs = stride(from: 1, to: docs.count, by: 2).map { docs[$0] } }
            let values = docs.map { doc -> Any? in
                switch flavor {
                case .qdrant: return (doc["payload"] as? [String: Any])?["metadata"]
                case .vespa: return (doc["fields"] as? [String: Any])?["metadata"]
                default: return doc["metadata"]
                }
            }
            if flavor == .vespa {
                #expect(values.map { $0 as? String } == texts.map { Optional($0) }, "Vespa gets metadata as JSON text")
                continue
            }
            #expect((values[0] as? NSNumber)?.intValue == 5 && !(values[0] is String), "\(flavor): \(String(describing: values[0]))")
            #expect(values[1] as? String == "red", "\(flavor): \(String(describing: values[1]))")
            #expect(values[2] as? Bool == true && !(values[2] is String), "\(flavor): \(String(describing: values[2]))")
            #expect((values[3] as? NSNumber)?.doubleValue == 3.5 && !(values[3] is String), "\(flavor)")
            #expect((values[4] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } == [1, 2], "\(flavor)")
            if flavor == .plain {
                let dir = TemporaryFolder(); defer { dir.cleanup() }
                try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
                let file = dir.path + "/rows.ndjson"
                try Data(text).write(to: URL(fileURLWithPath: file))
                let back = try EmbeddingSet.fromNDJSON(file)
                #expect(back.records.map(\.metadata) == texts.map { Optional($0) }, "plain export → gallery import keeps the metadata")
            }
        }
    }

    @Test(arguments: GalleryExportFormat.allCases)
    func exportFolderHoldsFilesManifestAndSample(format: GalleryExportFormat) throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        var options = GalleryExportOptions(format: format)
        options.k = 2
        options.magpieVersion = "9.9"
        let out = dir.path + "/export"
        try GalleryExporter.export(Self.planeSnapshot(), to: out, options: options)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        let data: Set<String> = switch format {
        case .npy: ["id.npy", "vector.npy", "label.npy", "path.npy", "metadata.npy"]
        case .parquet: ["gallery.parquet"]
        case .ndjson: ["gallery.ndjson"]
        }
        #expect(files == data.union(["manifest.json", "exact_topk.json"]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["export"], "no staging folder left")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as! [String: Any]
        #expect(json["count"] as? Int == 4 && json["dimension"] as? Int == 2 && json["metric"] as? String == "IP")
        #expect(json["model"] as? String == "Toy" && json["fingerprint"] as? String == "f00d")
        #expect(json["preprocessing"] as? String == "resize 8" && json["magpie_version"] as? String == "9.9")
        #expect(json["normalized"] as? Bool == true)
        let listed = (json["files"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(Set(listed) == data.union(["exact_topk.json"]))
        let sample = try JSONDecoder().decode(ExactTopKSample.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/exact_topk.json")))
        #expect(sample.queries.first?.neighbors == [30, 20])
        if format == .npy {
            let ids = try NPY.read(URL(fileURLWithPath: out + "/id.npy"))
            let labels = try NPY.read(URL(fileURLWithPath: out + "/label.npy"))
            #expect(ids.integers?.values == [10, 20, 30, 40] && labels.integers?.values == [1, -1, 2, -1])
            let snap = Self.planeSnapshot()
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/vector.npy")) == NPY.encode(Tensor(shape: [4, 2], data: snap.vectors)))
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/path.npy")) == NPY.encode(strings: snap.records.map { $0.path ?? "" }),
                    "streamed file equals the in-memory encoder, which matches np.save byte for byte (NPYTests)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/metadata.npy")) == NPY.encode(strings: snap.records.map { $0.metadata ?? "{}" }))
        }
    }

    @Test(arguments: GalleryExportFormat.allCases)
    func emptyGalleryExportsEmptyFiles(format: GalleryExportFormat) throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let snap = GallerySnapshot(manifest: GalleryManifest(dimension: 3), ids: [], vectors: [], records: [])
        let summary = try GalleryExporter.export(snap, to: dir.path + "/e", options: GalleryExportOptions(format: format))
        #expect(summary.manifest.count == 0)
        switch format {
        case .npy: #expect(try NPY.read(URL(fileURLWithPath: dir.path + "/e/vector.npy")).shape == [0, 3])
        case .parquet:
            let decoded = try ParquetWriterTests.decode(dir.path + "/e/gallery.parquet", hasLevels: ParquetWriterTests.galleryLevels
                + [(false, true)])
            #expect(decoded.footer[3]?.int == 0)
        case .ndjson: #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/e/gallery.ndjson")).isEmpty)
        }
    }

    @Test func existingFolderIsRefusedUnlessForcedAndFailuresLeaveNothing() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let out = dir.path + "/export"
        let snap = Self.planeSnapshot()
        var options = GalleryExportOptions(format: .parquet)

        // A failure after every file is written leaves no DIR and no staging folder.
        options.beforeCommit = { throw RetrievalError.invalidArgument("injected") }
        #expect(throws: RetrievalError.invalidArgument("injected")) { try GalleryExporter.export(snap, to: out, options: options) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)

        options.beforeCommit = nil
        try GalleryExporter.export(snap, to: out, options: options)
        let first = try Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))
        #expect(throws: RetrievalError.self) { try GalleryExporter.export(snap, to: out, options: options) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json")) == first, "refused export left DIR alone")

        // With --force, a failed export keeps the old folder whole; a good one replaces it.
        options.force = true
        options.format = .npy
        options.beforeCommit = { throw RetrievalError.invalidArgument("injected") }
        #expect(throws: RetrievalError.self) { try GalleryExporter.export(snap, to: out, options: options) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).contains("gallery.parquet"))
        options.beforeCommit = nil
        try GalleryExporter.export(snap, to: out, options: options)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).contains("id.npy"))
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: out).contains("gallery.parquet")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["export"])

        #expect(throws: RetrievalError.self) { try GalleryExporter.export(snap, to: dir.path + "/missing/export", options: options) }

        // --force never replaces a folder that is not an export.
        let precious = dir.path + "/precious"
        try FileManager.default.createDirectory(atPath: precious, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: precious + "/thesis.txt"))
        #expect(throws: RetrievalError.self) { try GalleryExporter.export(snap, to: precious, options: options) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: precious) == ["thesis.txt"])
    }
}
