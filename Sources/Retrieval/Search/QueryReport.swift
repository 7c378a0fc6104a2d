import Foundation

/// `magpie query --html`: a static page, one row per query with its neighbours as thumbnails
/// (images referenced by absolute path; neighbours sharing the query's label marked as hits).
public struct QueryReport {
    let title: String
    private var rows: [String] = []

    public init(title: String) { self.title = title }

    /// Adds a row: the query image (with its label when known) and its hits.
    public mutating func add(query: String, label: Int64?, hits: [GalleryHit]) {
        let cells = hits.map { hit -> String in
            let correct = label != nil && hit.record.label == label
            return "<figure class=\"\(correct ? "hit" : "miss")\"><img src=\"\(QueryReport.src(hit.record.path ?? ""))\"><figcaption>"
                + String(format: "%.3f", hit.score) + (correct ? " ✓" : "") + "</figcaption></figure>"
        }.joined()
        rows.append("<div class=\"row\"><figure class=\"query\"><img src=\"\(QueryReport.src(query))\"><figcaption>query"
                    + (label.map { " (label \($0))" } ?? "") + "</figcaption></figure>" + cells + "</div>")
    }

    static func src(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.absoluteString
        return absolute.replacingOccurrences(of: "\"", with: "%22")
    }

    /// The whole page as HTML.
    public var html: String {
        let style = """
        body{font-family:sans-serif;margin:1em} .row{display:flex;gap:6px;margin-bottom:10px;align-items:flex-start}
        figure{margin:0;text-align:center;font-size:11px} img{width:96px;height:96px;object-fit:contain;border:3px solid #ddd}
        .query img{border-color:#36c} .hit img{border-color:#2a2} .miss img{border-color:#ddd}
        """
        return "<!doctype html><meta charset=\"utf-8\"><title>\(title)</title><style>\(style)</style><h1>\(title)</h1>"
            + rows.joined(separator: "\n")
    }

    /// Writes the page (temporary file + rename), creating the folder.
    public func write(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(html.utf8).write(to: url, options: .atomic)
    }
}
