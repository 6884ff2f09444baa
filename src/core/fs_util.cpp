#include "scrim/core/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "scrim/core/error.h"

namespace fs = std::filesystem;

namespace scrim {

std::vector<uint8_t> read_file_bytes(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": no such file");
  if (fs::is_directory(path, ec)) throw Error(path.string() + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw Error(path.string() + ": read failed");
  return bytes;
}

std::string read_file_text(const fs::path& path) {
  auto bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

fs::path temp_path_for(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp").append(std::to_string(getpid()));
  name.append("_").append(std::to_string(counter.fetch_add(1)));
  // Keep the real extension last so encoders that look at it still work.
  name += target.extension().string();
  return target.parent_path() / name;
}

TempFileGuard::~TempFileGuard() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(path_, ec);
  }
}

namespace {

// Flushes a file's data, or a folder's entries, to the disk. Without it a
// crash soon after the rename can leave an empty or missing file under the
// final name (ext4 with delayed allocation, XFS).
void sync_to_disk(const fs::path& path, bool folder, const fs::path& target_for_errors) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (folder ? O_DIRECTORY : 0));
  if (fd < 0) throw Error(target_for_errors.string() + ": cannot open " + path.string() + " to sync it: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems cannot sync a folder (EINVAL); the file itself is synced by then.
  if (rc != 0 && !(folder && err == EINVAL))
    throw Error(target_for_errors.string() + ": cannot sync to disk: " + std::strerror(err));
}

}  // namespace

void TempFileGuard::commit(const fs::path& target) {
  sync_to_disk(path_, false, target);
  std::error_code ec;
  fs::rename(path_, target, ec);
  if (ec) throw Error(target.string() + ": cannot move into place: " + ec.message());
  committed_ = true;
  fs::path folder = target.parent_path();
  sync_to_disk(folder.empty() ? fs::path(".") : folder, true, target);
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  TempFileGuard tmp(temp_path_for(path));
  {
    std::ofstream out(tmp.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path.string() + ": cannot write: " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(path.string() + ": write failed (disk full?)");
  }
  tmp.commit(path);
}

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace scrim
