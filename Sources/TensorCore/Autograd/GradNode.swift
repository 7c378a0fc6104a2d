/// One recorded op: its inputs and the closure that turns the output's gradient into
/// contributions to the inputs' gradients (a vector–Jacobian product).
final class GradNode {
    let op: StaticString
    let inputs: [Tensor]
    let backward: (_ gradOutput: [Float]) -> Void

    init(op: StaticString, inputs: [Tensor], backward: @escaping (_ gradOutput: [Float]) -> Void) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}
