import CImageCodec
import Foundation

/// JPEG encoding through libjpeg-turbo (for tests, benchmarks and generated data sets).
public enum JPEGEncoder {
    /// The JPEG bytes of an RGB or gray image at `quality` 1…100; baseline unless `progressive`.
    public static func encode(_ image: Image, quality: Int = 90, progressive: Bool = false) throws -> [UInt8] {
        guard image.channels == 3 || image.channels == 1 else {
            throw DatasetsError.badImage(path: "<encoder>", reason: "JPEG needs 1 or 3 channels, got \(image.channels)")
        }
        guard image.width > 0, image.height > 0 else {
            throw DatasetsError.badImage(path: "<encoder>", reason: "cannot encode an empty image")
        }
        var data: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: Int(MAGPIE_CODEC_MESSAGE_SIZE))
        let status = image.pixels.withUnsafeBufferPointer { px in
            magpie_encode_jpeg(px.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                               Int32(min(max(quality, 1), 100)), progressive ? 1 : 0, &data, &size, &message)
        }
        guard status == 0, let data else {
            throw DatasetsError.badImage(path: "<encoder>", reason: String(cString: message))
        }
        defer { magpie_codec_free(data) }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Encodes and writes atomically (temporary file + rename).
    public static func write(_ image: Image, to path: String, quality: Int = 90) throws {
        let bytes = try encode(image, quality: quality)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DatasetsError.badData(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
