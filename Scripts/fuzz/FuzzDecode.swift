// libFuzzer entry point for the JPEG/PNG decoders (built by Scripts/fuzz-decode.sh).
// Any input must either decode or throw; a crash, hang or sanitizer report is a bug.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A small pixel limit keeps the fuzzer from spending its time on huge allocations.
    if let image = try? ImageDecoder(maxPixels: 1 << 22).decode(bytes, source: "fuzz") {
        precondition(image.pixels.count == image.width * image.height * 3)
    }
    return 0
}
