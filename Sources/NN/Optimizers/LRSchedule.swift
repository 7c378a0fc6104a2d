import Foundation

/// Learning rate as a function of the global step (0-based), as PaddleClas's `Optimizer.lr` configs describe.
public protocol LRSchedule {
    func learningRate(at step: Int) -> Float
}

/// Half-cosine decay from `base` to `minimum` over `totalSteps` (PaddleClas `Cosine`, PyTorch
/// CosineAnnealingLR): lr = min + (base − min)·(1 + cos(π·t/T))/2.
public struct CosineSchedule: LRSchedule {
    public var base: Float, totalSteps: Int, minimum: Float
    public init(base: Float, totalSteps: Int, minimum: Float = 0) {
        self.base = base; self.totalSteps = max(totalSteps, 1); self.minimum = minimum
    }
    public func learningRate(at step: Int) -> Float {
        let t = Double(min(step, totalSteps)) / Double(totalSteps)
        return minimum + (base - minimum) * Float((1 + cos(Double.pi * t)) / 2)
    }
}

/// FixMatch's decay: lr = base·cos(7π·t / (16·T)) (ends at base·cos(7π/16) ≈ 0.2·base).
public struct FixMatchCosineSchedule: LRSchedule {
    public var base: Float, totalSteps: Int
    public init(base: Float, totalSteps: Int) { self.base = base; self.totalSteps = max(totalSteps, 1) }
    public func learningRate(at step: Int) -> Float {
        base * Float(cos(7 * Double.pi * Double(step) / (16 * Double(totalSteps))))
    }
}

/// Piecewise constant: `values[i]` until `boundaries[i]`, then the next value (PaddleClas `Piecewise`).
public struct PiecewiseSchedule: LRSchedule {
    public var boundaries: [Int], values: [Float]
    public init(boundaries: [Int], values: [Float]) {
        precondition(values.count == boundaries.count + 1, "Piecewise needs one more value than boundaries")
        self.boundaries = boundaries; self.values = values
    }
    public func learningRate(at step: Int) -> Float {
        values[boundaries.firstIndex { step < $0 } ?? boundaries.count]
    }
}

/// Constant learning rate.
public struct ConstantSchedule: LRSchedule {
    public var value: Float
    public init(_ value: Float) { self.value = value }
    public func learningRate(at step: Int) -> Float { value }
}

/// Linear warm-up from `startLR` to the wrapped schedule's value at `warmupSteps`, then the
/// wrapped schedule shifted so it starts where warm-up ends (PaddleClas `LinearWarmup`).
public struct LinearWarmup: LRSchedule {
    public var schedule: any LRSchedule, warmupSteps: Int, startLR: Float
    public init(_ schedule: any LRSchedule, warmupSteps: Int, startLR: Float = 0) {
        self.schedule = schedule; self.warmupSteps = warmupSteps; self.startLR = startLR
    }
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps {
            let end = schedule.learningRate(at: 0)
            return startLR + (end - startLR) * Float(step) / Float(warmupSteps)
        }
        return schedule.learningRate(at: step - warmupSteps)
    }
}
