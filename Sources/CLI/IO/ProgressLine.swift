import Foundation

/// One progress line on standard error, rewritten in place (`\r`). `end()` moves past it, so a
/// following message or error starts on its own line.
final class ProgressLine {
    private var shown = false

    func update(_ text: String) {
        FileHandle.standardError.write(Data("\r\(text)".utf8))
        shown = true
    }

    func end() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
        shown = false
    }
}
