import Foundation
import TensorCore

/// A random crop of random area and aspect ratio, resized to a fixed size.
///
/// * `torchvision` (`RandomResizedCrop`, paddle.vision's too): up to 10 tries of area
///   `U(scale) · H·W` and log-uniform aspect ratio, `w = round(√(area·r))`, `h = round(√(area/r))`;
///   if none fits, a centre crop clamped to the ratio range.
/// * `paddleClas` (`RandCropImage`): one draw — aspect `√U(ratio)`, scale bounded so the box fits,
///   sides truncated, offsets `randint(0, W - w)` inclusive.
public struct RandomResizedCrop: ImageTransform {
    public enum Algorithm: Sendable { case torchvision, paddleClas }

    public let name: String
    public var width: Int
    public var height: Int
    public var scale: (Double, Double)
    public var ratio: (Double, Double)
    public var filter: ResampleFilter
    public var algorithm: Algorithm

    public init(width: Int, height: Int, scale: (Double, Double) = (0.08, 1), ratio: (Double, Double) = (3.0 / 4, 4.0 / 3),
                filter: ResampleFilter = .bilinear, algorithm: Algorithm = .torchvision, name: String = "RandomResizedCrop") {
        self.width = width; self.height = height; self.scale = scale; self.ratio = ratio
        self.filter = filter; self.algorithm = algorithm; self.name = name
    }

    /// The crop box `(x, y, w, h)` for an image of the given size.
    public func cropBox(width W: Int, height H: Int, rng: inout RNG) -> (x: Int, y: Int, w: Int, h: Int) {
        switch algorithm {
        case .torchvision: return torchvisionBox(W, H, &rng)
        case .paddleClas: return paddleBox(W, H, &rng)
        }
    }

    private func uniform(_ lo: Double, _ hi: Double, _ rng: inout RNG) -> Double {
        lo + (hi - lo) * Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    private func torchvisionBox(_ W: Int, _ H: Int, _ rng: inout RNG) -> (x: Int, y: Int, w: Int, h: Int) {
        let area = Double(W * H)
        let logRatio = (Foundation.log(ratio.0), Foundation.log(ratio.1))
        for _ in 0..<10 {
            let target = area * uniform(scale.0, scale.1, &rng)
            let aspect = Foundation.exp(uniform(logRatio.0, logRatio.1, &rng))
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && h > 0 && w <= W && h <= H {
                let y = rng.int(below: H - h + 1), x = rng.int(below: W - w + 1)
                return (x, y, w, h)
            }
        }
        let inRatio = Double(W) / Double(H)
        var w = W, h = H
        if inRatio < min(ratio.0, ratio.1) {
            h = Int((Double(w) / min(ratio.0, ratio.1)).rounded(.toNearestOrEven))
        } else if inRatio > max(ratio.0, ratio.1) {
            w = Int((Double(h) * max(ratio.0, ratio.1)).rounded(.toNearestOrEven))
        }
        return ((W - w) / 2, (H - h) / 2, w, h)
    }

    private func paddleBox(_ W: Int, _ H: Int, _ rng: inout RNG) -> (x: Int, y: Int, w: Int, h: Int) {
        let aspect = uniform(ratio.0, ratio.1, &rng).squareRoot()
        let wf = aspect, hf = 1 / aspect
        let bound = min(Double(W) / Double(H) / (wf * wf), Double(H) / Double(W) / (hf * hf))
        let scaleMax = min(scale.1, bound), scaleMin = min(scale.0, bound)
        let target = Double(W * H) * uniform(scaleMin, scaleMax, &rng)
        let side = target.squareRoot()
        let w = min(max(Int(side * wf), 1), W), h = min(max(Int(side * hf), 1), H)
        let x = rng.int(below: W - w + 1), y = rng.int(below: H - h + 1)
        return (x, y, w, h)
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        let image = try requireImage(input)
        guard image.width > 0 && image.height > 0 else {
            throw DatasetsError.badTransform(name: name, reason: "cannot crop an empty image")
        }
        let box = cropBox(width: image.width, height: image.height, rng: &rng)
        return .image(image.cropped(x: box.x, y: box.y, width: box.w, height: box.h)
            .resized(width: width, height: height, filter: filter))
    }
}
