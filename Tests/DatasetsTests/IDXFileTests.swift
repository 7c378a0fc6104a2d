import Foundation
import TensorCore
import Testing
@testable import Datasets

/// IDX files (plain and gzipped) and their conversion to CIFAR-10 batches, on generated files.
@Suite struct IDXFileTests {
    static func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = RNG(seed: seed)
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    func expectBadData(containing fragment: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let DatasetsError.badData(_, reason) {
            #expect(reason.contains(fragment), "\(reason)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func headerIsBigEndianDimensionsAfterTheMagic() throws {
        let file = IDXFile(dimensions: [2, 3], bytes: [1, 2, 3, 4, 5, 6])
        #expect(file.encoded == [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
        // 70,000 (0x00011170) images of 28×28, as Fashion-MNIST's header spells it.
        let parsed = try IDXFile.parse([0, 0, 8, 3, 0, 1, 0x11, 0x70, 0, 0, 0, 0, 0, 0, 0, 0], path: "h")
        #expect(parsed.dimensions == [70_000, 0, 0] && parsed.bytes.isEmpty)
    }

    @Test func plainAndGzippedFilesRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = IDXFile(dimensions: [7, 28, 28], bytes: Self.randomBytes(7 * 28 * 28, seed: 3))
        for gzip in [false, true] {
            let path = dir.appendingPathComponent("images-\(gzip)").path
            try images.write(to: path, gzip: gzip)
            #expect(try IDXFile.read(path: path) == images)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            // Random bytes do not compress, but a gzip file carries its own header and trailer.
            #expect(gzip ? size > images.encoded.count : size == images.encoded.count)
        }
    }

    @Test func damagedFilesAreOneLineErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = IDXFile(dimensions: [50_000], bytes: Self.randomBytes(50_000, seed: 5))
        let plain = dir.appendingPathComponent("plain").path, zipped = dir.appendingPathComponent("zipped.gz").path
        try labels.write(to: plain, gzip: false)
        try labels.write(to: zipped, gzip: true)

        let encoded = labels.encoded
        try Data(encoded.dropLast()).write(to: URL(fileURLWithPath: plain))
        expectBadData(containing: "truncated") { _ = try IDXFile.read(path: plain) }
        let gz = try Data(contentsOf: URL(fileURLWithPath: zipped))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: zipped))
        expectBadData(containing: "gzip stream ends early") { _ = try IDXFile.read(path: zipped) }

        var floats = encoded; floats[2] = 0x0D
        expectBadData(containing: "0x0D is not supported") { _ = try IDXFile.parse(floats, path: "f") }
        expectBadData(containing: "not an IDX file") { _ = try IDXFile.parse(Array("P5\n28 28\n255\n".utf8), path: "p") }
        expectBadData(containing: "truncated header") { _ = try IDXFile.parse([0, 0, 8, 3, 0, 0], path: "h") }
        expectBadData(containing: "no such file") { _ = try IDXFile.read(path: dir.appendingPathComponent("missing").path) }
    }

    @Test func greyscaleImagesAreCentredAndCopiedIntoEveryPlane() throws {
        // Two 2×3 images: rows 15–16, columns 14–16 of the 32×32 canvas.
        let pixels: [UInt8] = [10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25]
        let set = try CIFAR10(greyscale: IDXFile(dimensions: [2, 2, 3], bytes: pixels), labels: IDXFile(dimensions: [2], bytes: [4, 1]))
        #expect(set.labels == [4, 1] && set.classCount == 5)
        let image = set.image(at: 1)
        for y in 0..<32 {
            for x in 0..<32 {
                let inside = (15...16).contains(y) && (14...16).contains(x)
                let expected: UInt8 = inside ? pixels[6 + (y - 15) * 3 + (x - 14)] : 0
                for c in 0..<3 { #expect(image.pixels[(y * 32 + x) * 3 + c] == expected) }
            }
        }
        expectBadData(containing: "at most 32×32") {
            _ = try CIFAR10(greyscale: IDXFile(dimensions: [1, 33, 1], bytes: [UInt8](repeating: 0, count: 33)), labels: IDXFile(dimensions: [1], bytes: [0]))
        }
        expectBadData(containing: "expected 2 labels") {
            _ = try CIFAR10(greyscale: IDXFile(dimensions: [2, 2, 3], bytes: pixels), labels: IDXFile(dimensions: [3], bytes: [0, 0, 0]))
        }
        expectBadData(containing: "label 4 at index 0") {
            _ = try CIFAR10(greyscale: IDXFile(dimensions: [2, 2, 3], bytes: pixels), labels: IDXFile(dimensions: [2], bytes: [4, 1]), classCount: 3)
        }
    }

    @Test func writtenBatchesReadBackThroughTheCIFARReader() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 11
        let images = IDXFile(dimensions: [n, 28, 28], bytes: Self.randomBytes(n * 28 * 28, seed: 9))
        let labels = IDXFile(dimensions: [n], bytes: (0..<n).map { UInt8($0 % 3) })
        let set = try CIFAR10(greyscale: images, labels: labels)
        try set.write(to: dir.path, split: .train, batches: 5)
        try set.write(to: dir.path, split: .test)
        try CIFAR10.writeClassNames(["a", "b", "c"], to: dir.path)

        let sizes = try (1...5).map { try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("data_batch_\($0).bin").path)[.size] as? Int ?? 0 }
        #expect(sizes.map { $0 / CIFAR10.recordSize } == [2, 2, 2, 2, 3] && sizes.reduce(0, +) == n * CIFAR10.recordSize)
        for split in [CIFAR10.Split.train, .test] {
            let back = try CIFAR10.load(directory: dir.path, split: split, classCount: 3)
            #expect(back.labels == set.labels && back.pixels == set.pixels)
        }
        #expect(try String(contentsOf: dir.appendingPathComponent("batches.meta.txt"), encoding: .utf8) == "a\nb\nc\n")
        // The padding is 2 black pixels on every side of the 28×28 image, in each colour plane.
        let first = try CIFAR10.load(directory: dir.path, split: .test, classCount: 3).image(at: 0)
        #expect(first.pixels[(2 * 32 + 2) * 3] == images.bytes[0] && first.pixels[(1 * 32 + 2) * 3] == 0 && first.pixels[(29 * 32 + 29) * 3 + 2] == images.bytes[28 * 28 - 1])
    }
}
