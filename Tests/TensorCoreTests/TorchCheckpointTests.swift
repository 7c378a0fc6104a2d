import Foundation
import Testing
@testable import TensorCore

/// Checkpoints written by torch.save itself (Scripts/fixtures/make_torch_checkpoint_fixtures.py)
/// in both formats, against the float32 values torch gave for the same tensors.
@Suite struct TorchCheckpointTests {
    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/torch"),
                     "missing fixture Fixtures/torch/\(name)")
    }

    @Test(arguments: ["zip.pth", "legacy.pth"])
    func readsEveryTensorAsTorchDoes(file: String) throws {
        let expected = try SafeTensors.read(Self.url("expected.safetensors")).tensors
        let tensors = try TorchCheckpoint.read(Self.url(file))
        #expect(Set(tensors.keys) == Set(expected.keys))
        for (key, want) in expected {
            let got = try #require(tensors[key])
            #expect(got.shape == want.shape, "\(key)")
            #expect(got.data == want.data, "\(key)")
        }
        // The views are really views: a transposed tensor and two slices of one storage.
        #expect(tensors["transposed"]?.shape == [5, 3])
        #expect(tensors["bn.num_batches_tracked"]?.data == [1234])
    }

    @Test func truncatedFilesAreRefusedWithAReason() throws {
        for file in ["zip.pth", "legacy.pth"] {
            let data = try Data(contentsOf: Self.url(file))
            for cut in [data.count / 3, data.count - 40] {
                let error = #expect(throws: TensorCoreError.self) {
                    _ = try TorchCheckpoint.read(data: data.prefix(cut), path: file)
                }
                let message = error.map(String.init(describing:)) ?? ""
                #expect(message.contains(file) && (message.contains("truncated") || message.contains("zip")), "\(message)")
            }
        }
    }

    /// An expanded tensor (stride 0) has more elements than its storage: refused, so a small file
    /// cannot ask for an unbounded allocation.
    @Test func overlappingViewsAreRefused() throws {
        let error = #expect(throws: TensorCoreError.self) { _ = try TorchCheckpoint.read(Self.url("expanded.pth")) }
        #expect(error.map(String.init(describing:))?.contains("overlaps itself") == true)
    }

    @Test func otherFilesAreNotMistakenForCheckpoints() throws {
        let safetensors = try Data(contentsOf: Self.url("expected.safetensors"))
        let error = #expect(throws: TensorCoreError.self) { _ = try TorchCheckpoint.read(data: safetensors, path: "x.pth") }
        #expect(error.map(String.init(describing:))?.contains("not a PyTorch checkpoint") == true)
    }

    /// A pickled object that is not a dict of tensors (a whole nn.Module, say) is refused, and
    /// nothing it names is run.
    @Test func aPickledObjectIsNotAStateDict() throws {
        // PROTO 2, GLOBAL 'os system', SHORT_BINUNICODE 'true', TUPLE1, REDUCE, STOP
        var bytes: [UInt8] = [0x80, 0x02, 0x63] + Array("os\nsystem\n".utf8)
        bytes += [0x8C, 4] + Array("true".utf8) + [0x85, 0x52, 0x2E]
        let value = try bytes.withUnsafeBytes { raw -> PickleValue in
            var r = PickleReader(raw, path: "p")
            return try r.load()
        }
        guard case let .opaque(name) = value else { Issue.record("expected an inert placeholder, got \(value.kind)"); return }
        #expect(name == "os.system")
        #expect(TorchCheckpoint.stateDict(value) == nil)
    }

    /// A dict that holds itself under a wrapper key ends the search instead of recursing forever.
    @Test func aSelfReferencingDictIsNotFollowedForever() throws {
        // PROTO 2, EMPTY_DICT, BINPUT 0, SHORT_BINUNICODE 'model', BINGET 0, SETITEM, STOP
        let bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x8C, 5] + Array("model".utf8) + [0x68, 0x00, 0x73, 0x2E]
        let value = try bytes.withUnsafeBytes { raw -> PickleValue in
            var r = PickleReader(raw, path: "p")
            return try r.load()
        }
        #expect(TorchCheckpoint.stateDict(value) == nil)
    }
}
