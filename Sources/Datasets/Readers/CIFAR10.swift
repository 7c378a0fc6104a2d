import Foundation
import TensorCore

/// CIFAR-10 in its binary form (`cifar-10-batches-bin/data_batch_{1…5}.bin`, `test_batch.bin`):
/// records of 1 label byte + 3072 pixel bytes (the red, green and blue 32×32 planes).
/// `Scripts/cifar10-pickle-to-binary.py` converts the python version to this format.
public struct CIFAR10: ImageSource, Sendable {
    public static let side = 32
    public static let recordSize = 1 + 3 * 32 * 32
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    public enum Split: Sendable { case train, test }

    /// Planar pixels, 3072 bytes per image.
    public var pixels: [UInt8]
    public var labels: [Int]
    public var classCount: Int

    /// Images from planar pixels (3072 bytes each) and labels below `classCount`.
    public init(pixels: [UInt8], labels: [Int], classCount: Int = 10) {
        precondition(pixels.count == labels.count * 3072, "CIFAR10 needs 3072 bytes per label")
        self.pixels = pixels; self.labels = labels; self.classCount = classCount
    }

    public var count: Int { labels.count }
    public func label(at index: Int) -> Int { labels[index] }
    public func payload(at index: Int) throws -> Payload { .image(image(at: index)) }

    /// Image `index` as interleaved RGB.
    public func image(at index: Int) -> Image {
        let plane = CIFAR10.side * CIFAR10.side
        var out = [UInt8](repeating: 0, count: 3 * plane)
        let base = index * 3 * plane
        for i in 0..<plane { for c in 0..<3 { out[3 * i + c] = pixels[base + c * plane + i] } }
        return Image(width: CIFAR10.side, height: CIFAR10.side, pixels: out)
    }

    /// Reads and concatenates batch files; every label must be below `classCount`.
    public static func read(files: [String], classCount: Int = 10) throws -> CIFAR10 {
        var pixels: [UInt8] = [], labels: [Int] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw DatasetsError.badData(path: file, reason: FileManager.default.fileExists(atPath: file) ? "cannot read the file" : "no such file")
            }
            guard !data.isEmpty, data.count % recordSize == 0 else {
                throw DatasetsError.badData(path: file, reason: "size \(data.count) is not a multiple of the \(recordSize)-byte CIFAR-10 record")
            }
            let bytes = [UInt8](data)
            pixels.reserveCapacity(pixels.count + bytes.count)
            for r in 0..<(bytes.count / recordSize) {
                let label = Int(bytes[r * recordSize])
                guard label < classCount else {
                    throw DatasetsError.badData(path: file, reason: "record \(r + 1) has label \(label), expected 0..<\(classCount)")
                }
                labels.append(label)
                pixels.append(contentsOf: bytes[(r * recordSize + 1)..<((r + 1) * recordSize)])
            }
        }
        return CIFAR10(pixels: pixels, labels: labels, classCount: classCount)
    }

    /// The standard split from a folder holding the batch files (or its `cifar-10-batches-bin` child).
    public static func load(directory: String, split: Split, classCount: Int = 10) throws -> CIFAR10 {
        let nested = (directory as NSString).appendingPathComponent("cifar-10-batches-bin")
        let dir = FileManager.default.fileExists(atPath: nested) ? nested : directory
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        return try read(files: names.map { (dir as NSString).appendingPathComponent($0) }, classCount: classCount)
    }

    /// FixMatch's labelled subset (kekmodel `x_u_split`): `total / classCount` indices per class,
    /// drawn without replacement with `seed`, in class order. `total` must divide evenly.
    public func labeledIndices(total: Int, seed: UInt64) throws -> [Int] {
        guard total > 0, total % classCount == 0 else {
            throw DatasetsError.badSampling("labelled count \(total) must be a positive multiple of \(classCount) classes")
        }
        let perClass = total / classCount
        var byClass = Array(repeating: [Int](), count: classCount)
        for (i, l) in labels.enumerated() { byClass[l].append(i) }
        var rng = RNG(seed: seed)
        var result: [Int] = []
        for (c, members) in byClass.enumerated() {
            guard members.count >= perClass else {
                throw DatasetsError.badSampling("class \(c) has \(members.count) images, fewer than the \(perClass) labelled per class asked for")
            }
            result += rng.permutation(members.count).prefix(perClass).map { members[$0] }
        }
        return result
    }

    /// FixMatch's unlabelled set: every training image (labelled ones included, as kekmodel does).
    public var unlabeledIndices: [Int] { Array(0..<count) }
}
