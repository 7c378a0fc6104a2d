import Cluster
import Testing
@testable import Engine

/// `DataParallel`'s own arithmetic, on rank 0 of a two-rank world whose other rank's
/// contributions are given (the MPI path itself runs in DataParallelTrainingTests).
@Suite struct DataParallelTests {
    /// Rank 0 of 2; `other` is what rank 1 contributes to each `maximum`.
    final class RankZeroOfTwo: Communicator {
        var other: [Double]
        init(other: [Double]) { self.other = other }
        var rank: Int { 0 }
        var size: Int { 2 }
        func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
        func sum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
        func maximum(_ buffer: UnsafeMutableBufferPointer<Double>) {
            for i in buffer.indices { buffer[i] = max(buffer[i], other[i]) }
        }
        func gather(_ local: [Float]) -> (values: [Float], counts: [Int]) { (local, [local.count]) }
        func gather(_ local: [Int64]) -> (values: [Int64], counts: [Int]) { (local, [local.count]) }
        func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int) {}
        func abort(code: Int32) -> Never { fatalError("abort \(code)") }
    }

    @Test func slicesPartitionEveryBatchInRankOrder() throws {
        let rank0 = DataParallel(RankZeroOfTwo(other: []))
        #expect(rank0.slice(of: 7) == 0..<3)
        let (batches, firstSlots) = try rank0.shard([[10, 11, 12, 13, 14], [20, 21]], what: "test")
        #expect(batches == [[10, 11], [20]])
        #expect(firstSlots == [0, 0])
        #expect(throws: EngineError.self) { try rank0.shard([[1]], what: "test") }
    }

    @Test func identicalFingerprintsPassAndDriftIsAnError() throws {
        try DataParallel(RankZeroOfTwo(other: [1.5, -1.5])).expectIdentical([("weights", 1.5)])
        #expect(throws: EngineError.self) {
            try DataParallel(RankZeroOfTwo(other: [1.5, -1.5, 2.0, -2.0])).expectIdentical([("weights", 1.5), ("cross-batch memory", 2.5)])
        }
    }
}
