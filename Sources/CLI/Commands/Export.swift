import ArgumentParser
import Foundation
import Models
import NN
import ONNXExport
import TensorCore

/// `magpie export`: a model as an ONNX graph, or its weights as safetensors.
struct ExportCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case onnx, safetensors
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model as ONNX (opset 17, dynamic batch) or its weights as safetensors.",
        discussion: """
        ONNX: the model's eval-mode forward pass, traced once and written as a graph whose input \
        'input' is [N, 3, size, size] and output 'output' is [N, classes] (or [N, features]); N is \
        symbolic. Initializers carry the checkpoint's keys; BatchNorm stays BatchNormalization \
        (onnxruntime folds it into the convolution at load time). Check a file with \
        Scripts/check-onnx.py. safetensors: the model's state dict (e.g. freshly initialised \
        weights to edit elsewhere). --reference-input/--reference-output run Magpie's own forward \
        pass on an .npy batch, for comparing with another runtime.
        """
    )

    @OptionGroup var source: ModelSource

    @Option(help: "onnx or safetensors.")
    var format: Format = .onnx

    @Option(help: "Output file.")
    var out: String

    @Option(name: .customLong("reference-input"), help: "An .npy batch [N, 3, size, size] to run through the model.")
    var referenceInput: String?

    @Option(name: .customLong("reference-output"), help: "Where to write the model's output on --reference-input (.npy).")
    var referenceOutput: String?

    func validate() throws {
        guard (referenceInput == nil) == (referenceOutput == nil) else {
            throw ValidationError("--reference-input and --reference-output go together")
        }
    }

    func run() throws {
        let url = URL(fileURLWithPath: out)
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder) else { throw ValidationError("no such folder for --out: \(folder)") }
        let loaded = try source.load()
        // Read the reference batch first, so that a bad one fails before anything is written.
        let reference = try referenceInput.map { try readReferenceInput($0, shape: loaded.inputShape) }
        switch format {
        case .onnx:
            var exporter = ONNXExporter()
            exporter.graphName = loaded.name
            exporter.docString = "\(loaded.name) exported by magpie \(Magpie.version)"
            let proto = try exporter.write(loaded.model, inputShape: loaded.inputShape, to: url)
            let outShape = proto.graph.output[0].type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? "\($0.dimValue)" : $0.dimParam }
            print("wrote \(out): \(loaded.name), opset \(ONNXExporter.opsetVersion), \(proto.graph.node.count) nodes, "
                + "\(proto.graph.initializer.count) initializers, input [N, \(loaded.inputShape.map(String.init).joined(separator: ", "))]"
                + " → output [\(outShape.joined(separator: ", "))]")
        case .safetensors:
            try loaded.model.saveSafeTensors(to: url, metadata: ["format": "magpie-weights", "arch": loaded.name])
            print("wrote \(out): \(loaded.name), \(loaded.model.stateDict().count) tensors")
        }
        if let reference, let referenceOutput {
            let y = withNoGrad { loaded.model(reference) }
            try NPY.write(y, to: URL(fileURLWithPath: referenceOutput))
            print("wrote \(referenceOutput): output \(y.shape) for input \(reference.shape)")
        }
    }

    private func readReferenceInput(_ path: String, shape: [Int]) throws -> Tensor {
        let x = try NPY.read(URL(fileURLWithPath: path)).tensor
        guard x.rank == 4, Array(x.shape.dropFirst()) == shape, x.shape[0] > 0 else {
            throw ValidationError("\(path) has shape \(x.shape); expected [N, \(shape.map(String.init).joined(separator: ", "))]")
        }
        return x
    }
}
