import CImageCodec
import Foundation

/// Decodes JPEG and PNG files to 8-bit RGB (PIL's `Image.open(path).convert("RGB")`).
///
/// Gray and CMYK JPEGs, palette, gray, 16-bit and alpha PNGs all come out as RGB. A corrupt,
/// truncated or non-image file throws `DatasetsError.badImage` naming the file; libjpeg and
/// libpng errors are caught in the small C layer (`CImageCodec`) and never end the process.
public struct ImageDecoder: Sendable {
    /// What to do with a PNG alpha channel.
    public enum AlphaPolicy: Sendable, Equatable {
        /// Drop it, keeping the stored colour (what PIL's `convert("RGB")` does).
        case drop
        /// Blend over a solid background colour.
        case composite(r: UInt8, g: UInt8, b: UInt8)
    }

    /// Rotate/flip JPEGs by their EXIF orientation tag (PIL's `ImageOps.exif_transpose`).
    public var respectsOrientation: Bool
    public var alpha: AlphaPolicy
    /// Larger images are refused before pixel memory is allocated (PIL's decompression-bomb guard).
    public var maxPixels: Int

    public init(respectsOrientation: Bool = true, alpha: AlphaPolicy = .drop, maxPixels: Int = 178_956_970) {
        self.respectsOrientation = respectsOrientation
        self.alpha = alpha
        self.maxPixels = maxPixels
    }

    public enum Format: Sendable { case jpeg, png }

    /// The format announced by the first bytes, or nil.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> Format? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 { return .png }
        return nil
    }

    /// The size an image declares in its header, read without decoding any pixels. Throws
    /// `badImage` when it is not a JPEG/PNG, the header is unreadable, the size is over
    /// `maxPixels`, or the file is too short for that size (truncated). A server calls this
    /// before queuing the decode, so a hostile header costs microseconds.
    public func probe<Bytes: ContiguousBytes>(_ bytes: Bytes, source: String = "<memory>") throws -> (width: Int, height: Int) {
        guard let header = Self.readHeader(bytes, maxPixels: maxPixels) else {
            let empty = bytes.withUnsafeBytes { $0.isEmpty }
            throw DatasetsError.badImage(path: source, reason: empty ? "the file is empty" : "not a JPEG or PNG file (unrecognised signature)")
        }
        if let error = header.error(source: source) { throw error }
        return (header.width, header.height)
    }

    /// What a JPEG or PNG header says, or nil for anything else: its declared size (0 × 0 when
    /// unreadable) and, when the image is over `maxPixels`, the header unreadable or the file too
    /// short for the size it declares, why. One header read, no pixels decoded.
    public static func readHeader<Bytes: ContiguousBytes>(_ bytes: Bytes, maxPixels: Int = .max) -> ImageHeader? {
        bytes.withUnsafeBytes { raw -> ImageHeader? in
            guard let format = sniff(raw) else { return nil }
            var width: Int32 = 0, height: Int32 = 0
            var message = [CChar](repeating: 0, count: Int(MAGPIE_CODEC_MESSAGE_SIZE))
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let status = format == .jpeg
                ? magpie_probe_jpeg(base, raw.count, maxPixels, &width, &height, &message)
                : magpie_probe_png(base, raw.count, maxPixels, &width, &height, &message)
            let problem = status == 0 ? nil : message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return ImageHeader(format: format, width: Int(max(width, 0)), height: Int(max(height, 0)), problem: problem)
        }
    }

    /// Reads and decodes the file at `path`.
    public func decode(contentsOf path: String) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DatasetsError.badImage(path: path, reason: exists ? "cannot read the file" : "no such file")
        }
        return try decode(data, source: path)
    }

    /// Decodes encoded bytes; `source` names them in errors.
    public func decode<Bytes: ContiguousBytes>(_ bytes: Bytes, source: String = "<memory>") throws -> Image {
        try bytes.withUnsafeBytes { raw in
            guard let format = ImageDecoder.sniff(raw) else {
                throw DatasetsError.badImage(path: source, reason: raw.isEmpty
                    ? "the file is empty" : "not a JPEG or PNG file (unrecognised signature)")
            }
            var result = magpie_decoded_image()
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let status = format == .jpeg
                ? magpie_decode_jpeg(base, raw.count, maxPixels, &result)
                : magpie_decode_png(base, raw.count, maxPixels, &result)
            guard status == 0, let pointer = result.pixels else {
                let message = withUnsafeBytes(of: &result.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                throw DatasetsError.badImage(path: source, reason: "\(format == .jpeg ? "JPEG" : "PNG"): \(message)")
            }
            defer { magpie_codec_free(pointer) }
            let w = Int(result.width), h = Int(result.height), c = Int(result.channels)
            let buffer = UnsafeBufferPointer(start: pointer, count: w * h * c)
            var image = c == 3 ? Image(width: w, height: h, pixels: Array(buffer)) : rgb(fromRGBA: buffer, width: w, height: h)
            if respectsOrientation && result.orientation != 1 { image = image.applyingOrientation(Int(result.orientation)) }
            return image
        }
    }

    private func rgb(fromRGBA rgba: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> Image {
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * 3)
        switch alpha {
        case .drop:
            for i in 0..<n { out[3 * i] = rgba[4 * i]; out[3 * i + 1] = rgba[4 * i + 1]; out[3 * i + 2] = rgba[4 * i + 2] }
        case let .composite(r, g, b):
            let bg = [Int(r), Int(g), Int(b)]
            for i in 0..<n {
                let a = Int(rgba[4 * i + 3])
                for k in 0..<3 { out[3 * i + k] = UInt8((Int(rgba[4 * i + k]) * a + bg[k] * (255 - a) + 127) / 255) }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }
}

/// A JPEG or PNG header as `ImageDecoder.readHeader` read it.
public struct ImageHeader: Sendable {
    public let format: ImageDecoder.Format
    public let width: Int
    public let height: Int
    /// Why the image cannot be decoded (over the pixel limit, unreadable, truncated), or nil.
    public let problem: String?

    /// The `badImage` error for `problem`, naming `source`; nil when there is none.
    public func error(source: String) -> DatasetsError? {
        problem.map { DatasetsError.badImage(path: source, reason: "\(format == .jpeg ? "JPEG" : "PNG"): \($0)") }
    }
}
