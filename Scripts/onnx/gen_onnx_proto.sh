#!/usr/bin/env bash
# Regenerates Sources/ONNXExport/onnx.pb.swift from the pinned Scripts/onnx/onnx.proto.
# Run by hand only when the pinned proto changes; the output is committed so CI never builds
# the protoc plugin.
#
# Pinned proto: onnx/onnx.proto from the PyPI wheel onnx==1.23.2 (IR_VERSION 0x0E), fetched with
#   pip download onnx==1.23.2 --no-deps && unzip -j onnx-1.23.2-*.whl onnx/onnx.proto
# Needs: protoc (`apt-get install -y protobuf-compiler`, Debian's libprotoc 3.21.12; not part of
# install-deps.sh) and protoc-gen-swift from apple/swift-protobuf 1.39.0 (the version Package.swift
# depends on), which this script builds in a scratch package (about a minute).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
scratch="${TMPDIR:-/tmp}/magpie-protoc-gen-swift"
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

mkdir -p "$scratch/Sources/dummy"
cat > "$scratch/Package.swift" <<'SWIFT'
// swift-tools-version: 6.1
import PackageDescription
let package = Package(name: "protogen", dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0")],
    targets: [.executableTarget(name: "dummy", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")])])
SWIFT
echo 'print("unused")' > "$scratch/Sources/dummy/main.swift"
# Only the plugin: swift-protobuf's bundled `protoc` product takes ~10 minutes to build.
(cd "$scratch" && swift build --product protoc-gen-swift)

protoc --plugin=protoc-gen-swift="$scratch/.build/debug/protoc-gen-swift" \
    --swift_opt=Visibility=Public --swift_out="$root/Sources/ONNXExport" \
    -I "$root/Scripts/onnx" "$root/Scripts/onnx/onnx.proto"
echo "wrote $root/Sources/ONNXExport/onnx.pb.swift"
