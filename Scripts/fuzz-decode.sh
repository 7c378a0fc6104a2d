#!/usr/bin/env bash
# Fuzzes the JPEG and PNG decoders (Datasets/Decoding + the CImageCodec C layer) with libFuzzer
# and AddressSanitizer, starting from the test fixtures.
#   Scripts/fuzz-decode.sh [SECONDS]      (default 60; a bounded run that ends by itself)
# Crashing inputs are written to .build/fuzz/crash-* ; the run fails if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/corpus"
cp Tests/DatasetsTests/Fixtures/images/* "$out/corpus/"

clang_bin="$(dirname "$(command -v swiftc)")/clang"
[ -x "$clang_bin" ] || clang_bin=clang
for c in Sources/CImageCodec/*.c; do
    "$clang_bin" -c -O1 -g -fsanitize=fuzzer-no-link,address -ISources/CImageCodec/include "$c" \
        -o "$out/$(basename "$c" .c).o"
done
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name FuzzDecode \
    -I Sources/CImageCodec/include \
    Sources/Datasets/Image.swift Sources/Datasets/DatasetsError.swift Sources/Datasets/Decoding/ImageDecoder.swift \
    Scripts/fuzz/FuzzDecode.swift "$out"/*.o -ljpeg -lpng16 -o "$out/fuzz-decode"

echo "==> fuzzing for ${seconds}s"
"$out/fuzz-decode" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus"
