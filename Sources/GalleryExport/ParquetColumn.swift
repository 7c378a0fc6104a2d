import Retrieval

/// A top-level column of the Parquet files Magpie writes, and the values of one row group of it.
public struct ParquetColumn: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// `required int64`.
        case int64
        /// `optional int64` (nil → null).
        case optionalInt64
        /// `optional binary (STRING)`: UTF-8 text.
        case optionalString
        /// `required group (LIST) { repeated group list { required float element } }` — the
        /// standard three-level list that Arrow reads as `list<float>`; every row holds `width` floats.
        case floatList(width: Int)
    }

    public var name: String
    public var kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// The column's values for one row group; the case must match `kind`.
    public enum Values {
        case int64([Int64])
        case optionalInt64([Int64?])
        case optionalString([String?])
        /// Row-major rows × width.
        case floatList([Float])
    }

    /// Parquet physical type (parquet.thrift `Type`): INT64 = 2, FLOAT = 4, BYTE_ARRAY = 6.
    var physicalType: Int32 {
        switch kind {
        case .int64, .optionalInt64: return 2
        case .optionalString: return 6
        case .floatList: return 4
        }
    }

    /// The leaf's dotted path from the root, as `ColumnMetaData.path_in_schema` lists it.
    var leafPath: [String] {
        if case .floatList = kind { return [name, "list", "element"] }
        return [name]
    }

    var hasLevels: Bool { kind != .int64 }
}
