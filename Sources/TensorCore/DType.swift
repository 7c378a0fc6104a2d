/// Element types a tensor can hold. Compute is Float32 today; the enum leaves room for more.
public enum DType: String, Sendable, CaseIterable {
    case float32

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float32: return 4
        }
    }
}
