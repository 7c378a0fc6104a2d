import Foundation
import Testing
import TensorCore
@testable import Datasets

@Suite struct ReaderTests {
    func write(_ text: String, to dir: URL, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func expectBadLine(_ line: Int, containing fragment: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let DatasetsError.badLine(_, n, reason) {
            #expect(n == line)
            #expect(reason.contains(fragment), "\(reason)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func sopReaderRemapsClassesDensely() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = try write("""
            image_id class_id super_class_id path
            1 11319 1 bicycle_final/111085122871_0.JPG
            2 11319 1 bicycle_final/111085122871_1.JPG
            3 11400 1 bicycle_final/111265328556_0.JPG
            4 11330 5 chair_final/1234_0.JPG

            """, to: dir, "Ebay_test.txt")
        let ds = try SOPReader.read(listFile: list)
        #expect(ds.count == 4 && ds.classCount == 3)
        #expect(ds.labels == [0, 0, 2, 1])
        #expect(ds.records[3].originalLabel == 11330 && ds.records[3].superLabel == 5 && ds.records[3].uniqueID == 4)
        #expect(ds.records[0].path == dir.appendingPathComponent("bicycle_final/111085122871_0.JPG").path)
    }

    @Test func sopReaderReportsTheFirstBadLine() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missingHeader = try write("1 1 1 a.jpg\n", to: dir, "a.txt")
        expectBadLine(1, containing: "header") { _ = try SOPReader.read(listFile: missingHeader) }
        let shortLine = try write("image_id class_id super_class_id path\n1 1 1 a.jpg\n2 1 b.jpg\n3 x 1 c.jpg\n", to: dir, "b.txt")
        expectBadLine(3, containing: "4 fields") { _ = try SOPReader.read(listFile: shortLine) }
        let notInt = try write("image_id class_id super_class_id path\n1 1 1 a.jpg\n3 x 1 c.jpg\n", to: dir, "c.txt")
        expectBadLine(3, containing: "integers") { _ = try SOPReader.read(listFile: notInt) }
        let duplicate = try write("image_id class_id super_class_id path\n1 1 1 a.jpg\n1 2 1 c.jpg\n", to: dir, "d.txt")
        expectBadLine(3, containing: "duplicate") { _ = try SOPReader.read(listFile: duplicate) }
        #expect(throws: DatasetsError.self) { try SOPReader.read(listFile: dir.appendingPathComponent("none.txt").path) }
    }

    @Test func labelListAcceptsSpacesTabsAndIDs() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = try write("train/a.jpg 1\ntrain/b.jpg\t0\r\n\n/abs/c.png 3 17\n", to: dir, "train_list.txt")
        let ds = try LabelListReader.read(listFile: list, imageRoot: "/data/person")
        #expect(ds.labels == [1, 0, 3] && ds.classCount == 4)
        #expect(ds.records[0].path == "/data/person/train/a.jpg" && ds.records[2].path == "/abs/c.png")
        #expect(ds.records[2].uniqueID == 17 && ds.records[0].uniqueID == nil)
        let relabelled = try LabelListReader.read(listFile: list, relabel: true)
        #expect(relabelled.labels == [1, 0, 2] && relabelled.classCount == 3)
        let tabbed = try write("my photos/a b.jpg\t5\n", to: dir, "tab.txt")
        #expect(try LabelListReader.read(listFile: tabbed, delimiter: "\t").records[0].path.hasSuffix("my photos/a b.jpg"))
    }

    @Test func labelListReportsTheFirstBadLine() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = try write("a.jpg 0\nb.jpg one\nc.jpg\n", to: dir, "l.txt")
        expectBadLine(2, containing: "not an integer") { _ = try LabelListReader.read(listFile: list) }
        let fields = try write("a.jpg 0\n\nc.jpg\n", to: dir, "m.txt")
        expectBadLine(3, containing: "1 field") { _ = try LabelListReader.read(listFile: fields) }
        let negative = try write("a.jpg -1\n", to: dir, "n.txt")
        expectBadLine(1, containing: "negative") { _ = try LabelListReader.read(listFile: negative) }
        let empty = try write("\n\n", to: dir, "e.txt")
        #expect(throws: DatasetsError.badData(path: empty, reason: "the list has no images")) { try LabelListReader.read(listFile: empty) }
    }

    @Test func imageFolderIndexesSortedClasses() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = Fixtures.synthetic(width: 8, height: 6)
        for (folder, file) in [("zebra", "1.jpg"), ("apple", "b.JPG"), ("apple", "a.jpeg")] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
            try JPEGEncoder.write(image, to: dir.appendingPathComponent("\(folder)/\(file)").path)
        }
        _ = try write("notes", to: dir, "apple/readme.txt")
        let (ds, names) = try ImageFolderReader.read(root: dir.path)
        #expect(names == ["apple", "zebra"])
        #expect(ds.labels == [0, 0, 1])
        #expect(ds.records.map { ($0.path as NSString).lastPathComponent } == ["a.jpeg", "b.JPG", "1.jpg"])
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        #expect(throws: DatasetsError.self) { try ImageFolderReader.read(root: dir.path) }
    }

    @Test func filesDecodeThroughTheSource() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try JPEGEncoder.write(Fixtures.synthetic(width: 10, height: 7), to: dir.appendingPathComponent("x.jpg").path)
        let list = try write("x.jpg 0\nmissing.jpg 1\n", to: dir, "list.txt")
        let ds = try LabelListReader.read(listFile: list)
        var rng = RNG(seed: 0)
        guard case let .image(img) = try DecodeImage().apply(try ds.payload(at: 0), rng: &rng) else { Issue.record("no image"); return }
        #expect(img.width == 10 && img.height == 7)
        #expect(throws: DatasetsError.badImage(path: dir.appendingPathComponent("missing.jpg").path, reason: "no such file")) {
            try ds.payload(at: 1)
        }
    }

    @Test func cifarBinaryMatchesTheConvertedPickle() throws {
        let cifar = try CIFAR10.read(files: [Fixtures.root.appendingPathComponent("cifar/data_batch_1.bin").path])
        let reference = try Fixtures.safetensors("cifar/reference.safetensors")
        let images = try reference.tensor("images"), labels = try reference.tensor("labels")
        #expect(cifar.count == 20)
        #expect(cifar.labels == labels.data.map { Int($0) })
        for i in [0, 7, 19] {
            let expected = images.data[(i * 3072)..<((i + 1) * 3072)].map { UInt8($0) }
            #expect(cifar.image(at: i).pixels == expected)
        }
    }

    @Test func cifarRejectsBadFiles() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let short = dir.appendingPathComponent("short.bin")
        try Data(repeating: 1, count: 3072).write(to: short)
        #expect(throws: DatasetsError.self) { try CIFAR10.read(files: [short.path]) }
        let badLabel = dir.appendingPathComponent("label.bin")
        var bytes = [UInt8](repeating: 0, count: 2 * 3073)
        bytes[3073] = 12
        try Data(bytes).write(to: badLabel)
        do {
            _ = try CIFAR10.read(files: [badLabel.path])
            Issue.record("accepted label 12")
        } catch {
            #expect("\(error)".contains("record 2 has label 12"))
        }
        #expect(throws: DatasetsError.self) { try CIFAR10.load(directory: dir.path, split: .train) }
    }

    @Test func labelledSubsetsArePerClassAndSeeded() throws {
        var labels: [Int] = []
        for i in 0..<1000 { labels.append(i % 10) }
        let cifar = CIFAR10(pixels: [UInt8](repeating: 0, count: 1000 * 3072), labels: labels, classCount: 10)
        for total in [40, 250] {
            let a = try cifar.labeledIndices(total: total, seed: 5), b = try cifar.labeledIndices(total: total, seed: 5)
            #expect(a == b && Set(a).count == total)
            for c in 0..<10 { #expect(a.filter { labels[$0] == c }.count == total / 10) }
        }
        #expect(try cifar.labeledIndices(total: 40, seed: 1) != cifar.labeledIndices(total: 40, seed: 2))
        #expect(throws: DatasetsError.self) { try cifar.labeledIndices(total: 45, seed: 0) }
        #expect(throws: DatasetsError.self) { try cifar.labeledIndices(total: 4000, seed: 0) }   // only 100 per class here
        #expect(cifar.unlabeledIndices.count == 1000)
    }
}

@Suite struct ReaderRobustnessTests {
    /// Random text (digits, separators, newlines, stray bytes): every reader either parses it or
    /// throws a `DatasetsError`; nothing traps.
    @Test func randomListFilesNeverCrash() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alphabet = Array("0123456789 \t\n\r-/.abcé".unicodeScalars) + ["\u{0}", "\u{FFFD}"]
        var rng = RNG(seed: 12)
        var parsed = 0, refused = 0
        for i in 0..<120 {
            var text = i % 2 == 0 ? "image_id class_id super_class_id path\n" : ""
            for _ in 0..<rng.int(below: 80) { text.unicodeScalars.append(alphabet[rng.int(below: alphabet.count)]) }
            let url = dir.appendingPathComponent("list\(i).txt")
            var bytes = Array(text.utf8)
            if i % 7 == 0 { bytes.append(0xFF) }       // invalid UTF-8
            try Data(bytes).write(to: url)
            for read in [{ try SOPReader.read(listFile: url.path) }, { try LabelListReader.read(listFile: url.path) }] {
                do { _ = try read(); parsed += 1 } catch is DatasetsError { refused += 1 }
            }
        }
        #expect(parsed + refused == 240 && refused > 0)
    }
}
