import CDNNL
import Foundation

/// Plain ↔ `blocked16` conversions of fp32 image batches on oneDNN's reorder kernels, one
/// reorder primitive per shape and direction, kept.
enum OneDNNLayoutConversion {
    private static let reorders = OneDNNReorderCache()

    /// `values` converted, or nil without oneDNN.
    static func convert(_ values: [Float], shape: [Int], toBlocked: Bool) -> [Float]? {
        guard OneDNN.engine != nil else { return nil }
        let plain = OneDNN.plain(shape, dnnl_f32), blocked = OneDNN.blocked16(shape, dnnl_f32)
        let (from, to) = toBlocked ? (plain, blocked) : (blocked, plain)
        guard let reorder = reorders.reorder(from: from, to: to) else { return nil }
        return [Float].overwritten(count: values.count) { out in
            values.withUnsafeBufferPointer { src in
                OneDNN.withStream { stream in
                    reorder.reorder(stream, src.baseAddress!, from, into: out.baseAddress!, to)
                }
            }
        }
    }
}
