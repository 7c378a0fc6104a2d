import Foundation
import TensorCore
@testable import Datasets

/// Paths and loaders for the committed fixtures (Scripts/fixtures/make_transform_fixtures.py).
enum Fixtures {
    static var root: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }
    static func image(_ name: String) -> String { root.appendingPathComponent("images/\(name)").path }

    static func safetensors(_ name: String) throws -> SafeTensorsFile {
        try SafeTensors.read(root.appendingPathComponent(name))
    }

    /// A stored HWC uint8 tensor as an `Image`.
    static func image(from tensor: Tensor) -> Image {
        Image(width: tensor.shape[1], height: tensor.shape[0], channels: tensor.shape[2], pixels: tensor.data.map { UInt8($0) })
    }

    static func params(_ file: SafeTensorsFile, _ key: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(file.metadata[key]!.utf8)) as! [String: Any]
    }

    /// Largest absolute difference between two images of the same size (Int.max if sizes differ).
    static func maxDifference(_ a: Image, _ b: Image) -> Int {
        guard a.width == b.width, a.height == b.height, a.channels == b.channels else { return Int.max }
        return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    /// A temporary directory removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A smooth image with noise, deterministic from `seed`.
    static func synthetic(width: Int, height: Int, seed: UInt64 = 1) -> Image {
        var rng = RNG(seed: seed)
        var image = Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y, 0] = UInt8(clamping: x * 255 / max(width, 1) + rng.int(below: 20))
                image[x, y, 1] = UInt8(clamping: y * 255 / max(height, 1) + rng.int(below: 20))
                image[x, y, 2] = UInt8(clamping: 128 + rng.int(below: 60))
            }
        }
        return image
    }
}
