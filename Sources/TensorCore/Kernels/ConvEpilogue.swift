/// Per-output-channel `activation(y·scale + shift)` applied to convolution outputs while they are
/// still in cache: an eval-mode BatchNorm (and its activation) folded into the convolution.
struct ConvEpilogue {
    let scale: [Float]
    let shift: [Float]
    let active: Bool
    let slope: Float
}
