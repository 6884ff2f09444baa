// SHA-256 as lower-case hex (OpenSSL), for content hashes: cache keys, model
// identities, audit records.
#pragma once

#include <cstddef>
#include <string>

namespace scrim {

std::string sha256_hex(const void* data, size_t size);
// Lower-case hex of raw bytes (e.g. a digest computed incrementally).
std::string to_hex(const unsigned char* bytes, size_t size);
inline std::string sha256_hex(const std::string& s) { return sha256_hex(s.data(), s.size()); }

}  // namespace scrim
