/// A view of some items of another source (a labelled subset, a split).
public struct SubsetSource<Base: ImageSource>: ImageSource {
    public let base: Base
    public let indices: [Int]
    public init(_ base: Base, indices: [Int]) { self.base = base; self.indices = indices }
    public var count: Int { indices.count }
    public func label(at index: Int) -> Int { base.label(at: indices[index]) }
    public func payload(at index: Int) throws -> Payload { try base.payload(at: indices[index]) }
}
