import Foundation
import TensorCore

/// Decodes and augments batches on background threads, a bounded number of batches ahead of the
/// consumer, and hands them out in order.
///
/// Every item gets its own random stream derived from (seed, epoch, batch, position), so the
/// output is the same whatever the number of workers or their timing.
public struct DataLoader<Source: ImageSource>: Sendable {
    public var source: Source
    /// One chain per view; each item's payload is read once and fed to every chain.
    public var views: [TransformChain]
    public var workers: Int
    /// Batches decoded ahead of the consumer (at least 1).
    public var prefetch: Int
    public var badImages: BadImagePolicy
    public var seed: UInt64

    public init(source: Source, transform: TransformChain, workers: Int = 2, prefetch: Int = 2,
                badImages: BadImagePolicy = .fail, seed: UInt64 = 0) {
        self.init(source: source, views: [transform], workers: workers, prefetch: prefetch, badImages: badImages, seed: seed)
    }

    public init(source: Source, views: [TransformChain], workers: Int = 2, prefetch: Int = 2,
                badImages: BadImagePolicy = .fail, seed: UInt64 = 0) {
        precondition(!views.isEmpty, "DataLoader needs at least one transform chain")
        self.source = source; self.views = views; self.workers = max(1, workers); self.prefetch = max(1, prefetch)
        self.badImages = badImages; self.seed = seed
    }

    /// Starts loading `batches` (from a sampler) for `epoch`; iterate with `next()`.
    /// `firstSlots[b]` is where batch b starts inside the larger batch it is part of (a
    /// data-parallel rank's share), so every item draws the same random stream it would there;
    /// empty: each batch is whole.
    public func makeIterator(batches: [[Int]], epoch: Int = 0, firstSlots: [Int] = []) -> LoaderIterator {
        let count = source.count
        for (b, batch) in batches.enumerated() {
            if let bad = batch.first(where: { $0 < 0 || $0 >= count }) {
                let state = LoaderState(total: 0)
                state.earlyError = DatasetsError.badSampling("batch \(b) holds index \(bad), the source has \(count) items")
                return LoaderIterator(state: state)
            }
        }
        let state = LoaderState(total: batches.count)
        let loader = self
        for _ in 0..<min(workers, max(batches.count, 1)) {
            let thread = Thread { loader.work(state: state, batches: batches, epoch: epoch, firstSlots: firstSlots) }
            thread.stackSize = 4 << 20
            thread.start()
        }
        return LoaderIterator(state: state)
    }

    /// Loads batch `position` on the calling thread.
    public func load(_ indices: [Int], epoch: Int, position: Int, firstSlot: Int = 0) throws -> Batch {
        var perView: [[FloatImage]] = Array(repeating: [], count: views.count)
        var labels: [Int] = [], kept: [Int] = [], skipped: [(Int, String)] = []
        for (slot, index) in indices.enumerated() {
            do {
                let payload = try source.payload(at: index)
                var rng = RNG.derived(seed, epoch, position, firstSlot + slot)
                var outputs: [FloatImage] = []
                for chain in views { outputs.append(try DataLoader.floats(try chain.apply(payload, rng: &rng), chain: chain)) }
                for v in views.indices { perView[v].append(outputs[v]) }
                labels.append(source.label(at: index)); kept.append(index)
            } catch {
                if badImages == .fail { throw error }
                skipped.append((index, "\(error)"))
            }
        }
        let tensors = try perView.map { try DataLoader.stack($0) }
        return Batch(views: tensors, labels: labels, indices: kept, skipped: skipped.map { (index: $0.0, error: $0.1) }, position: position)
    }

    private func work(state: LoaderState, batches: [[Int]], epoch: Int, firstSlots: [Int]) {
        while let position = state.claim(prefetch: prefetch) {
            let first = position < firstSlots.count ? firstSlots[position] : 0
            let result = Result { try load(batches[position], epoch: epoch, position: position, firstSlot: first) }
            state.deliver(position, result)
        }
    }

    /// A chain's output as planar floats (8-bit images are converted unscaled, like ToCHWImage).
    static func floats(_ payload: Payload, chain: TransformChain) throws -> FloatImage {
        switch payload {
        case let .floats(f): return f.toCHW()
        case let .image(image): return FloatImage(image).toCHW()
        case .encoded:
            throw DatasetsError.badTransform(name: "Compose", reason: "the chain leaves encoded bytes; start it with DecodeImage")
        }
    }

    /// `[N, C, H, W]` from same-sized planar images.
    static func stack(_ images: [FloatImage]) throws -> Tensor {
        guard let first = images.first else { return Tensor(shape: [0, 0, 0, 0], data: []) }
        var data: [Float] = []
        data.reserveCapacity(images.count * first.values.count)
        for im in images {
            guard im.width == first.width, im.height == first.height, im.channels == first.channels else {
                throw DatasetsError.badTransform(name: "Compose", reason: "images in a batch differ in size (\(first.width)x\(first.height) "
                    + "and \(im.width)x\(im.height)); end the chain with a fixed-size crop or resize")
            }
            data += im.values
        }
        return Tensor(shape: [images.count, first.channels, first.height, first.width], data: data)
    }
}
