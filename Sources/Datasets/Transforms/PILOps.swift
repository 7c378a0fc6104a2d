import Foundation

/// Pillow's `ImageOps` / `ImageEnhance` / `Image.transform` semantics on 8-bit RGB images, as the
/// RandAugment variants use them.
enum PILOps {
    static func lut(_ image: Image, _ tables: [[UInt8]]) -> Image {
        var out = image
        let c = image.channels
        for i in 0..<out.pixels.count { out.pixels[i] = tables[i % c][Int(out.pixels[i])] }
        return out
    }

    static func histograms(_ image: Image) -> [[Int]] {
        var h = Array(repeating: [Int](repeating: 0, count: 256), count: image.channels)
        let c = image.channels
        for i in 0..<image.pixels.count { h[i % c][Int(image.pixels[i])] += 1 }
        return h
    }

    /// `ImageOps.autocontrast(img)` (cutoff 0): stretch each channel's [min, max] to [0, 255].
    static func autocontrast(_ image: Image) -> Image {
        lut(image, histograms(image).map { h in
            guard let lo = h.firstIndex(where: { $0 > 0 }), let hi = h.lastIndex(where: { $0 > 0 }), hi > lo else {
                return (0..<256).map { UInt8($0) }
            }
            let scale = 255.0 / Double(hi - lo), offset = -Double(lo) * scale
            return (0..<256).map { UInt8(clamping: Int(Double($0) * scale + offset)) }
        })
    }

    /// `ImageOps.equalize(img)`.
    static func equalize(_ image: Image) -> Image {
        lut(image, histograms(image).map { h in
            let used = h.filter { $0 > 0 }
            guard used.count > 1 else { return (0..<256).map { UInt8($0) } }
            let step = (used.reduce(0, +) - used.last!) / 255
            guard step > 0 else { return (0..<256).map { UInt8($0) } }
            var n = step / 2
            var table = [UInt8](repeating: 0, count: 256)
            for i in 0..<256 { table[i] = UInt8(clamping: n / step); n += h[i] }
            return table
        })
    }

    static func posterize(_ image: Image, bits: Int) -> Image {
        let mask = UInt8(truncatingIfNeeded: ~((1 << (8 - max(0, min(8, bits)))) - 1))
        let t = (0..<256).map { UInt8($0) & mask }
        return lut(image, Array(repeating: t, count: image.channels))
    }

    /// `ImageOps.solarize(img, threshold)`: inverts values at or above `threshold` (a float in
    /// PaddleClas's RandAugment, so 84.48 inverts 85 and up).
    static func solarize(_ image: Image, threshold: Double) -> Image {
        let t = (0..<256).map { Double($0) < threshold ? UInt8($0) : UInt8(255 - $0) }
        return lut(image, Array(repeating: t, count: image.channels))
    }

    static func invert(_ image: Image) -> Image {
        var out = image
        for i in out.pixels.indices { out.pixels[i] = 255 - out.pixels[i] }
        return out
    }

    /// `Image.blend(a, b, alpha)`: `a + alpha·(b − a)` in Float, truncated, clipped when extrapolating.
    static func blend(_ a: Image, _ b: Image, alpha: Float) -> Image {
        var out = b
        for i in out.pixels.indices {
            let v = Float(a.pixels[i]) + alpha * (Float(b.pixels[i]) - Float(a.pixels[i]))
            out.pixels[i] = v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
        }
        return out
    }

    /// ITU-R 601-2 luma with Pillow's integer rounding (`convert("L")`).
    static func luma(_ image: Image) -> [UInt8] {
        (0..<(image.width * image.height)).map { i in
            let r = Int(image.pixels[3 * i]), g = Int(image.pixels[3 * i + 1]), b = Int(image.pixels[3 * i + 2])
            return UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
    }

    static func grayRGB(_ image: Image) -> Image {
        let l = luma(image)
        var out = image
        for i in l.indices { out.pixels[3 * i] = l[i]; out.pixels[3 * i + 1] = l[i]; out.pixels[3 * i + 2] = l[i] }
        return out
    }

    /// `ImageEnhance.Brightness(img).enhance(f)`.
    static func brightness(_ image: Image, _ f: Float) -> Image {
        blend(Image(width: image.width, height: image.height, channels: image.channels), image, alpha: f)
    }

    /// `ImageEnhance.Color(img).enhance(f)`.
    static func color(_ image: Image, _ f: Float) -> Image { blend(grayRGB(image), image, alpha: f) }

    /// `ImageEnhance.Contrast(img).enhance(f)`: blend with the rounded mean luma.
    static func contrast(_ image: Image, _ f: Float) -> Image {
        let l = luma(image)
        let mean = Int(Double(l.reduce(0) { $0 + Int($1) }) / Double(max(l.count, 1)) + 0.5)
        return blend(Image(width: image.width, height: image.height, channels: image.channels, fill: UInt8(mean)), image, alpha: f)
    }

    /// `ImageEnhance.Sharpness(img).enhance(f)`: blend with the SMOOTH-filtered image (3×3 kernel
    /// 1 1 1 / 1 5 1 / 1 1 1, ÷13; border pixels unfiltered).
    static func sharpness(_ image: Image, _ f: Float) -> Image {
        var smooth = image
        let w = image.width, h = image.height, c = image.channels
        if w > 2 && h > 2 {
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    for k in 0..<c {
                        var s = 4 * Int(image[x, y, k])
                        for dy in -1...1 { for dx in -1...1 { s += Int(image[x + dx, y + dy, k]) } }
                        smooth[x, y, k] = UInt8(clamping: Int((Float(s) / 13).rounded()))
                    }
                }
            }
        }
        return blend(smooth, image, alpha: f)
    }

    /// `Image.transform(size, AFFINE, (a, b, c, d, e, f), resample, fillcolor)`: the output pixel
    /// centre (x + ½, y + ½) samples the input at (a·x' + b·y' + c, d·x' + e·y' + f).
    static func affine(_ image: Image, _ m: [Double], filter: ResampleFilter, fill: [UInt8]) -> Image {
        let w = image.width, h = image.height, ch = image.channels
        var out = Image(width: w, height: h, channels: ch)
        for y in 0..<h {
            for x in 0..<w {
                let xo = Double(x) + 0.5, yo = Double(y) + 0.5
                let xin = m[0] * xo + m[1] * yo + m[2], yin = m[3] * xo + m[4] * yo + m[5]
                let d = (y * w + x) * ch
                switch filter {
                case .nearest, .box:
                    let xi = xin < 0 ? -1 : Int(xin), yi = yin < 0 ? -1 : Int(yin)
                    if xi >= 0 && xi < w && yi >= 0 && yi < h {
                        for k in 0..<ch { out.pixels[d + k] = image[xi, yi, k] }
                    } else {
                        for k in 0..<ch { out.pixels[d + k] = fill[k] }
                    }
                default:   // Pillow's transform knows nearest, bilinear and bicubic only; callers pass those
                    guard xin >= 0, yin >= 0, xin < Double(w), yin < Double(h) else {
                        for k in 0..<ch { out.pixels[d + k] = fill[k] }
                        continue
                    }
                    for k in 0..<ch {
                        out.pixels[d + k] = filter == .bilinear
                            ? bilinearSample(image, xin - 0.5, yin - 0.5, k) : bicubicSample(image, xin - 0.5, yin - 0.5, k)
                    }
                }
            }
        }
        return out
    }

    /// Pillow's transform-time bilinear sample (truncated, rows past the bottom repeat).
    private static func bilinearSample(_ im: Image, _ sx: Double, _ sy: Double, _ k: Int) -> UInt8 {
        let x = Int(sx.rounded(.down)), y = Int(sy.rounded(.down))
        let dx = sx - Double(x), dy = sy - Double(y)
        let x0 = min(max(x, 0), im.width - 1), x1 = min(max(x + 1, 0), im.width - 1)
        func row(_ r: Int) -> Double {
            let a = Double(im[x0, r, k]), b = Double(im[x1, r, k])
            return a + (b - a) * dx
        }
        let v1 = row(min(max(y, 0), im.height - 1))
        let v2 = y + 1 >= 0 && y + 1 < im.height ? row(y + 1) : v1
        return UInt8(v1 + (v2 - v1) * dy)
    }

    /// Pillow's transform-time bicubic sample: the a = −1 cubic convolution over a 4×4 block,
    /// columns clamped, rows past the edge repeating the previous row, truncated and clipped.
    private static func bicubicSample(_ im: Image, _ sx: Double, _ sy: Double, _ k: Int) -> UInt8 {
        let x = Int(sx.rounded(.down)) - 1, y = Int(sy.rounded(.down)) - 1
        let dx = sx - Double(x + 1), dy = sy - Double(y + 1)
        func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ d: Double) -> Double {
            let p1 = v2, p2 = -v1 + v3, p3 = 2 * (v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4
            return p1 + d * (p2 + d * (p3 + d * p4))
        }
        let xs = (0..<4).map { min(max(x + $0, 0), im.width - 1) }
        func row(_ r: Int) -> Double {
            cubic(Double(im[xs[0], r, k]), Double(im[xs[1], r, k]), Double(im[xs[2], r, k]), Double(im[xs[3], r, k]), dx)
        }
        let v1 = row(min(max(y, 0), im.height - 1))
        let v2 = y + 1 >= 0 && y + 1 < im.height ? row(y + 1) : v1
        let v3 = y + 2 >= 0 && y + 2 < im.height ? row(y + 2) : v2
        let v4 = y + 3 >= 0 && y + 3 < im.height ? row(y + 3) : v3
        let v = cubic(v1, v2, v3, v4, dy)
        return v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
    }

    /// `Image.rotate(degrees)` about the centre, same size, counter-clockwise for positive angles.
    static func rotate(_ image: Image, degrees: Double, filter: ResampleFilter = .nearest, fill: [UInt8]) -> Image {
        let angle = degrees.truncatingRemainder(dividingBy: 360)
        if angle == 0 { return image }
        let rad = -angle * Double.pi / 180
        let cosA = (cos(rad) * 1e15).rounded() / 1e15, sinA = (sin(rad) * 1e15).rounded() / 1e15
        var m = [cosA, sinA, 0, -sinA, cosA, 0]
        let cx = Double(image.width) / 2, cy = Double(image.height) / 2
        m[2] = m[0] * -cx + m[1] * -cy + cx
        m[5] = m[3] * -cx + m[4] * -cy + cy
        return affine(image, m, filter: filter, fill: fill)
    }
}
