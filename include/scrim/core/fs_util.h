// File helpers that keep the "no partial output" promise: every file scrim
// writes goes to a temporary name in the same folder and is renamed into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace scrim {

// Reads a whole file; throws scrim::Error naming the path when it cannot.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);
std::string read_file_text(const std::filesystem::path& path);

// Writes bytes to path atomically and durably (temporary file, fsync, rename,
// fsync of the folder). Creates parent folders.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// A temporary path next to `target`, unique within this process.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

// Deletes a temporary file on scope exit unless commit() was called.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Syncs the temporary file to disk, renames it onto target and syncs the
  // folder, so that after a crash target holds either the old or the new data.
  void commit(const std::filesystem::path& target);

 private:
  std::filesystem::path path_;
  bool committed_ = false;
};

// Lower-cased extension without the dot ("PNG" -> "png").
std::string lower_extension(const std::filesystem::path& path);

}  // namespace scrim
