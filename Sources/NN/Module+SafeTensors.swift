import Foundation
import TensorCore

extension Module {
    /// Writes parameters and buffers under their PyTorch keys; `num_batches_tracked` is stored
    /// as I64 as PyTorch does. Atomic: a temp file is renamed into place.
    public func saveSafeTensors(to url: URL, metadata: [String: String] = [:]) throws {
        var floats: [String: Tensor] = [:], ints: [String: Int64Array] = [:]
        for (key, t) in stateDict() {
            if key.hasSuffix("num_batches_tracked") {
                ints[key] = Int64Array(shape: [], values: [Int64(t.data.first ?? 0)])
            } else {
                floats[key] = t
            }
        }
        try SafeTensors.write(floats, int64Tensors: ints, metadata: metadata, to: url)
    }

    /// Loads a safetensors file written by `saveSafeTensors` or by PyTorch (`safetensors.torch.save_file`).
    @discardableResult
    public func loadSafeTensors(from url: URL, strict: Bool = true) throws -> LoadReport {
        try load(stateDict: SafeTensors.read(url).tensors, strict: strict)
    }
}
