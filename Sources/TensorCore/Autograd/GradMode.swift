/// Whether ops record themselves on the autograd tape (on by default).
public enum GradMode {
    @TaskLocal static var enabledOverride: Bool?

    /// True unless inside `withNoGrad`.
    public static var isEnabled: Bool { enabledOverride ?? true }
}

/// Runs `body` without recording ops on the tape (inference, evaluation, EMA updates).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$enabledOverride.withValue(false) { try body() }
}

/// Async variant of `withNoGrad`.
public func withNoGrad<T>(_ body: () async throws -> T) async rethrows -> T {
    try await GradMode.$enabledOverride.withValue(false) { try await body() }
}
