/// An 8-bit image with interleaved channels (HWC): `pixels[(y * width + x) * channels + c]`.
/// Decoders produce RGB (`channels == 3`); transforms keep the channel count.
public struct Image: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 3, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && channels > 0 && pixels.count == width * height * channels,
                     "Image \(width)x\(height)x\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A uniform image.
    public init(width: Int, height: Int, channels: Int = 3, fill: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: fill, count: width * height * channels))
    }

    /// The value at column `x`, row `y`, channel `c`.
    @inlinable public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// The sub-image with top-left corner (x, y); the box must lie inside the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height,
                     "crop box outside the image")
        var out = [UInt8](repeating: 0, count: w * h * channels)
        let rowBytes = w * channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    let from = ((y + row) * width + x) * channels
                    for i in 0..<rowBytes { dst[row * rowBytes + i] = src[from + i] }
                }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }

    /// Mirrored left to right.
    public func flippedHorizontally() -> Image {
        var out = pixels
        let c = channels
        for y in 0..<height {
            let row = y * width * c
            for x in 0..<width {
                let s = row + (width - 1 - x) * c, d = row + x * c
                for k in 0..<c { out[d + k] = pixels[s + k] }
            }
        }
        return Image(width: width, height: height, channels: c, pixels: out)
    }

    /// Mirrored top to bottom.
    public func flippedVertically() -> Image {
        var out = pixels
        let rowBytes = width * channels
        for y in 0..<height {
            let s = (height - 1 - y) * rowBytes, d = y * rowBytes
            for i in 0..<rowBytes { out[d + i] = pixels[s + i] }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// Rows and columns swapped (the main-diagonal transpose).
    public func transposed() -> Image {
        var out = [UInt8](repeating: 0, count: pixels.count)
        let c = channels
        for y in 0..<height {
            for x in 0..<width {
                for k in 0..<c { out[(x * height + y) * c + k] = pixels[(y * width + x) * c + k] }
            }
        }
        return Image(width: height, height: width, channels: c, pixels: out)
    }

    /// Undoes an EXIF orientation (1…8) so the image is shown upright.
    public func applyingOrientation(_ orientation: Int) -> Image {
        switch orientation {
        case 2: return flippedHorizontally()
        case 3: return flippedHorizontally().flippedVertically()
        case 4: return flippedVertically()
        case 5: return transposed()
        case 6: return transposed().flippedHorizontally()          // rotate 90° clockwise
        case 7: return transposed().flippedHorizontally().flippedVertically()
        case 8: return transposed().flippedVertically()            // rotate 90° counter-clockwise
        default: return self
        }
    }
}
