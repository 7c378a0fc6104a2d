import Datasets
import Foundation
import MagpieConfig
import TensorCore

/// Decode + augment throughput of the XBM training chain on JPEGs this benchmark writes itself.
enum LoaderBench {
    /// XBM / PaddleClas `xbm_resnet50.yaml` training transforms.
    static let xbmTrain: [(String, [String: ConfigNode])] = [
        ("DecodeImage", ["to_rgb": true, "channel_first": false]),
        ("Resize", ["size": 256]),
        ("RandomResizedCrop", ["size": 224, "scale": [0.2, 1.0]]),
        ("RandomHorizontalFlip", ["prob": 0.5]),
        ("ToTensor", [:]),
        ("Normalize", ["mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]]),
    ]

    /// Writes `count` product-photo-like JPEGs with sides drawn from 96…500 px into `folder`.
    static func writeImages(count: Int, folder: URL, seed: UInt64 = 1) throws -> ImageListDataset {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = RNG(seed: seed)
        var records: [ImageRecord] = []
        for i in 0..<count {
            let w = 96 + rng.int(below: 405), h = 96 + rng.int(below: 405)
            var image = Image(width: w, height: h)
            let (r0, g0, b0) = (rng.int(below: 256), rng.int(below: 256), rng.int(below: 256))
            let cx = rng.int(below: w), cy = rng.int(below: h), radius = 20 + rng.int(below: max(21, min(w, h) / 2))
            for y in 0..<h {
                for x in 0..<w {
                    let inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius
                    let noise = rng.int(below: 16)
                    image[x, y, 0] = UInt8(clamping: (inside ? r0 : 235) + noise)
                    image[x, y, 1] = UInt8(clamping: (inside ? g0 : 235) + (x * 16 / w) + noise)
                    image[x, y, 2] = UInt8(clamping: (inside ? b0 : 240) + (y * 16 / h))
                }
            }
            let path = folder.appendingPathComponent(String(format: "%05d.jpg", i)).path
            try JPEGEncoder.write(image, to: path, quality: 90)
            records.append(ImageRecord(path: path, label: i % 16))
        }
        return ImageListDataset(records: records, classCount: 16, source: folder.path)
    }

    /// Training-step rates of PyTorch CPU measured on this machine: the rate a
    /// loader must beat not to hold training up.
    static let resnet50Step = 3.2, wrn28Step = 88.5

    struct Row {
        let name: String; let images: Int; let seconds: Double
        var stepRate = LoaderBench.resnet50Step
        var rate: Double { Double(images) / seconds }
    }

    static func run(count: Int, batchSize: Int, folder: URL?) throws -> (rows: [Row], folder: URL) {
        let dir = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("magpie-bench-loader-\(getpid())")
        let ds = try writeImages(count: count, folder: dir)
        let chain = try TransformRegistry.chain(xbmTrain)
        var rows: [Row] = []

        var start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<ds.count { _ = try ImageDecoder().decode(contentsOf: ds.records[i].path) }
        rows.append(Row(name: "decode only, 1 thread", images: ds.count, seconds: elapsed(since: start)))

        var rng = RNG(seed: 0)
        start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<ds.count { _ = try chain.apply(try ds.payload(at: i), rng: &rng) }
        rows.append(Row(name: "decode + XBM train chain, 1 thread", images: ds.count, seconds: elapsed(since: start)))

        for workers in [1, 2] {
            let batches = try BatchSampler(count: ds.count, batchSize: batchSize, shuffle: true, dropLast: true, seed: 1).batches(epoch: 0)
            let loader = DataLoader(source: ds, transform: chain, workers: workers, prefetch: 2)
            start = DispatchTime.now().uptimeNanoseconds
            let it = loader.makeIterator(batches: batches)
            var images = 0
            while let b = try it.next() { images += b.labels.count }
            rows.append(Row(name: "DataLoader, \(workers) worker\(workers > 1 ? "s" : ""), batch \(batchSize) NCHW", images: images,
                            seconds: elapsed(since: start)))
        }
        rows.append(try fixMatchRow())
        return (rows, dir)
    }

    /// FixMatch's unlabelled stream: weak and strong views of 32 px CIFAR-style images, 2 workers.
    static func fixMatchRow(count: Int = 2048) throws -> Row {
        var rng = RNG(seed: 2)
        let cifar = CIFAR10(pixels: (0..<(count * 3072)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                            labels: (0..<count).map { $0 % 10 }, classCount: 10)
        let weak: [(String, [String: ConfigNode])] = [
            ("RandFlipImage", ["flip_code": 1]), ("RandomCrop", ["size": 32, "padding": 4, "padding_mode": "reflect"]),
            ("ToTensor", [:]), ("Normalize", ["mean": [0.4914, 0.4822, 0.4465], "std": [0.2471, 0.2435, 0.2616]]),
        ]
        var strong = weak
        strong.insert(("RandAugmentMC", ["n": 2, "m": 10]), at: 2)
        let loader = DataLoader(source: cifar, views: [try TransformRegistry.chain(weak), try TransformRegistry.chain(strong)],
                                workers: 2, prefetch: 2)
        let batches = try BatchSampler(count: count, batchSize: 448, dropLast: true, seed: 1).batches(epoch: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        let it = loader.makeIterator(batches: batches)
        var images = 0
        while let b = try it.next() { images += b.labels.count }
        return Row(name: "FixMatch weak+strong pairs, 32 px, 2 workers", images: images, seconds: elapsed(since: start),
                   stepRate: wrn28Step)
    }

    static func elapsed(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
