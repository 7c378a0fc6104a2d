import Foundation
@testable import GalleryExport
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

/// `magpie gallery export --out DIR` end to end through the built executable.
@Suite struct GalleryExportCommandTests {
    @Test func plainNDJSONExportImportsBackToTheSameGallery() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        var rng = RNG(seed: 5)
        let rows = (0..<40).map { i -> String in
            let v = (0..<6).map { _ in String(rng.normal()) }.joined(separator: ",")
            let label = i % 3 == 0 ? "" : #","label":\#(i % 4)"#
            let path = i % 5 == 0 ? "" : #","path":"imgs/\#(i) \"é\".jpg""#
            return #"{"id":\#(i * 7),"vector":[\#(v)]\#(label)\#(path)}"#
        }
        let input = dir.path + "/rows.ndjson"
        try (rows.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let g1 = dir.path + "/g1", g2 = dir.path + "/g2"
        #expect(try MagpieBinary.run(["gallery", "import", "--gallery", g1, "--input", input, "--metric", "L2"]).status == 0)
        let export = try MagpieBinary.run(["gallery", "export", "--gallery", g1, "--format", "ndjson", "--out", dir.path + "/nd"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try MagpieBinary.run(["gallery", "import", "--gallery", g2, "--input", dir.path + "/nd/gallery.ndjson",
                                             "--metric", "L2"]).status == 0)
        let (a, b) = (try Gallery.open(at: g1, readOnly: true).snapshot(), try Gallery.open(at: g2, readOnly: true).snapshot())
        #expect(a.ids == b.ids && a.vectors == b.vectors && a.records == b.records)

        let sample = try JSONDecoder().decode(ExactTopKSample.self, from: Data(contentsOf: URL(fileURLWithPath: dir.path + "/nd/exact_topk.json")))
        #expect(sample.metric == .l2 && sample.queries.count == 40 && sample.k == 10)

        let again = try MagpieBinary.run(["gallery", "export", "--gallery", g1, "--format", "npy", "--out", dir.path + "/nd"])
        #expect(again.status != 0 && again.stderr.hasPrefix("Error: ") && again.stderr.contains("--force"))
        let forced = try MagpieBinary.run(["gallery", "export", "--gallery", g1, "--format", "npy", "--out", dir.path + "/nd", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try NPY.read(URL(fileURLWithPath: dir.path + "/nd/vector.npy")).tensor.data == a.vectors)
    }

    @Test func fileSinkKeepsOrderAcrossSmallAndHugeAppends() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/sink.bin"
        let sink = try FileSink(path: path)
        var expected: [UInt8] = []
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // larger than the 1 MiB buffer
        let medium = [UInt8](repeating: 7, count: (1 << 20) - 10)
        for chunk in [[1, 2, 3], medium, big, [9], medium] as [[UInt8]] {
            try sink.append(chunk)
            expected += chunk
            try sink.append(byte: 0xAB)
            expected.append(0xAB)
            #expect(sink.offset == expected.count)
        }
        try sink.appendLittleEndian(UInt32(0x0102_0304))
        expected += [4, 3, 2, 1]
        try sink.close()
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == expected)
    }
}
