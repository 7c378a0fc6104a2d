/// A binary heap of (distance, row): nearest on top, or farthest on top.
struct NeighbourHeap {
    let nearestFirst: Bool
    private(set) var items: [(Float, Int)] = []
    init(nearestFirst: Bool, capacity: Int = 0) {
        self.nearestFirst = nearestFirst
        items.reserveCapacity(capacity)
    }
    var count: Int { items.count }
    var top: (Float, Int)? { items.first }

    @inline(__always) private func above(_ a: (Float, Int), _ b: (Float, Int)) -> Bool { nearestFirst ? a.0 < b.0 : a.0 > b.0 }

    mutating func push(_ d: Float, _ row: Int) {
        items.append((d, row))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard above(items[i], items[p]) else { break }
            items.swapAt(i, p); i = p
        }
    }

    mutating func pop() -> (Float, Int)? {
        guard !items.isEmpty else { return nil }
        let first = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count, above(items[l], items[best]) { best = l }
                if r < items.count, above(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best); i = best
            }
        }
        return first
    }
}
