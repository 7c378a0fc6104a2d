import Dispatch
import Foundation

/// Turns SIGINT/SIGTERM into a flag the training loop polls, so Ctrl-C saves a checkpoint and
/// exits cleanly instead of killing the process mid-write. A second signal exits at once.
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var raised = false

    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return raised }

    /// Installs the handlers (idempotent).
    public func install() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let again = self.raised
                self.raised = true
                self.lock.unlock()
                if again { exit(130) }
                FileHandle.standardError.write(Data("\ninterrupt received: finishing the step and saving a checkpoint (press again to quit now)\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
    }

    /// For tests: raise or clear the flag.
    public func set(_ value: Bool) { lock.lock(); raised = value; lock.unlock() }
}
