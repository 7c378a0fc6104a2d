import Foundation

extension CIFAR10 {
    /// Greyscale images (an IDX `[count, rows, columns]` file, at most 32×32) as CIFAR-10 records:
    /// each image centred on a black 32×32 canvas (Fashion-MNIST's 28×28 gets 2 pixels on every
    /// side) with its one channel copied into red, green and blue. `labels` is the matching IDX
    /// `[count]` file; `classCount` defaults to one more than the largest label.
    public init(greyscale images: IDXFile, labels: IDXFile, classCount: Int? = nil, imagesPath: String = "images", labelsPath: String = "labels") throws {
        guard images.dimensions.count == 3 else {
            throw DatasetsError.badData(path: imagesPath, reason: "expected [count, rows, columns] images, found dimensions \(images.dimensions)")
        }
        let (n, rows, columns) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        guard rows <= CIFAR10.side, columns <= CIFAR10.side, rows > 0, columns > 0 else {
            throw DatasetsError.badData(path: imagesPath, reason: "images are \(rows)×\(columns); at most 32×32 fit a CIFAR-10 record")
        }
        guard labels.dimensions == [n] else {
            throw DatasetsError.badData(path: labelsPath, reason: "expected \(n) labels (one per image), found dimensions \(labels.dimensions)")
        }
        let classes = classCount ?? (Int(labels.bytes.max() ?? 0) + 1)
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classes }) {
            throw DatasetsError.badData(path: labelsPath, reason: "label \(labels.bytes[bad]) at index \(bad) is not below the \(classes) classes")
        }
        let side = CIFAR10.side, plane = side * side
        let top = (side - rows) / 2, left = (side - columns) / 2
        var pixels = [UInt8](repeating: 0, count: n * 3 * plane)
        images.bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for i in 0..<n {
                    for y in 0..<rows {
                        let from = (i * rows + y) * columns
                        let to = i * 3 * plane + (top + y) * side + left
                        for channel in 0..<3 {
                            for x in 0..<columns { target[to + channel * plane + x] = source[from + x] }
                        }
                    }
                }
            }
        }
        self.init(pixels: pixels, labels: labels.bytes.map(Int.init), classCount: classes)
    }

    /// The records in `range` as the bytes of a batch file: label byte, then the three planes.
    public func batchFile(_ range: Range<Int>) -> Data {
        let plane = 3 * CIFAR10.side * CIFAR10.side
        var out = Data(capacity: range.count * CIFAR10.recordSize)
        for i in range {
            out.append(UInt8(labels[i]))
            pixels.withUnsafeBufferPointer { out.append($0.baseAddress! + i * plane, count: plane) }
        }
        return out
    }

    /// Writes the split in the layout `load(directory:split:)` reads: the training images over
    /// `data_batch_1…batches.bin` in order, the test images as `test_batch.bin`. Each file is
    /// written to a temporary name and renamed, so an interrupted run leaves no half file.
    public func write(to directory: String, split: Split, batches: Int = 5) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let parts = split == .train ? max(1, batches) : 1
        for part in 0..<parts {
            let name = split == .train ? "data_batch_\(part + 1).bin" : "test_batch.bin"
            let range = (part * count / parts)..<((part + 1) * count / parts)
            try batchFile(range).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
        }
    }

    /// `batches.meta.txt`: one class name per line, in label order (CIFAR-10's own convention).
    public static func writeClassNames(_ names: [String], to directory: String) throws {
        try Data(names.map { $0 + "\n" }.joined().utf8)
            .write(to: URL(fileURLWithPath: directory).appendingPathComponent("batches.meta.txt"), options: .atomic)
    }
}
