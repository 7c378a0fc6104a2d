import Foundation
import Testing
import TensorCore
@testable import Datasets

@Suite struct DataLoaderTests {
    /// A folder of `count` JPEGs of varying sizes (index i is class i % 3), plus the list file.
    func makeFolder(count: Int, corrupt: Set<Int> = []) throws -> (URL, ImageListDataset) {
        let dir = try Fixtures.temporaryDirectory()
        var lines: [String] = []
        for i in 0..<count {
            let path = dir.appendingPathComponent("\(i).jpg").path
            if corrupt.contains(i) {
                try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: path))
            } else {
                try JPEGEncoder.write(Fixtures.synthetic(width: 30 + i, height: 40 - i % 7, seed: UInt64(i)), to: path)
            }
            lines.append("\(i).jpg \(i % 3)")
        }
        try lines.joined(separator: "\n").write(to: dir.appendingPathComponent("list.txt"), atomically: true, encoding: .utf8)
        return (dir, try LabelListReader.read(listFile: dir.appendingPathComponent("list.txt").path))
    }

    static let chain = try! TransformRegistry.chain([
        ("DecodeImage", [:]), ("RandomResizedCrop", ["size": 16]), ("RandomHorizontalFlip", [:]),
        ("ToTensor", [:]), ("Normalize", ["mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]]),
    ])

    @Test func batchesAreNCHWInOrderAndIndependentOfWorkerCount() throws {
        let (dir, ds) = try makeFolder(count: 13)
        defer { try? FileManager.default.removeItem(at: dir) }
        let batches = try BatchSampler(count: 13, batchSize: 4, seed: 1).batches(epoch: 0)
        func run(workers: Int, prefetch: Int) throws -> [Batch] {
            let it = DataLoader(source: ds, transform: Self.chain, workers: workers, prefetch: prefetch, seed: 9).makeIterator(batches: batches)
            var out: [Batch] = []
            while let b = try it.next() { out.append(b) }
            return out
        }
        let one = try run(workers: 1, prefetch: 1), two = try run(workers: 2, prefetch: 3)
        #expect(one.map(\.position) == [0, 1, 2, 3])
        #expect(one[0].images.shape == [4, 3, 16, 16] && one[3].images.shape == [1, 3, 16, 16])
        #expect(one.map(\.indices) == batches)
        #expect(one[1].labels == batches[1].map { $0 % 3 })
        for (a, b) in zip(one, two) { #expect(a.images.data == b.images.data) }
        #expect(one[0].images.data.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    @Test func badImagesFailOrAreSkipped() throws {
        let (dir, ds) = try makeFolder(count: 6, corrupt: [4])
        defer { try? FileManager.default.removeItem(at: dir) }
        let batches = [[0, 1, 2], [3, 4, 5]]
        let failing = DataLoader(source: ds, transform: Self.chain, badImages: .fail).makeIterator(batches: batches)
        #expect(try failing.next()?.indices == [0, 1, 2])
        do {
            _ = try failing.next()
            Issue.record("the corrupt image passed")
        } catch {
            #expect("\(error)".contains(dir.appendingPathComponent("4.jpg").path))
        }
        #expect(try failing.next() == nil)

        let skipping = DataLoader(source: ds, transform: Self.chain, badImages: .skip).makeIterator(batches: batches)
        _ = try skipping.next()
        let second = try #require(try skipping.next())
        #expect(second.indices == [3, 5] && second.images.shape[0] == 2 && second.labels == [0, 2])
        #expect(second.skipped.map(\.index) == [4] && second.skipped[0].error.contains("4.jpg"))
    }

    @Test func weakAndStrongViewsShareTheItem() throws {
        var labels: [Int] = []
        for i in 0..<8 { labels.append(i % 4) }
        var rng = RNG(seed: 1)
        let pixels = (0..<(8 * 3072)).map { _ in UInt8(rng.int(below: 256)) }
        let cifar = CIFAR10(pixels: pixels, labels: labels, classCount: 4)
        let weak = try TransformRegistry.chain([("RandFlipImage", [:]), ("RandomCrop", ["size": 32, "padding": 4, "padding_mode": "reflect"]),
                                                ("ToTensor", [:])])
        let strong = try TransformRegistry.chain([("RandFlipImage", [:]), ("RandomCrop", ["size": 32, "padding": 4, "padding_mode": "reflect"]),
                                                  ("RandAugmentMC", ["n": 2, "m": 10]), ("ToTensor", [:])])
        let loader = DataLoader(source: SubsetSource(cifar, indices: [1, 5, 6]), views: [weak, strong])
        let batch = try #require(try loader.makeIterator(batches: [[0, 1, 2]]).next())
        #expect(batch.views.count == 2 && batch.views[1].shape == [3, 3, 32, 32])
        #expect(batch.labels == [1, 1, 2])
        #expect(batch.views[0].data != batch.views[1].data)
    }

    @Test func outOfRangeIndicesAndRaggedSizesAreErrors() throws {
        let (dir, ds) = try makeFolder(count: 3)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: DatasetsError.self) { try DataLoader(source: ds, transform: Self.chain).makeIterator(batches: [[0, 7]]).next() }
        let ragged = try TransformRegistry.chain([("DecodeImage", [:]), ("ToTensor", [:])])
        do {
            _ = try DataLoader(source: ds, transform: ragged).makeIterator(batches: [[0, 1]]).next()
            Issue.record("stacked different sizes")
        } catch {
            #expect("\(error)".contains("differ in size"))
        }
    }

    @Test func droppingTheIteratorStopsTheWorkers() throws {
        let (dir, ds) = try makeFolder(count: 8)
        defer { try? FileManager.default.removeItem(at: dir) }
        let batches = (0..<40).map { [$0 % 8] }
        var it: LoaderIterator? = DataLoader(source: ds, transform: Self.chain, workers: 2, prefetch: 2).makeIterator(batches: batches)
        _ = try it?.next()
        let state = it!.state
        it = nil
        Thread.sleep(forTimeInterval: 0.2)
        state.condition.lock(); let claimed = state.nextToClaim; state.condition.unlock()
        #expect(claimed <= 5)    // 1 consumed + 2 prefetched + at most one in flight per worker
    }
}
