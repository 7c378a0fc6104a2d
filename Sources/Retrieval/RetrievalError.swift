/// Errors from galleries, search and evaluation. Each `description` is one line that says what
/// went wrong and what to do about it.
public enum RetrievalError: Error, CustomStringConvertible, Equatable {
    case lmdb(operation: String, code: Int32, message: String)
    case galleryMissing(path: String)
    case galleryExists(path: String)
    case notAGallery(path: String, reason: String)
    case dimensionMismatch(expected: Int, got: Int, context: String)
    case fingerprintMismatch(expected: String, got: String)
    case metricMismatch(expected: String, got: String)
    case nonFiniteVector(id: Int64)
    case duplicateID(id: Int64)
    case invalidID(id: Int64)
    case unknownID(id: Int64)
    case invalidArgument(String)
    case invalidInput(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case storageFull(path: String, reason: String)
    case idsExhausted(after: Int64)

    public var description: String {
        switch self {
        case let .lmdb(operation, code, message):
            return "LMDB \(operation) failed: \(message) (code \(code))"
        case let .galleryMissing(path):
            return "no gallery at \(path): create one with `magpie gallery import --gallery \(path) ...`"
        case let .galleryExists(path):
            return "a gallery already exists at \(path): open it to append, or choose another path"
        case let .notAGallery(path, reason):
            return "\(path) is not a Magpie gallery (\(reason)); point --gallery at a folder made by `magpie gallery import`"
        case let .dimensionMismatch(expected, got, context):
            return "\(context): vectors have dimension \(got) but \(expected) is expected; embed with the same model as the gallery"
        case let .fingerprintMismatch(expected, got):
            return "model fingerprint \(got) does not match the gallery's \(expected): re-embed with the gallery's model or build a new gallery"
        case let .metricMismatch(expected, got):
            return "metric \(got) does not match the gallery's \(expected)"
        case let .nonFiniteVector(id):
            return "vector for id \(id) contains NaN or infinity: nothing was written; fix the embeddings and retry"
        case let .duplicateID(id):
            return "id \(id) already exists (or appears twice in the batch): nothing was written; use upsert to replace it"
        case let .invalidID(id):
            return "id \(id) is out of range: gallery ids must be in 0...\(Gallery.maxID) (2^53 - 1, exact as a JSON number)"
        case let .unknownID(id):
            return "id \(id) is not in the gallery"
        case let .invalidArgument(message):
            return message
        case let .invalidInput(path, reason):
            return "\(path): \(reason)"
        case let .corrupt(path, reason):
            return "gallery \(path) is damaged: \(reason); restore it from a backup or rebuild it"
        case let .storageFull(path, reason):
            return "gallery \(path): writing failed (\(reason)): the disk is full or a file size limit was reached; nothing of this write was committed; free space and retry"
        case let .idsExhausted(after):
            return "no automatic id is left after \(after) (ids must stay within 0...\(Gallery.maxID)); give ids explicitly"
        }
    }
}
