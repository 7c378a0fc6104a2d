/// A Prometheus histogram's state: cumulative bucket counts, sum and count.
struct Histogram {
    let bounds: [Double]
    private(set) var buckets: [UInt64]
    private(set) var sum = 0.0
    private(set) var count: UInt64 = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        buckets = [UInt64](repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        // Buckets are cumulative: each counts observations ≤ its upper bound.
        for (i, bound) in bounds.enumerated() where value <= bound { buckets[i] += 1 }
        sum += value
        count += 1
    }

    /// Seconds buckets sized for millisecond-scale work up to multi-second model runs.
    static let latencyBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}
