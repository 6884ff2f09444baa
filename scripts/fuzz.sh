#!/usr/bin/env bash
# Builds the libFuzzer target for the request parsers with clang (ASan + UBSan)
# and runs it; extra arguments go to libFuzzer, e.g.
#   scripts/fuzz.sh -max_total_time=600        # a ten-minute session
#   scripts/fuzz.sh -runs=20000                 # the short run the test suite does
# Needs clang and libclang-rt-14-dev (scripts/install-deps.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fuzz
mkdir -p "$out"
bin="$out/request_parser_fuzz"
srcs=(fuzz/request_parser_fuzz.cpp src/serve/image_parts.cpp src/serve/request_guard.cpp src/serve/image_fetcher.cpp src/oracle/openai_protocol.cpp src/core/base64.cpp
      src/core/error.cpp src/core/fs_util.cpp src/media/image_io.cpp src/media/image_header.cpp)
newest=$(ls -t "${srcs[@]}" include/scrim/*/*.h src/serve/*.h 2>/dev/null | head -1)
if [ ! -x "$bin" ] || [ "$newest" -nt "$bin" ]; then
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -Isrc $(pkg-config --cflags opencv4 cpp-httplib spdlog) "${srcs[@]}" -o "$bin" \
    -lopencv_imgcodecs -lopencv_imgproc -lopencv_core $(pkg-config --libs cpp-httplib spdlog) -lssl -lcrypto -pthread
fi
mkdir -p "$out/corpus"
cp -n fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
exec "$bin" "$out/corpus" -max_len=65536 "$@"
