import Testing
import TensorCore
@testable import Retrieval

/// The product-quantization kernels (both table variants, the four-at-a-time scan with every
/// tail) against plain double-precision sums, and the candidate heap against a sort.
@Suite struct PQKernelTests {
    @Test(arguments: [(128, 8), (32, 4), (12, 3), (16, 16)])
    func tablesMatchAPlainSum(dimension d: Int, subDimension ds: Int) {
        var rng = RNG(seed: UInt64(d * 100 + ds))
        let v = (0..<d).map { _ in rng.uniform(-1, 1) }
        let books = (0..<(d * 256)).map { _ in rng.uniform(-1, 1) }  // d × 256, transposed
        let m = d / ds
        var expected = [Double](repeating: 0, count: m * 256)
        for j in 0..<m { for c in 0..<256 { for t in 0..<ds { expected[j * 256 + c] -= Double(v[j * ds + t]) * Double(books[(j * ds + t) * 256 + c]) } } }
        for avx512 in DistanceKernel.usesAVX512 ? [false, true] : [false] {
            var table = [Float](repeating: .nan, count: m * 256)
            v.withUnsafeBufferPointer { vp in
                books.withUnsafeBufferPointer { bp in
                    table.withUnsafeMutableBufferPointer { tp in
                        PQKernel.innerProductTables(vp.baseAddress!, booksTransposed: bp.baseAddress!, dimension: d, subDimension: ds,
                                                    into: tp.baseAddress!, avx512: avx512)
                    }
                }
            }
            let worst = zip(table, expected).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-5 * Double(ds), "avx512 \(avx512): off by \(worst)")
        }
    }

    @Test(arguments: [0, 1, 3, 4, 5, 8, 13])
    func scanSumsEachCodesEntries(count n: Int) {
        for m in [16, 5] {
            var rng = RNG(seed: UInt64(n * 10 + m))
            let table = (0..<(m * 256)).map { _ in rng.uniform(-1, 1) }
            // One spare byte and score slot, so that an empty list still has storage to point at.
            let codes = (0..<(n * m + 1)).map { _ in UInt8(rng.next() % 256) }
            var scores = [Float](repeating: .nan, count: n + 1)
            codes.withUnsafeBufferPointer { cp in
                table.withUnsafeBufferPointer { tp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        PQKernel.scan(codes: cp.baseAddress!, count: n, m: m, table: tp.baseAddress!, base: 0.25, into: sp.baseAddress!)
                    }
                }
            }
            for i in 0..<n {
                let expected = (0..<m).reduce(0.25) { $0 + Double(table[$1 * 256 + Int(codes[i * m + $1])]) }
                #expect(abs(Double(scores[i]) - expected) < 1e-5, "code \(i) of \(n), m \(m)")
            }
            #expect(scores[n].isNaN, "the scan wrote past its \(n) codes")
        }
    }

    @Test func candidateHeapKeepsTheNearest() {
        var rng = RNG(seed: 5)
        for capacity in [1, 2, 7, 80] {
            // Distances with ties (a tenth of a coarse grid) offered in random order.
            let offered = (0..<300).map { _ in (Float(Int(rng.uniform(0, 30))) / 10, Int(rng.next() % 1000)) }
            let kept = CandidateHeap.with(capacity: capacity) { heap in
                for (d, row) in offered { heap.offer(d, row) }
                #expect(heap.isFull && heap.worst == heap.items.map(\.0).max())
                return heap.items
            }
            #expect(kept.map(\.0).sorted() == Array(offered.map(\.0).sorted().prefix(capacity)))
            // Every kept pair was offered as a pair.
            #expect(kept.allSatisfy { pair in offered.contains { $0 == pair } })
        }
        let emptied = CandidateHeap.with(capacity: 3) { heap -> Int in
            heap.offer(1, 1); heap.removeAll(); heap.offer(2, 2)
            return heap.count
        }
        #expect(emptied == 1)
    }
}
