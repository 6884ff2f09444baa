// A persistent response cache in SQLite (WAL journal), keyed by a SHA-256 of
// the model id, prompt, options and image pixels. Safe under concurrent
// queries (one connection, serialised) and across processes and kills (each
// reply is one committed row). Re-running a command reuses its replies.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "scrim/oracle/oracle.h"

struct sqlite3;

namespace scrim {

// The hex SHA-256 cache key of a request for a model.
std::string oracle_cache_key(const std::string& model_id, const OracleRequest& request);

class CachedOracle : public Oracle {
 public:
  // Opens (creating when missing) the cache database. Throws scrim::Error.
  CachedOracle(std::shared_ptr<Oracle> inner, const std::filesystem::path& database);
  ~CachedOracle() override;
  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override { return inner_->model_id(); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  std::shared_ptr<Oracle> inner_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
  std::atomic<int64_t> hits_{0}, misses_{0};
  std::string path_;
};

}  // namespace scrim
