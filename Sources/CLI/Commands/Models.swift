import ArgumentParser
import Foundation
import Models
import NN
import TensorCore

/// `magpie models`: the zoo with parameter counts and multiply-accumulates.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the model zoo with parameter counts and GMACs.",
        discussion: """
        GMACs count the multiply-accumulates of convolutions and fully connected layers for one image \
        at the model's default input size (224 px; 32 px for WideResNet), with the default class count \
        (1000; 10 for WideResNet). Names are PaddleClas's registry names, usable as `Arch.name`.
        """
    )

    @Option(help: "Only names containing this text (case-insensitive).")
    var filter: String?

    @Flag(help: "Skip the forward pass that counts MACs (fast).")
    var noMacs = false

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() throws {
        let entries = ModelRegistry.entries.filter { e in
            filter.map { e.name.lowercased().contains($0.lowercased()) } ?? true
        }
        if !json { print("name".padding(toLength: 26, withPad: " ", startingAt: 0) + "family".padding(toLength: 18, withPad: " ", startingAt: 0) + "input       params    GMACs") }
        for entry in entries {
            let model = try entry.make()
            model.eval()
            var macs: Int?
            if !noMacs {
                let x = Tensor.zeros([1, 3, entry.inputSize, entry.inputSize])
                macs = withNoGrad { OpCounter.counting { model(x) }.1 }
            }
            if json {
                let macsField = macs.map { String(format: "%.4f", Double($0) / 1e9) } ?? "null"
                print("{\"name\":\"\(entry.name)\",\"family\":\"\(entry.family)\",\"input\":\(entry.inputSize),"
                      + "\"params\":\(model.parameterCount),\"gmacs\":\(macsField)}")
            } else {
                let macsText = macs.map { String(format: "%8.3f", Double($0) / 1e9) } ?? "       -"
                print(entry.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                      + entry.family.padding(toLength: 18, withPad: " ", startingAt: 0)
                      + String(format: "%5d %12d ", entry.inputSize, model.parameterCount) + macsText)
            }
        }
    }
}
