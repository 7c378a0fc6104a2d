import ArgumentParser
import Engine
import Foundation
import Models
import NN
import ONNXExport
import TensorCore

/// `magpie export`: a model as an ONNX graph, its weights as safetensors, or (from a config) an
/// inference bundle.
struct ExportCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case onnx, safetensors, bundle
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model as ONNX (opset 17, dynamic batch), its weights as safetensors, or an inference bundle.",
        discussion: """
        The model: --model NAME (a registry architecture, with --class_num/--embedding_size/--size \
        and optional --weights), or -c CONFIG [-o Key=Value …] [--weights CKPT] (the config's Arch \
        as training builds it; weights from --weights or Global.pretrained_model). A retrieval \
        config exports what `magpie query` embeds with: the RecModel (backbone, FC neck) followed by \
        L2 normalisation when Global.feature_normalize is true, at the input size of its eval \
        preprocessing.

        bundle (needs -c): --out DIR becomes a self-contained folder (manifest.json, config.yaml, \
        model.safetensors, and class_id_map.txt for a classifier with a class map) that query, \
        gallery build/add, serve, predict and export-embeddings take as --bundle DIR; its \
        fingerprint equals the one of the config + checkpoint, so galleries built from either \
        accept the other. The folder is written beside --out under a temp name and renamed.

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
    @OptionGroup var config: ConfigOptions

    @Option(help: "onnx, safetensors or bundle.")
    var format: Format = .onnx

    @Option(help: "Output file (a folder for bundle).")
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
        let configured = try config.load()
        if configured != nil {
            guard source.model == nil else { throw ValidationError("give -c CONFIG or --model NAME, not both") }
            guard source.classNum == nil, source.embeddingSize == nil, source.size == nil else {
                throw ValidationError("--class_num, --embedding_size and --size go with --model; with -c the config sets them (-o Arch.…)")
            }
        } else if format == .bundle {
            throw ValidationError("--format bundle needs -c CONFIG (a bundle keeps the config's preprocessing)")
        }
        let loaded = try configured.map { try load(config: $0) } ?? source.load()
        // Read the reference batch first, so that a bad one fails before anything is written.
        let reference = try referenceInput.map { try readReferenceInput($0, shape: loaded.inputShape) }
        switch format {
        case .bundle:
            let bundle = try InferenceBundle.write(config: configured!, weights: source.weights, magpieVersion: Magpie.version, to: url)
            let m = bundle.manifest
            let size = m.embeddingSize.map { "\($0)-d embeddings" } ?? m.classNum.map { "\($0) classes" } ?? ""
            print("wrote bundle \(out): \(m.kind.rawValue) \(m.arch)\(m.backbone.map { " (\($0))" } ?? ""), \(size), "
                + "input [N, \(m.inputShape.map(String.init).joined(separator: ", "))], fingerprint \(m.fingerprint), "
                + m.files.map { "\($0.path) \($0.bytes) B" }.joined(separator: ", "))
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

    /// The model of a config as inference runs it: a retrieval model with its L2 normalisation,
    /// or a classifier; input size from the eval preprocessing.
    private func load(config: Engine.Config) throws -> ModelSource.Loaded {
        switch InferenceBundle.Kind.of(config) {
        case .retrieval:
            let model = try InferenceModel(config: config, weights: source.weights)
            let name = InferenceBundle.backboneName(config).map { "\(model.arch)_\($0)" } ?? model.arch
            return ModelSource.Loaded(model: model.embeddingLayer, name: name, inputShape: try model.inputShape())
        case .classifier:
            let classifier = try Classifier(config: config, weights: source.weights)
            return ModelSource.Loaded(model: classifier.model, name: classifier.arch, inputShape: try classifier.inputShape())
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
