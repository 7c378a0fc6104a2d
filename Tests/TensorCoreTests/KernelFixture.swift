import Foundation
import Testing
@testable import TensorCore

/// One PyTorch-computed case from Fixtures/kernels/*.safetensors (made by
/// Scripts/fixtures/make_kernel_fixtures.py): tensors named "<case>/<name>" and the case's
/// parameters as a JSON string in the file metadata.
struct KernelFixture: CustomStringConvertible {
    let name: String
    let params: [String: Any]
    let file: SafeTensorsFile

    var description: String { name }

    static func cases(in fileName: String) throws -> [KernelFixture] {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/kernels/\(fileName).safetensors")
        let file = try SafeTensors.read(url)
        return try file.metadata.keys.sorted().map { key in
            let json = try JSONSerialization.jsonObject(with: Data(file.metadata[key]!.utf8))
            return KernelFixture(name: key, params: json as? [String: Any] ?? [:], file: file)
        }
    }

    func tensor(_ field: String) throws -> Tensor { try file.tensor("\(name)/\(field)").detached() }
    func optional(_ field: String) -> Tensor? { file.tensors["\(name)/\(field)"]?.detached() }
    func labels(_ field: String = "labels") -> [Int] { file.integers["\(name)/\(field)"]!.values.map { Int($0) } }
    func pair(_ key: String) -> Size2 { let v = params[key] as! [Int]; return Size2(v[0], v[1]) }
    func int(_ key: String) -> Int { params[key] as! Int }
    func bool(_ key: String) -> Bool { params[key] as! Bool }
    func float(_ key: String) -> Float { Float(params[key] as! Double) }
    func string(_ key: String) -> String { params[key] as! String }

    /// Runs `forward` on the fixture inputs, backpropagates the stored upstream gradient `gy`,
    /// and checks the output and each named input gradient against the reference.
    func expectMatches(inputs: [String: Tensor], tolerance: Float = 2e-5,
                       gradients: [(input: String, reference: String)],
                       sourceLocation: SourceLocation = #_sourceLocation,
                       _ forward: () -> Tensor) throws {
        for (_, t) in inputs { t.requiresGrad = true; t.zeroGrad() }
        let y = forward()
        let expected = try tensor("y")
        #expect(y.shape == expected.shape, "\(name): output shape", sourceLocation: sourceLocation)
        #expect(maxAbsDiff(y.data, expected.data) <= tolerance * scale(expected.data),
                "\(name): output differs by \(maxAbsDiff(y.data, expected.data))", sourceLocation: sourceLocation)
        y.backward(seed: try tensor("gy").data)
        for (input, reference) in gradients {
            let want = try tensor(reference)
            guard let got = inputs[input]?.grad else {
                Issue.record("\(name): no gradient for \(input)", sourceLocation: sourceLocation)
                continue
            }
            #expect(maxAbsDiff(got, want.data) <= tolerance * scale(want.data),
                    "\(name): \(reference) differs by \(maxAbsDiff(got, want.data))", sourceLocation: sourceLocation)
        }
    }

    private func scale(_ values: [Float]) -> Float { max(1, values.map(abs).max() ?? 1) }
}
