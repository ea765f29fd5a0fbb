// The access log: who viewed, played, downloaded or exported what footage, when, from where
// and for what stated purpose. Entries are append-only (triggers refuse UPDATE and DELETE)
// and hash-chained, so that tampering by someone with write access to records.db is
// detectable offline:
//
//   hash(entry) = SHA-256( prev_hash || CanonicalAccessBytes(entry) )
//
// where prev_hash is the previous entry's hash (kGenesisHash for entry 1) and ids run
// 1, 2, 3, ... without gaps. The canonical bytes are a versioned, length-prefixed encoding
// of every field including the id, so no two different entries encode the same way.
// The chain cannot show that entries were cut from the end; compare against an anchor
// (AccessLogHead recorded elsewhere earlier) for that.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "records/rows.h"

namespace custodian::records {

// 64 zeros: the prev_hash of entry 1.
extern const char kGenesisHash[];

// How the detail of a viewing's start entry begins (api/viewings.h); the statistics count
// viewings by it.
inline constexpr char kViewingStartDetail[] = "viewing started: ";

struct AccessEntry {
  int64_t id = 0;                  // assigned by AppendAccess
  UtcMicros at;                    // stamped
  std::optional<int64_t> user_id;  // unset when no user was identified (failed login)
  std::string user_name;
  std::string action;  // "view", "play", "download", "export", "login", "login_failed", ...
  std::optional<std::string> camera_id;
  std::optional<UtcMicros> from;
  std::optional<UtcMicros> to;
  std::string purpose_category;  // e.g. "incident", "dsar", "police_request"
  std::string purpose_text;      // the purpose the user stated, in their words
  std::string client;            // remote address
  AccessResult result = AccessResult::kOk;
  std::string detail;
  std::string prev_hash;  // assigned by AppendAccess
  std::string hash;       // assigned by AppendAccess
};

struct AccessFilter {
  std::optional<int64_t> user_id = {};
  std::optional<std::string> camera_id = {};
  std::optional<std::string> action = {};
  std::vector<std::string> any_action = {};  // one of these (with action, if set)
  std::optional<std::string> purpose_category = {};
  std::optional<UtcMicros> from = {};  // at >= from
  std::optional<UtcMicros> to = {};    // at < to
  // Entries about footage overlapping [footage_from, footage_to): from_us < footage_to and
  // (to_us is null, an open-ended live viewing, or to_us > footage_from).
  std::optional<UtcMicros> footage_from = {};
  std::optional<UtcMicros> footage_to = {};
  int limit = 1000;
  bool newest_first = true;
};

// A point in the chain noted elsewhere (a log line, a backup, a printed report).
struct AccessLogAnchor {
  int64_t id = 0;
  std::string hash;
};

struct AuditVerification {
  bool ok = true;
  int64_t entries_checked = 0;
  // The first entry that does not verify: altered, not linked to its predecessor, or
  // following a missing id. For a log cut short of an anchor, the anchor's id.
  std::optional<int64_t> first_bad_id;
  std::string reason;
};

// The encoding hashed for an entry (prev_hash and hash excluded).
std::string CanonicalAccessBytes(const AccessEntry& e);
// SHA-256 hex of prev_hash followed by CanonicalAccessBytes(e).
std::string ComputeAccessHash(const std::string& prev_hash, const AccessEntry& e);

}  // namespace custodian::records
