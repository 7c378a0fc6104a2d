import Foundation

/// The collective operations data-parallel training needs, over the processes of one job
/// (ranks 0..<size). Every rank must make the same calls in the same order; a call blocks until
/// all ranks have made it.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `buffer` on every rank with the element-wise sum over ranks.
    func sum(_ buffer: UnsafeMutableBufferPointer<Float>)
    func sum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Replaces `buffer` on every rank with the element-wise maximum over ranks.
    func maximum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Every rank's `local` joined in rank order, and how many each rank gave; ranks may pass
    /// different counts.
    func gather(_ local: [Float]) -> (values: [Float], counts: [Int])
    func gather(_ local: [Int64]) -> (values: [Int64], counts: [Int])
    /// Rank `root`'s `buffer`, copied into every rank's.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int)
    /// Stops the whole job (every rank) with `code`: one rank's error would otherwise leave the
    /// others waiting in a collective for ever.
    func abort(code: Int32) -> Never
}

extension Communicator {
    public var isLeader: Bool { rank == 0 }

    public func sum(_ values: inout [Double]) { values.withUnsafeMutableBufferPointer { sum($0) } }
    public func maximum(_ values: inout [Double]) { values.withUnsafeMutableBufferPointer { maximum($0) } }
    public func broadcast(_ values: inout [Double], root: Int = 0) { values.withUnsafeMutableBufferPointer { broadcast($0, root: root) } }
}

/// One process on its own: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    public func sum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    public func maximum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    public func gather(_ local: [Float]) -> (values: [Float], counts: [Int]) { (local, [local.count]) }
    public func gather(_ local: [Int64]) -> (values: [Int64], counts: [Int]) { (local, [local.count]) }
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int) {}
    public func abort(code: Int32) -> Never { exit(code) }
}
