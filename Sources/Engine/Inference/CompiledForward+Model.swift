import Foundation
import NN
import TensorCore

extension CompiledForward {
    /// The compiled eval forward pass of a loaded model; a model the graph cannot take runs op
    /// by op, with a one-line note on standard error.
    static func forModel(_ model: Layer) -> CompiledForward {
        let compiled = CompiledForward { model($0) }
        compiled.onFallback = { reason in
            FileHandle.standardError.write(Data("note: the model runs op by op, not as an inference graph: \(reason)\n".utf8))
        }
        return compiled
    }
}
