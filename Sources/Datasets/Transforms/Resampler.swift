import Foundation

/// Resizing with PIL's separable convolution resampler (`Image.resize`, Pillow ≥ 7): the filter
/// support grows with the downscale factor (antialiasing), weights are normalised per output pixel
/// and rounded to 22-bit fixed point, and the two passes run in Pillow's order with 8-bit rounding in
/// between — so results match Pillow to within one grey level.
public enum ResampleFilter: String, Sendable, CaseIterable {
    case nearest, box, bilinear, hamming, bicubic, lanczos

    /// PaddleClas / torchvision / cv2 spellings ("bilinear", "BICUBIC", "INTER_LINEAR" …).
    public init?(name: String) {
        switch name.lowercased() {
        case "nearest", "inter_nearest": self = .nearest
        case "bilinear", "linear", "inter_linear": self = .bilinear
        case "bicubic", "cubic", "inter_cubic": self = .bicubic
        case "box", "area", "inter_area": self = .box
        case "hamming": self = .hamming
        case "lanczos", "lanczos4", "inter_lanczos4": self = .lanczos
        default: return nil
        }
    }

    var support: Double {
        switch self {
        case .nearest, .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    func weight(_ t: Double) -> Double {
        let x = abs(t)
        switch self {
        case .nearest, .box: return t > -0.5 && t <= 0.5 ? 1 : 0
        case .bilinear: return x < 1 ? 1 - x : 0
        case .hamming:
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            let px = x * Double.pi
            return sin(px) / px * (0.54 + 0.46 * cos(px))
        case .lanczos:
            guard x < 3 else { return 0 }
            func sinc(_ v: Double) -> Double { v == 0 ? 1 : sin(Double.pi * v) / (Double.pi * v) }
            return sinc(t) * sinc(t / 3)
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

enum Resampler {
    private static let precisionBits = 22

    /// Per output pixel: first input index, tap count, and fixed-point weights (`taps` per pixel).
    private struct Coefficients {
        var first: [Int]
        var count: [Int]
        var weights: [Int32]
        var taps: Int
    }

    private static func coefficients(inSize: Int, outSize: Int, filter: ResampleFilter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var c = Coefficients(first: [], count: [], weights: [Int32](repeating: 0, count: outSize * taps), taps: taps)
        c.first.reserveCapacity(outSize); c.count.reserveCapacity(outSize)
        var k = [Double](repeating: 0, count: taps)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let inverse = 1 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)          // C casts truncate toward zero
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverse)
                k[x] = w; total += w
            }
            for x in 0..<xmax {
                let w = total != 0 ? k[x] / total : 0
                c.weights[xx * taps + x] = Int32(w * Double(1 << precisionBits) + (w < 0 ? -0.5 : 0.5))
            }
            c.first.append(xmin); c.count.append(xmax)
        }
        return c
    }

    /// `image` resized to `width` × `height`.
    static func resize(_ image: Image, width: Int, height: Int, filter: ResampleFilter) -> Image {
        precondition(width > 0 && height > 0, "resize target must be positive")
        if width == image.width && height == image.height { return image }
        if filter == .nearest { return nearest(image, width: width, height: height) }
        var current = image
        // Pillow runs the vertical pass first when the width grows and the height shrinks
        // (checked against Pillow 13; the 8-bit rounding in between makes the order visible).
        if width > image.width && height < image.height {
            current = vertical(current, height: height, filter: filter)
            return horizontal(current, width: width, filter: filter)
        }
        if width != image.width { current = horizontal(current, width: width, filter: filter) }
        if height != image.height { current = vertical(current, height: height, filter: filter) }
        return current
    }

    @inline(__always) private static func clip8(_ v: Int) -> UInt8 {
        let s = v >> precisionBits
        return s < 0 ? 0 : (s > 255 ? 255 : UInt8(s))
    }

    private static func horizontal(_ image: Image, width: Int, filter: ResampleFilter) -> Image {
        let co = coefficients(inSize: image.width, outSize: width, filter: filter)
        let ch = image.channels, h = image.height, inW = image.width
        var out = [UInt8](repeating: 0, count: width * h * ch)
        let half = 1 << (precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                co.weights.withUnsafeBufferPointer { wts in
                    for y in 0..<h {
                        let row = y * inW * ch
                        for xx in 0..<width {
                            let first = co.first[xx], n = co.count[xx], wBase = xx * co.taps
                            let d = (y * width + xx) * ch
                            if ch == 3 {
                                // Int32 like Pillow: the weighted sum of 8-bit values stays below 2^31.
                                var s0 = Int32(half), s1 = Int32(half), s2 = Int32(half)
                                var p = row + first * 3
                                for x in 0..<n {
                                    let w = wts[wBase + x]
                                    s0 &+= Int32(src[p]) &* w; s1 &+= Int32(src[p + 1]) &* w; s2 &+= Int32(src[p + 2]) &* w
                                    p += 3
                                }
                                dst[d] = clip8(Int(s0)); dst[d + 1] = clip8(Int(s1)); dst[d + 2] = clip8(Int(s2))
                            } else {
                                for c in 0..<ch {
                                    var ss = half
                                    for x in 0..<n { ss += Int(src[row + (first + x) * ch + c]) * Int(wts[wBase + x]) }
                                    dst[d + c] = clip8(ss)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: width, height: h, channels: ch, pixels: out)
    }

    private static func vertical(_ image: Image, height: Int, filter: ResampleFilter) -> Image {
        let co = coefficients(inSize: image.height, outSize: height, filter: filter)
        let ch = image.channels, w = image.width, rowLen = w * ch
        var out = [UInt8](repeating: 0, count: rowLen * height)
        let half = 1 << (precisionBits - 1)
        var acc = [Int32](repeating: 0, count: rowLen)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { acc in
                    for yy in 0..<height {
                        for i in 0..<rowLen { acc[i] = Int32(half) }
                        let first = co.first[yy], n = co.count[yy]
                        for y in 0..<n {
                            let wt = co.weights[yy * co.taps + y]
                            let row = (first + y) * rowLen
                            for i in 0..<rowLen { acc[i] &+= Int32(src[row + i]) &* wt }
                        }
                        for i in 0..<rowLen { dst[yy * rowLen + i] = clip8(Int(acc[i])) }
                    }
                }
            }
        }
        return Image(width: w, height: height, channels: ch, pixels: out)
    }

    /// PIL's NEAREST resize (an affine scale): source positions accumulate `in / out` from
    /// `in / out / 2` in Double and are truncated, so rounding matches Pillow's loop exactly.
    private static func nearest(_ image: Image, width: Int, height: Int) -> Image {
        let ch = image.channels
        func table(_ inSize: Int, _ outSize: Int) -> [Int] {
            let step = Double(inSize) / Double(outSize)
            var position = step * 0.5
            var result = [Int]()
            for _ in 0..<outSize { result.append(min(Int(position), inSize - 1)); position += step }
            return result
        }
        let sx = table(image.width, width), sy = table(image.height, height)
        var out = [UInt8](repeating: 0, count: width * height * ch)
        for y in 0..<height {
            for x in 0..<width {
                let s = (sy[y] * image.width + sx[x]) * ch, d = (y * width + x) * ch
                for c in 0..<ch { out[d + c] = image.pixels[s + c] }
            }
        }
        return Image(width: width, height: height, channels: ch, pixels: out)
    }
}

extension Image {
    /// Resized like PIL's `Image.resize((width, height), filter)`.
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bilinear) -> Image {
        Resampler.resize(self, width: width, height: height, filter: filter)
    }
}
