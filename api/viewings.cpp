#include "api/viewings.h"

#include <algorithm>
#include <utility>

#include "base/log.h"

namespace custodian::api {

struct ViewingLog::Viewing {
  ViewingKey key;
  records::AccessEntry start;  // id set once durable
  bool starting = true;        // the start entry is being written
  MonoMicros first{0};
  MonoMicros last{0};
  std::optional<UtcMicros> fetched_from;
  std::optional<UtcMicros> fetched_to;
  int64_t requests = 0;
  uint64_t bytes = 0;

  void Note(const ViewingRequest& r, MonoMicros now) {
    if (requests == 0) first = now;
    last = now;
    ++requests;
    bytes += r.bytes;
    if (r.fetched_from && (!fetched_from || *r.fetched_from < *fetched_from)) {
      fetched_from = r.fetched_from;
    }
    if (r.fetched_to && (!fetched_to || *fetched_to < *r.fetched_to)) fetched_to = r.fetched_to;
  }
};

namespace {

std::string Seconds(int64_t us) { return std::to_string(us / kMicrosPerSecond) + " s"; }

}  // namespace

ViewingLog::ViewingLog(AccessLogWriter& writer, const Clock& clock, int64_t idle_timeout_us)
    : writer_(writer), clock_(clock), idle_timeout_us_(idle_timeout_us) {}

size_t ViewingLog::open_count() const {
  MutexLock lock(mu_);
  return viewings_.size();
}

// A request joins a viewing that reaches all it could reach: from the viewing's start entry's
// `from` on, up to its `to`. A live viewing is open-ended and joined by every live request of
// its key, whatever its reach: the live routes serve nothing but the segments being recorded
// and those closed in the last 2 minutes, and a camera's other stream (main or sub: its own
// segments) may list a window that starts a little before the one the viewing started on.
// Held to `from`, a switch to the main stream and back started a second viewing, and the
// first ended idle within the minute. The end entry says what was fetched.
bool ViewingLog::Reaches(const Viewing& v, const ViewingRequest& r) const {
  if (!(v.key == r.key)) return false;
  if (r.key.kind == ViewingKind::kLive) return true;
  const auto& from = v.start.from;
  const auto& to = v.start.to;
  if (!from || !r.reach_from || *r.reach_from < *from) return false;
  return to && r.reach_to && !(*to < *r.reach_to);
}

Result<int64_t> ViewingLog::Enter(const ViewingRequest& r) {
  std::vector<ViewingPtr> idle;
  ViewingPtr mine;
  {
    MutexLock lock(mu_);
    for (;;) {
      const MonoMicros now = clock_.Monotonic();
      ViewingPtr found;
      for (auto it = viewings_.begin(); it != viewings_.end();) {
        Viewing& v = **it;
        if (!v.starting && now.us - v.last.us >= idle_timeout_us_) {
          idle.push_back(*it);
          it = viewings_.erase(it);
          continue;
        }
        if (Reaches(v, r)) found = *it;  // the newest that reaches it: what they watch now
        ++it;
      }
      if (!found) break;
      if (found->starting) {
        lock.Wait(started_);
        continue;
      }
      found->Note(r, now);
      const int64_t id = found->start.id;
      lock.Unlock();
      if (!idle.empty()) End(std::move(idle), "ended: idle for " + Seconds(idle_timeout_us_));
      return id;
    }
    mine = std::make_shared<Viewing>();
    mine->key = r.key;
    records::AccessEntry& e = mine->start;
    e.user_id = r.user_id;
    e.user_name = r.user_name;
    e.action = r.action;
    if (!r.key.camera.empty()) e.camera_id = r.key.camera;
    e.from = r.reach_from;
    e.to = r.reach_to;
    e.purpose_category = r.key.purpose_category;
    e.purpose_text = r.key.purpose_text;
    e.client = r.key.client;
    e.result = records::AccessResult::kOk;
    e.detail = records::kViewingStartDetail + r.start_detail +
               "; its further requests refer to this entry and add none";
    viewings_.push_back(mine);
  }
  if (!idle.empty()) End(std::move(idle), "ended: idle for " + Seconds(idle_timeout_us_));
  // mine->start is read-only while starting, so it is read here without the lock.
  Result<int64_t> id = writer_.AppendViewingStart(mine->start);
  MutexLock lock(mu_);
  if (!id.ok()) {
    viewings_.remove(mine);
  } else {
    mine->start.id = *id;
    mine->Note(r, clock_.Monotonic());
  }
  mine->starting = false;
  started_.notify_all();
  return id;
}

template <typename Pick>
std::vector<ViewingLog::ViewingPtr> ViewingLog::Take(Pick pick) {
  std::vector<ViewingPtr> taken;
  MutexLock lock(mu_);
  for (auto it = viewings_.begin(); it != viewings_.end();) {
    if (!(*it)->starting && pick(**it)) {
      taken.push_back(*it);
      it = viewings_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

int ViewingLog::WriteEnds(const std::vector<ViewingPtr>& ended, const std::string& why) {
  int written = 0;
  for (const ViewingPtr& v : ended) {
    records::AccessEntry e = v->start;
    e.id = 0;
    e.action = v->start.action + "_end";
    e.from = v->fetched_from;
    e.to = v->fetched_to;
    e.detail = "end of the viewing started at entry " + std::to_string(v->start.id) + ": " +
               why + "; " + std::to_string(v->requests) + " requests, " +
               std::to_string(v->bytes) + " bytes, " + Seconds(v->last.us - v->first.us) +
               " from the first request to the last";
    Result<int64_t> id = writer_.AppendViewingEnd(e, v->start.id);
    if (id.ok()) {
      ++written;
    } else {
      LogWarn("api") << "the end of viewing " << v->start.id
                     << " could not be logged; the next start of the server ends it: "
                     << id.status().ToString();
    }
  }
  return written;
}

int ViewingLog::End(std::vector<ViewingPtr> ended, const std::string& why) {
  MutexLock serial(end_mu_);
  return WriteEnds(ended, why);
}

int ViewingLog::EndIdle() {
  MutexLock serial(end_mu_);
  const MonoMicros now = clock_.Monotonic();
  return WriteEnds(Take([&](const Viewing& v) { return now.us - v.last.us >= idle_timeout_us_; }),
                   "ended: idle for " + Seconds(idle_timeout_us_));
}

int ViewingLog::EndSession(const std::string& session, const std::string& why) {
  MutexLock serial(end_mu_);
  return WriteEnds(Take([&](const Viewing& v) { return v.key.session == session; }), why);
}

int ViewingLog::EndUser(int64_t user_id, const std::string& why) {
  MutexLock serial(end_mu_);
  return WriteEnds(Take([&](const Viewing& v) { return v.start.user_id == user_id; }), why);
}

int ViewingLog::EndAll(const std::string& why) {
  MutexLock serial(end_mu_);
  return WriteEnds(Take([](const Viewing&) { return true; }), why);
}

Status ViewingLog::EndLeftOpen(records::Database& db) {
  auto open = db.ListOpenViewings();
  if (!open.ok()) return open.status();
  MutexLock serial(end_mu_);
  for (const records::AccessEntry& start : *open) {
    records::AccessEntry e = start;
    e.id = 0;
    e.action = start.action + "_end";
    e.from = std::nullopt;
    e.to = std::nullopt;
    e.detail = "end of the viewing started at entry " + std::to_string(start.id) +
               ": ended: unknown (server stopped); what it fetched was not recorded";
    Result<int64_t> id = writer_.AppendViewingEnd(e, start.id);
    if (!id.ok()) return id.status();
  }
  if (!open->empty()) {
    LogInfo("api") << "ended " << open->size()
                   << " viewings left open by the previous run, as ended at an unknown time";
  }
  return Status::Ok();
}

}  // namespace custodian::api
