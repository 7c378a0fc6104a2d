import ArgumentParser
import Foundation
import TensorCore

/// The `magpie` command: image retrieval and metric learning on the CPU.
@main
struct Magpie: ParsableCommand {
    static let version = "0.1.0"

    static func main() {
        MemoryTuning.apply()
        Parallel.applyThreadSetting()
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try command.run()
        } catch let error as ValidationError {
            // Found while running (a missing file, a late-detected conflict): the usage text that
            // ArgumentParser would append says nothing useful there, so one line only.
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            exit(withError: ExitCode.validationFailure)
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "magpie",
        abstract: "Image retrieval and metric learning in Swift, on the CPU.",
        discussion: """
        Train embedding models, build LMDB galleries of product images, query nearest products and \
        measure recall@k / mAP. Run `magpie help <subcommand>` for details.
        """,
        version: version,
        subcommands: [TrainCommand.self, EvalCommand.self, GalleryCommand.self, QueryCommand.self, ServeCommand.self, ExportCommand.self, ExportEmbeddingsCommand.self,
                      ModelsCommand.self, ConvertCommand.self, DatasetCommand.self, PredictCommand.self, Bench.self]
    )
}
