// Standard base64 (RFC 4648) for data URLs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scrim {

std::string base64_encode(const uint8_t* data, size_t size);
inline std::string base64_encode(const std::vector<uint8_t>& bytes) { return base64_encode(bytes.data(), bytes.size()); }

// Strict decoding: padding optional, whitespace ignored, any other character
// outside the alphabet (or a bad length) gives std::nullopt.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace scrim
