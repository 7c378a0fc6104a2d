import Datasets
import Foundation
import Hummingbird

/// The images of a request: the raw body (one image), or the file parts of a
/// `multipart/form-data` body, with the form's text fields.
struct UploadedImages: Sendable {
    struct Image: Sendable {
        let bytes: [UInt8]
        /// Names the image in errors: the multipart filename or `body`.
        let source: String
    }

    var images: [Image] = []
    /// Text fields by name, in order (`label`, `id`, `metadata`, `path` pair with images by position).
    var fields: [String: [String]] = [:]

    /// Reads the body (refusing more than `limit` bytes with 413) and splits it into images on the
    /// service's worker threads.
    static func read(_ request: Request, service: RetrievalService) async throws -> UploadedImages {
        let limit = service.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)  // NIO's too-many-bytes error, with our JSON message
        }
        let contentType = request.headers[.contentType] ?? ""
        return try await service.offload { try parse(Array(buffer.readableBytesView), contentType: contentType) }
    }

    static func parse(_ body: [UInt8], contentType: String) throws -> UploadedImages {
        var upload = UploadedImages()
        if let boundary = MultipartForm.boundary(contentType: contentType) {
            let form = try MultipartForm(body: body, boundary: boundary)
            for part in form.parts {
                if part.filename != nil || part.name == "image" || part.name == "images" {
                    upload.images.append(Image(bytes: part.body, source: part.filename ?? part.name))
                } else {
                    upload.fields[part.name, default: []].append(part.text)
                }
            }
        } else if contentType.lowercased().hasPrefix("multipart/") {
            throw APIError.badRequest("multipart body without a boundary parameter in Content-Type")
        } else if !body.isEmpty {
            upload.images.append(Image(bytes: body, source: "body"))
        }
        guard !upload.images.isEmpty else {
            throw APIError.badRequest("no image in the request: send JPEG/PNG bytes as the body, or multipart/form-data file parts")
        }
        return upload
    }

    /// Reads every image's header before anything is decoded: 415 for what is not JPEG or PNG,
    /// 413 for an image over `maxPixels`, 400 for an unreadable or truncated header.
    func checkImages(maxPixels: Int) throws {
        for image in images {
            guard let header = ImageDecoder.readHeader(image.bytes) else {
                throw APIError.unsupported("\(image.source): not a JPEG or PNG image (unrecognised signature); send image/jpeg or image/png bytes")
            }
            // Too large is 413 whatever else is wrong with the file; then a truncated or unreadable header is 400.
            guard header.width.multipliedReportingOverflow(by: header.height).partialValue <= maxPixels else {
                throw HTTPError(.contentTooLarge, message: "\(image.source): image is \(header.width)x\(header.height), over the limit of \(maxPixels) pixels (serve --max-pixels)")
            }
            if let error = header.error(source: image.source) { throw APIError.map(error) }
        }
    }
}
