import ArgumentParser
import Datasets
import Foundation

/// `magpie dataset …`: converting published datasets into the formats the trainers read.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Convert datasets into the formats Magpie's trainers read.",
        subcommands: [DatasetFromIDXCommand.self]
    )
}

/// `magpie dataset from-idx`: an MNIST-family IDX dataset → CIFAR-10 binary batches.
struct DatasetFromIDXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-idx",
        abstract: "Write an IDX dataset (Fashion-MNIST, MNIST) as CIFAR-10 binary batches.",
        discussion: """
        Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and \
        t10k-labels-idx1-ubyte (each plain or .gz) from --from and writes data_batch_1…5.bin, \
        test_batch.bin and batches.meta.txt to --out, the layout the FixMatch and classification \
        readers take (`name: Cifar10`). Greyscale images of at most 32×32 are centred on a black \
        32×32 canvas (28×28 gets 2 pixels on every side) and copied into the three colour planes. \
        Debian's dataset-fashion-mnist package installs Fashion-MNIST in \
        /usr/share/datasets/fashion-mnist; Scripts/fetch-fashion-mnist.sh installs and converts it.
        """
    )

    @Option(name: .customLong("from"), help: "Folder holding the four IDX files.")
    var source: String

    @Option(help: "Folder to write the CIFAR-10 batches to (created if missing).")
    var out: String

    @Option(help: "Class names in label order, comma-separated (default: the label numbers).")
    var classes: String?

    @Option(help: "How many files the training images are spread over.")
    var batches: Int = 5

    @Flag(help: "Print a JSON summary instead of text.")
    var json = false

    func run() throws {
        guard batches >= 1 else { throw ValidationError("--batches must be at least 1") }
        let names = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        // All four files are found before anything is written.
        let splits = try [(CIFAR10.Split.train, "train", "train"), (.test, "test", "t10k")].map { split, name, prefix in
            (split, name, images: try find("\(prefix)-images-idx3-ubyte"), labels: try find("\(prefix)-labels-idx1-ubyte"))
        }
        var summary: [String: Any] = ["out": out], imageCounts: [String: Int] = [:]
        var classCount = names?.count
        for (split, name, imagesPath, labelsPath) in splits {
            let set = try CIFAR10(greyscale: IDXFile.read(path: imagesPath), labels: IDXFile.read(path: labelsPath),
                                  classCount: classCount, imagesPath: imagesPath, labelsPath: labelsPath)
            classCount = classCount ?? set.classCount
            try set.write(to: out, split: split, batches: batches)
            var perClass = [Int](repeating: 0, count: set.classCount)
            for label in set.labels { perClass[label] += 1 }
            summary[name] = ["images": set.count, "per_class": perClass]
            imageCounts[name] = set.count
        }
        let classNames = names ?? (0..<(classCount ?? 0)).map(String.init)
        try CIFAR10.writeClassNames(classNames, to: out)
        summary["classes"] = classNames
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("wrote \(out): \(imageCounts["train", default: 0]) training images in \(batches) batches, \(imageCounts["test", default: 0]) test images, "
                  + "\(classNames.count) classes (\(classNames.joined(separator: ", ")))")
        }
    }

    /// `name` or `name.gz` in the source folder.
    private func find(_ name: String) throws -> String {
        let plain = (source as NSString).appendingPathComponent(name)
        for path in [plain, plain + ".gz"] where FileManager.default.fileExists(atPath: path) { return path }
        throw ValidationError("\(source) has no \(name) or \(name).gz (an IDX dataset folder holds train-images-idx3-ubyte, "
                              + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte)")
    }
}
