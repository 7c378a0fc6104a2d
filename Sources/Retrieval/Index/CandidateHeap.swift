/// The `capacity` nearest (distance, row) pairs offered so far, smaller distance nearer: a
/// farthest-on-top binary heap in storage borrowed for one `with` call, for the scan loops of the
/// approximate searches (no array bookkeeping per offer).
struct CandidateHeap {
    let capacity: Int
    private(set) var count = 0
    private let distances: UnsafeMutablePointer<Float>
    private let rows: UnsafeMutablePointer<Int>

    /// Runs `body` with an empty heap of `capacity` (≥ 1) slots.
    static func with<R>(capacity: Int, _ body: (inout CandidateHeap) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: capacity) { distances in
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: capacity) { rows in
                var heap = CandidateHeap(capacity: capacity, distances: distances.baseAddress!, rows: rows.baseAddress!)
                return try body(&heap)
            }
        }
    }

    private init(capacity: Int, distances: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Int>) {
        precondition(capacity >= 1, "a candidate heap needs a slot")
        self.capacity = capacity; self.distances = distances; self.rows = rows
    }

    var isFull: Bool { count == capacity }
    /// The farthest kept (the heap is not empty).
    var worst: Float { distances[0] }

    /// Keeps `row` when there is room or when `distance` is strictly nearer than the farthest kept.
    @inline(__always)
    mutating func offer(_ distance: Float, _ row: Int) {
        if count < capacity {
            var i = count
            count += 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard distances[parent] < distance else { break }
                distances[i] = distances[parent]; rows[i] = rows[parent]; i = parent
            }
            distances[i] = distance; rows[i] = row
        } else if distance < distances[0] {
            var i = 0
            while true {
                let left = 2 * i + 1, right = left + 1
                guard left < count else { break }
                let child = right < count && distances[right] > distances[left] ? right : left
                guard distances[child] > distance else { break }
                distances[i] = distances[child]; rows[i] = rows[child]; i = child
            }
            distances[i] = distance; rows[i] = row
        }
    }

    mutating func removeAll() { count = 0 }

    /// The kept pairs, in heap order.
    var items: [(Float, Int)] { (0..<count).map { (distances[$0], rows[$0]) } }
}
