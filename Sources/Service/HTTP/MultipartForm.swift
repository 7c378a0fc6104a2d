import Foundation

/// A parsed `multipart/form-data` body (RFC 7578): its parts in order.
struct MultipartForm {
    struct Part {
        let name: String
        let filename: String?
        let contentType: String?
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let parts: [Part]

    /// The boundary of a `multipart/form-data; boundary=…` content type, or nil for other types.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in pieces.dropFirst() where p.lowercased().hasPrefix("boundary=") {
            var b = String(p.dropFirst("boundary=".count))
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            return b.isEmpty ? nil : b
        }
        return nil
    }

    /// RFC 2046 limits a boundary to 70 characters.
    static let maxBoundaryLength = 70

    init(body: [UInt8], boundary: String) throws {
        guard boundary.utf8.count <= Self.maxBoundaryLength else {
            throw APIError.badRequest("multipart boundary is \(boundary.utf8.count) characters; RFC 2046 allows at most \(Self.maxBoundaryLength)")
        }
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var from = 0
        while let i = Self.find(delimiter, in: body, from: from) {
            positions.append(i)
            from = i + delimiter.count
        }
        guard positions.count >= 2 else { throw APIError.badRequest("multipart body has no parts delimited by its boundary") }
        var parts: [Part] = []
        for (a, b) in zip(positions, positions.dropFirst()) {
            var start = a + delimiter.count
            if start + 1 < body.count, body[start] == 13, body[start + 1] == 10 { start += 2 }  // CRLF after the delimiter
            var end = b
            if end >= 2, body[end - 2] == 13, body[end - 1] == 10 { end -= 2 }  // CRLF before the next delimiter
            guard start <= end else { continue }
            parts.append(try Self.part(Array(body[start..<end])))
        }
        self.parts = parts
    }

    private static func part(_ bytes: [UInt8]) throws -> Part {
        guard let split = find(Array("\r\n\r\n".utf8), in: bytes, from: 0) else {
            throw APIError.badRequest("multipart part without a blank line after its headers")
        }
        let headerText = String(decoding: bytes[..<split], as: UTF8.self)
        var name: String?, filename: String?, contentType: String?
        for line in headerText.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if field == "content-type" { contentType = value }
            if field == "content-disposition" {
                name = parameter("name", in: value)
                filename = parameter("filename", in: value)
            }
        }
        guard let name else { throw APIError.badRequest("multipart part without a Content-Disposition name") }
        return Part(name: name, filename: filename, contentType: contentType, body: Array(bytes[(split + 4)...]))
    }

    private static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let p = piece.trimmingCharacters(in: .whitespaces)
            guard p.lowercased().hasPrefix(key + "=") else { continue }
            var v = String(p.dropFirst(key.count + 1))
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }

    /// First index of `needle` in `haystack` at or after `from`, by Knuth–Morris–Pratt: linear
    /// in the haystack whatever the needle, so a hostile boundary cannot make the search quadratic.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, from >= 0, haystack.count - from >= needle.count else { return nil }
        // fallback[i]: length of the longest proper prefix of needle[0...i] that is also its suffix.
        var fallback = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in 1..<needle.count {
            while k > 0, needle[i] != needle[k] { k = fallback[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            fallback[i] = k
        }
        k = 0
        for i in from..<haystack.count {
            while k > 0, haystack[i] != needle[k] { k = fallback[k - 1] }
            if haystack[i] == needle[k] { k += 1 }
            if k == needle.count { return i - needle.count + 1 }
        }
        return nil
    }
}
