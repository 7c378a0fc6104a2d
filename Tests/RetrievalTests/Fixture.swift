import Foundation
import TensorCore

/// Reads the numpy reference fixtures written by Scripts/fixtures/make_retrieval_fixtures.py.
struct Fixture {
    let file: NPZFile

    init(_ name: String) throws {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name).npz")
        file = try NPZ.read(url)
    }

    func floats(_ key: String) -> [Float] { file.arrays[key]!.tensor.data }
    func doubles(_ key: String) -> [Double] { file.arrays[key]!.tensor.data.map(Double.init) }
    func ints(_ key: String) -> [Int64] { file.arrays[key]!.integers!.values }
    func shape(_ key: String) -> [Int] { file.arrays[key]!.shape }
}

/// A fresh folder under the temporary directory, removed by `cleanup()`.
struct TemporaryFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-test-\(UUID().uuidString)").path
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
