#include "scrim/oracle/cached_oracle.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/core/sha256.h"

using nlohmann::json;

namespace scrim {

std::string oracle_cache_key(const std::string& model_id, const OracleRequest& r) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  auto feed = [&](const std::string& s) {
    uint64_t n = s.size();
    EVP_DigestUpdate(ctx, &n, sizeof n);  // length-prefixed: no ambiguity between fields
    EVP_DigestUpdate(ctx, s.data(), s.size());
  };
  const auto& o = r.options;
  feed(model_id);
  feed(r.prompt);
  feed(json{{"max_tokens", o.max_tokens}, {"temperature", o.temperature}, {"top_logprobs", o.top_logprobs},
            {"encoding", static_cast<int>(o.encoding)}, {"jpeg_quality", o.jpeg_quality}, {"detail", o.detail}}
           .dump());
  for (const auto& img : r.images) {
    cv::Mat m = img.isContinuous() ? img : img.clone();
    feed(std::to_string(m.rows) + "x" + std::to_string(m.cols) + "x" + std::to_string(m.type()));
    EVP_DigestUpdate(ctx, m.data, m.total() * m.elemSize());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return to_hex(digest, len);
}

namespace {

json reply_to_json(const OracleReply& r) {
  json lp = json::array();
  for (const auto& t : r.logprobs) {
    json top = json::array();
    for (const auto& a : t.top) top.push_back({a.token, a.logprob});
    lp.push_back({{"t", t.token}, {"l", t.logprob}, {"top", top}});
  }
  return {{"text", r.text}, {"logprobs", lp}, {"prompt_tokens", r.usage.prompt_tokens},
          {"completion_tokens", r.usage.completion_tokens}, {"latency_ms", r.latency_ms}};
}

OracleReply reply_from_json(const json& j) {
  OracleReply r;
  r.text = j.at("text");
  for (const auto& t : j.at("logprobs")) {
    TokenLogprob tok{t.at("t"), t.at("l"), {}};
    for (const auto& a : t.at("top")) tok.top.push_back({a.at(0), a.at(1)});
    r.logprobs.push_back(std::move(tok));
  }
  r.usage.prompt_tokens = j.at("prompt_tokens");
  r.usage.completion_tokens = j.at("completion_tokens");
  r.latency_ms = j.at("latency_ms");
  return r;
}

}  // namespace

CachedOracle::CachedOracle(std::shared_ptr<Oracle> inner, const std::filesystem::path& database)
    : inner_(std::move(inner)), path_(database.string()) {
  if (database.has_parent_path()) std::filesystem::create_directories(database.parent_path());
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path_ + ": cannot open the oracle cache: " + msg);
  }
  constexpr auto kBusyTimeout = std::chrono::seconds(10);  // other processes may hold the write lock briefly
  sqlite3_busy_timeout(db_, static_cast<int>(std::chrono::milliseconds(kBusyTimeout).count()));
  char* err = nullptr;
  const char* schema =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT NOT NULL, reply TEXT NOT NULL,"
      " created INTEGER NOT NULL DEFAULT (strftime('%s','now')));";
  // Setting up WAL mode takes an exclusive lock, and where waiting for it could deadlock SQLite answers SQLITE_BUSY at
  // once, without the busy handler: several processes opening one new file (the ranks of a distributed run) retry
  // until the busy timeout is spent.
  const auto deadline = std::chrono::steady_clock::now() + kBusyTimeout;
  int rc = SQLITE_OK;
  while (((rc = sqlite3_exec(db_, schema, nullptr, nullptr, &err)) == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
         std::chrono::steady_clock::now() < deadline) {
    sqlite3_free(err);
    err = nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path_ + ": not a usable oracle cache: " + msg);
  }
}

CachedOracle::~CachedOracle() {
  if (db_) sqlite3_close(db_);
}

OracleReply CachedOracle::query(const OracleRequest& request) {
  std::string key = oracle_cache_key(inner_->model_id(), request);
  {
    std::lock_guard lock(mutex_);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "SELECT reply FROM replies WHERE key = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    std::string stored = rc == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "";
    sqlite3_finalize(st);
    if (!stored.empty()) {
      json j = json::parse(stored, nullptr, false);
      if (!j.is_discarded()) {
        try {
          OracleReply r = reply_from_json(j);
          r.from_cache = true;
          ++hits_;
          return r;
        } catch (const json::exception&) {
          // An unreadable row is treated as a miss and overwritten below.
        }
      }
    }
  }
  ++misses_;
  OracleReply reply = inner_->query(request);
  std::lock_guard lock(mutex_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO replies (key, model, reply) VALUES (?, ?, ?)", -1, &st, nullptr);
  std::string body = reply_to_json(reply).dump();
  std::string model = inner_->model_id();
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, model.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, body.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw Error(path_ + ": cannot store a reply: " + sqlite3_errmsg(db_));
  return reply;
}

}  // namespace scrim
