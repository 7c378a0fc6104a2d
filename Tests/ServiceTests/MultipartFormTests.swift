import Testing
@testable import Service

@Suite struct MultipartFormTests {
    @Test func splitsPartsWithNamesFilenamesAndBinaryBodies() throws {
        let binary: [UInt8] = [0xFF, 0xD8, 0x0D, 0x0A, 0x2D, 0x2D, 0x00, 0xFF]  // contains CRLF and "--"
        let body = Array("preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\n42\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a b.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            + binary + Array("\r\n--XyZ--\r\n".utf8)
        let form = try MultipartForm(body: body, boundary: "XyZ")
        #expect(form.parts.count == 2)
        #expect(form.parts[0].name == "label" && form.parts[0].text == "42" && form.parts[0].filename == nil)
        #expect(form.parts[1].filename == "a b.jpg" && form.parts[1].contentType == "image/jpeg")
        #expect(form.parts[1].body == binary)
    }

    @Test func boundaryFromContentType() {
        #expect(MultipartForm.boundary(contentType: "multipart/form-data; boundary=\"abc\"") == "abc")
        #expect(MultipartForm.boundary(contentType: "multipart/form-data;boundary=x1") == "x1")
        #expect(MultipartForm.boundary(contentType: "image/jpeg") == nil)
    }

    @Test func malformedBodyIsAnError() {
        #expect(throws: (any Error).self) { try MultipartForm(body: Array("no boundary here".utf8), boundary: "XyZ") }
    }
}
