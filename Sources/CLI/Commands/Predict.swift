import ArgumentParser
import Datasets
import Engine
import Foundation
import TensorCore

/// `magpie predict`: class predictions for images, as PaddleClas's `paddleclas --model_name …
/// --infer_imgs …` and `tools/infer.py -c …` print them.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images with a zoo model or a classification config.",
        discussion: """
        Either --model_name NAME (a zoo classifier, e.g. ResNet50, PPLCNet_x1_0, EfficientNet_lite0; or \
        person_exists, PULC's PP-LCNet_x1_0 binary classifier) with --pretrained WEIGHTS (.safetensors, \
        a checkpoint, or a PyTorch .pth), using the model's published inference preprocessing (resize \
        the short side to its input size + 32, centre crop, normalise: ImageNet mean/std, or \
        (pixel - 127) / 128 for EfficientNet-Lite); or -c CONFIG \
        (Infer.transforms, else the eval transforms, and Infer.PostProcess; weights from --pretrained \
        or Global.pretrained_model).

        --bundle DIR takes a classifier bundle (`magpie export -c CONFIG --format bundle`): weights, \
        preprocessing, post-process and class names come from it.

        Output per image: class_ids, scores (softmax), label_names, filename. Topk prints the \
        --topk best classes (names from --class_id_map_file, 'id name' per line; the ImageNet-1k \
        names ship as configs/ImageNet/imagenet1k_label_list.txt and are the default for \
        1000-class models). ThreshOutput (person_exists) prints class 1 (label_1, 'someone') with \
        score p when p = softmax[1] >= threshold, else class 0 (label_0, 'nobody') with 1 - p.
        --json prints one JSON object per image.
        """
    )

    @Option(name: .customLong("model_name"), help: "Zoo model name (or person_exists).") var modelName: String?
    @Option(name: .customLong("infer_imgs"), help: "An image file or a folder of images.") var inferImgs: String
    @Option(help: "Number of classes to print (Topk).") var topk: Int?
    @Option(name: .customLong("batch_size"), help: "Images per forward pass.") var batchSize: Int?
    @Option(name: .customLong("class_id_map_file"), help: "Class names: 'id name' per line.") var classIDMapFile: String?
    @Option(help: "Weights: a checkpoint prefix or .safetensors (magpie convert imports torchvision/PaddleClas).") var pretrained: String?
    @Option(name: .customLong("class_num"), help: "With --model_name: classifier outputs (default: from the weights, else 1000).") var classNum: Int?
    @Flag(help: "One JSON object per image.") var json = false
    @Option(help: "Classifier inference bundle (`magpie export --format bundle`) instead of -c/--model_name.") var bundle: String?
    @OptionGroup var config: ConfigOptions

    static let imageNetNames = "configs/ImageNet/imagenet1k_label_list.txt"

    func run() throws {
        if let topk, topk < 1 { throw ValidationError("--topk must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch_size must be at least 1") }
        if let bundle {
            guard config.config == nil, config.overrides.isEmpty, modelName == nil, pretrained == nil, classIDMapFile == nil, classNum == nil else {
                throw ValidationError("--bundle holds the model, weights and class names; drop -c, --model_name, --pretrained, --class_num and --class_id_map_file")
            }
            try config.convolution.apply()
            try predict(with: Classifier(bundle: URL(fileURLWithPath: bundle), topk: topk, batchSize: batchSize))
            return
        }
        let c: Engine.Config
        if let loaded = try config.load() {
            guard modelName == nil else { throw ValidationError("give -c CONFIG or --model_name, not both") }
            c = loaded
        } else {
            guard let modelName else { throw ValidationError("give --model_name NAME or -c CONFIG") }
            let classes = classNum ?? pretrained.flatMap(PredictCommand.classCount(weights:))
            var names = classIDMapFile
            if names == nil, (classes ?? 1000) == 1000, modelName != "person_exists",
               FileManager.default.fileExists(atPath: PredictCommand.imageNetNames) {
                names = PredictCommand.imageNetNames
            }
            c = try Classifier.defaultConfig(modelName: modelName, classNum: classes, classIDMapFile: names, topk: topk ?? 5)
        }
        let classifier = try Classifier(config: c, weights: pretrained, topk: topk, classIDMapFile: classIDMapFile, batchSize: batchSize)
        if pretrained == nil && classifier.weightsPath == nil {
            FileHandle.standardError.write(Data("warning: no weights given (--pretrained); predicting with an untrained \(classifier.arch)\n".utf8))
        }
        try predict(with: classifier)
    }

    private func predict(with classifier: Classifier) throws {
        let paths = try ImageFiles.list(inferImgs)
        for start in stride(from: 0, to: paths.count, by: classifier.batchSize) {
            for p in try classifier.predict(paths: Array(paths[start..<min(start + classifier.batchSize, paths.count)])) {
                print(json ? p.json : p.line)
            }
        }
    }

    /// The class count of a checkpoint's classifier (`fc.bias`), when it has one.
    static func classCount(weights: String) -> Int? {
        let tensors = try? PretrainedWeights.readTensors(weights)
        return (tensors?["fc.bias"] ?? tensors?["_fc.bias"])?.shape.first
    }
}
