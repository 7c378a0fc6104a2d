import Foundation
import Testing
@testable import Engine

@Suite struct PredictionTests {
    @Test func thresholdOutputAsPaddleClas() {
        let post = PostProcess.threshold(0.5, label0: "nobody", label1: "someone")
        // softmax([0, log 19]) = [0.05, 0.95]
        let yes = post.apply(logits: [0, logf(19)], filename: "a.jpg")
        #expect(yes.classIDs == [1] && yes.labelNames == ["someone"] && abs(yes.scores[0] - 0.95) < 1e-6)
        // p = 0.3 < 0.5 → class 0 with score 1 − p.
        let no = post.apply(logits: [0, logf(3.0 / 7)], filename: "b.jpg")
        #expect(no.classIDs == [0] && no.labelNames == ["nobody"] && abs(no.scores[0] - 0.7) < 1e-6)
        // p equal to the threshold counts as class 1 (PaddleClas tests s < threshold for class 0).
        let edge = post.apply(logits: [1, 1], filename: "c.jpg")
        #expect(edge.classIDs == [1] && edge.scores == [0.5])
    }

    @Test func topkSortsBySoftmaxWithLowerIdOnTies() {
        let post = PostProcess.topk(k: 3, names: [0: "cat", 1: "dog", 2: "hen", 3: "cock"])
        let p = post.apply(logits: [1, 3, 3, 0], filename: "x.jpg")
        #expect(p.classIDs == [1, 2, 0])
        #expect(p.labelNames == ["dog", "hen", "cat"])
        let e = [expf(1), expf(3), expf(3), expf(0)], z = e.reduce(0, +)
        #expect(zip(p.scores, [e[1] / z, e[2] / z, e[0] / z]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(PostProcess.topk(k: 2, names: [:]).apply(logits: [0, 1, 2], filename: "y").labelNames.isEmpty)
    }

    @Test func printsPaddleClasFields() throws {
        let p = Prediction(classIDs: [8, 7], scores: [0.793681, 0.16329], labelNames: ["hen", "cock"], filename: "img/a.jpg")
        #expect(p.line == "class_ids: [8, 7], scores: [0.79368, 0.16329], label_names: ['hen', 'cock'], filename: img/a.jpg")
        let object = try JSONSerialization.jsonObject(with: Data(p.json.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["class_ids", "scores", "label_names", "filename"])
        #expect(object["class_ids"] as? [Int] == [8, 7])
        #expect(object["filename"] as? String == "img/a.jpg")
    }

    @Test func classIdMapFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-names-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try "0 tench, Tinca tinca\n1 goldfish, Carassius auratus\n\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(try PostProcess.classNames(file: url.path) == [0: "tench, Tinca tinca", 1: "goldfish, Carassius auratus"])
        try "zero tench\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: EngineError.self) { try PostProcess.classNames(file: url.path) }
        #expect(throws: EngineError.self) { try PostProcess.classNames(file: url.path + ".missing") }
    }

    @Test func shippedImageNetNamesAreComplete() throws {
        // configs/ImageNet/imagenet1k_label_list.txt, found from this file's location.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let names = try PostProcess.classNames(file: repo.appendingPathComponent("configs/ImageNet/imagenet1k_label_list.txt").path)
        #expect(names.count == 1000 && Set(names.keys) == Set(0..<1000))
        #expect(names[0] == "tench, Tinca tinca" && names[999] == "toilet tissue, toilet paper, bathroom tissue")
    }

    @Test func modelNameConfigs() throws {
        let person = try Classifier(config: Classifier.defaultConfig(modelName: "person_exists", classNum: nil, classIDMapFile: nil, topk: 5))
        #expect(person.arch == "PPLCNet_x1_0")
        #expect(person.postProcess == .threshold(0.5, label0: "nobody", label1: "someone"))
        let resnet = try Classifier(config: Classifier.defaultConfig(modelName: "ResNet18", classNum: 10, classIDMapFile: nil, topk: 3), batchSize: 4)
        #expect(resnet.postProcess == .topk(k: 3, names: [:]) && resnet.batchSize == 4)
        #expect(throws: (any Error).self) { try Classifier(config: Classifier.defaultConfig(modelName: "ResNet51", classNum: nil, classIDMapFile: nil, topk: 5)) }
    }
}
