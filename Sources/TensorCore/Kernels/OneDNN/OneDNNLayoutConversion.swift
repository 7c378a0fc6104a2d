import CDNNL
import Foundation

/// Conversions of image batches between `TensorLayout`s on oneDNN's reorder kernels, one reorder
/// primitive per shape and pair of layouts, kept.
enum OneDNNLayoutConversion {
    private static let reorders = OneDNNReorderCache()

    /// `values` converted, or nil without oneDNN.
    static func convert(_ values: [Float], shape: [Int], from source: TensorLayout, to target: TensorLayout) -> [Float]? {
        guard OneDNN.engine != nil else { return nil }
        let from = OneDNN.descriptor(shape, source), to = OneDNN.descriptor(shape, target)
        guard let reorder = reorders.reorder(from: from, to: to) else { return nil }
        return [Float].overwritten(count: target.storageCount(Shape.count(shape))) { out in
            values.withUnsafeBufferPointer { src in
                OneDNN.withStream { stream in
                    reorder.reorder(stream, src.baseAddress!, from, into: out.baseAddress!, to)
                }
            }
        }
    }
}
