import Foundation
import TensorCore

/// Reads the numpy reference fixtures in `Tests/TestSupport/Fixtures` (written by
/// Scripts/fixtures/make_retrieval_fixtures.py), shared by the retrieval and CLI tests.
public struct Fixture {
    public let file: NPZFile

    public init(_ name: String) throws {
        file = try NPZ.read(Fixture.url(name + ".npz"))
    }

    /// A fixture file by name (with its extension).
    public static func url(_ file: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(file)")
    }

    public func floats(_ key: String) -> [Float] { file.arrays[key]!.tensor.data }
    public func doubles(_ key: String) -> [Double] { file.arrays[key]!.tensor.data.map(Double.init) }
    public func ints(_ key: String) -> [Int64] { file.arrays[key]!.integers!.values }
    public func shape(_ key: String) -> [Int] { file.arrays[key]!.shape }
}

/// A fresh folder under the temporary directory, removed by `cleanup()`.
public struct TemporaryFolder {
    public let path: String

    public init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-test-\(UUID().uuidString)").path
    }

    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// `n × d` standard-normal floats from a seeded generator.
public func randomVectors(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<(n * d)).map { _ in rng.normal() }
}
