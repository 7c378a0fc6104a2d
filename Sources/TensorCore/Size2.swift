/// A (height, width) pair for kernel sizes, strides, padding and dilation.
/// Write `3` for 3×3 or `[1, 3]` for 1×3.
public struct Size2: Equatable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    public var h: Int
    public var w: Int

    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(_ both: Int) { self.init(both, both) }
    public init(integerLiteral value: Int) { self.init(value) }
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2 || elements.count == 1, "Size2 takes one or two values")
        self.init(elements[0], elements.count == 2 ? elements[1] : elements[0])
    }

    public var description: String { h == w ? "\(h)" : "[\(h), \(w)]" }
}
