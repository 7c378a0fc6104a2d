import Foundation
import Testing
import TensorCore
@testable import Datasets

/// The README's pipeline end to end on a small SOP-format folder: reader → PK sampler → loader.
@Suite struct PipelineTests {
    @Test func sopListThroughPKSamplerAndLoader() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines = ["image_id class_id super_class_id path"]
        var id = 1
        for cls in 0..<6 {
            let folder = dir.appendingPathComponent("cat\(cls % 2)_final")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for k in 0..<3 {
                let name = "cat\(cls % 2)_final/\(cls)_\(k).JPG"
                try JPEGEncoder.write(Fixtures.synthetic(width: 40 + 5 * k, height: 30 + 3 * cls, seed: UInt64(id)),
                                      to: dir.appendingPathComponent(name).path)
                lines.append("\(id) \(100 + 7 * cls) \(cls % 2 + 1) \(name)")
                id += 1
            }
        }
        try lines.joined(separator: "\n").write(to: dir.appendingPathComponent("Ebay_train.txt"), atomically: true, encoding: .utf8)

        let train = try SOPReader.read(listFile: dir.appendingPathComponent("Ebay_train.txt").path)
        #expect(train.classCount == 6)
        let chain = try TransformRegistry.chain([
            ("DecodeImage", ["to_rgb": true]), ("Resize", ["size": 36]),
            ("RandomResizedCrop", ["size": 32, "scale": [0.2, 1.0]]), ("RandomHorizontalFlip", ["prob": 0.5]),
            ("ToTensor", [:]), ("Normalize", ["mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]]),
        ])
        let sampler = try RandomIdentitySampler(labels: train.labels, batchSize: 6, instancesPerClass: 2, maxIters: 5, seed: 0)
        let it = DataLoader(source: train, transform: chain, workers: 2, prefetch: 2, seed: 0).makeIterator(batches: sampler.batches(epoch: 0))
        var count = 0
        while let batch = try it.next() {
            #expect(batch.images.shape == [6, 3, 32, 32])
            #expect(Set(batch.labels).count == 3)
            count += 1
        }
        #expect(count == 5)
    }
}
