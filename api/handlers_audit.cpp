// The DPO's records: the access log (JSON and CSV) and the deletion records.

#include "api/handlers.h"
#include "exports/access_checkpoint.h"

namespace custodian::api {

namespace {

using records::AccessEntry;

constexpr int kDefaultAccessRows = 1000;
constexpr size_t kMaxActionsQueried = 32;

struct AccessQuery {
  records::AccessFilter filter;
  bool unknown_user = false;  // the named user does not exist: nothing can match
  std::string description;    // for the access-log entry of the query itself
};

Result<std::optional<UtcMicros>> OptionalTime(const HttpRequest& r, const std::string& key) {
  if (!r.Query(key)) return std::optional<UtcMicros>();
  auto t = TimeParam(r, key);
  if (!t.ok()) return t.status();
  return std::optional<UtcMicros>(*t);
}

Result<int> LimitParam(const HttpRequest& r) {
  const std::string* v = r.Query("limit");
  if (!v) return kDefaultAccessRows;
  int n = 0;
  if (v->empty() || v->size() > 6) return InvalidArgument("limit must be 1 to 10000");
  for (char c : *v) {
    if (c < '0' || c > '9') return InvalidArgument("limit must be 1 to 10000");
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > kMaxAccessLogRows) return InvalidArgument("limit must be 1 to 10000");
  return n;
}

Result<AccessQuery> ParseAccessQuery(ApiContext& ctx, const HttpRequest& r) {
  AccessQuery q;
  if (const std::string* name = r.Query("user")) {
    if (name->size() > 64 || !IsPrintableUtf8(*name)) return InvalidArgument("bad user name");
    auto user = ctx.db.GetUserByName(*name);
    if (!user.ok()) return FromRecords(user.status(), "look up the user");
    if (*user)
      q.filter.user_id = (*user)->id;
    else
      q.unknown_user = true;
    q.description += " user=" + *name;
  }
  if (const std::string* camera = r.Query("camera")) {
    if (!IsValidCameraId(*camera)) return InvalidArgument("camera ids are [a-z0-9-]{1,64}");
    q.filter.camera_id = *camera;
    q.description += " camera=" + *camera;
  }
  if (const std::string* action = r.Query("action")) {
    // One action, or several separated by commas ("live_view,live_view_end").
    if (action->empty() || action->size() > 512 || !IsPrintableUtf8(*action)) {
      return InvalidArgument("bad action");
    }
    size_t start = 0;
    while (start <= action->size()) {
      const size_t comma = std::min(action->find(',', start), action->size());
      const std::string one = action->substr(start, comma - start);
      if (one.empty() || one.size() > 64) return InvalidArgument("bad action");
      q.filter.any_action.push_back(one);
      start = comma + 1;
    }
    if (q.filter.any_action.size() > kMaxActionsQueried) {
      return InvalidArgument("at most " + std::to_string(kMaxActionsQueried) + " actions");
    }
    q.description += " action=" + *action;
  }
  if (const std::string* purpose = r.Query("purpose")) {
    if (!IsPurposeCategory(*purpose)) return InvalidArgument("unknown purpose category");
    q.filter.purpose_category = *purpose;
    q.description += " purpose=" + *purpose;
  }
  // The footage's own time: entries about footage overlapping [footage_from, footage_to).
  auto footage_from = OptionalTime(r, "footage_from");
  if (!footage_from.ok()) return footage_from.status();
  auto footage_to = OptionalTime(r, "footage_to");
  if (!footage_to.ok()) return footage_to.status();
  if (*footage_from && *footage_to && !(**footage_from < **footage_to)) {
    return InvalidArgument("footage_from must be before footage_to");
  }
  q.filter.footage_from = *footage_from;
  q.filter.footage_to = *footage_to;
  if (*footage_from) q.description += " footage_from=" + FormatUtc(**footage_from);
  if (*footage_to) q.description += " footage_to=" + FormatUtc(**footage_to);
  auto from = OptionalTime(r, "from");
  if (!from.ok()) return from.status();
  auto to = OptionalTime(r, "to");
  if (!to.ok()) return to.status();
  if (*from && *to && !(**from < **to)) return InvalidArgument("from must be before to");
  q.filter.from = *from;
  q.filter.to = *to;
  auto limit = LimitParam(r);
  if (!limit.ok()) return limit.status();
  q.filter.limit = *limit;
  if (q.description.empty()) q.description = " everything";
  return q;
}

Result<std::vector<AccessEntry>> RunQuery(ApiContext& ctx, const Call& call) {
  auto q = ParseAccessQuery(ctx, call.request);
  if (!q.ok()) return q.status();
  std::vector<AccessEntry> rows;
  if (!q->unknown_user) {
    auto found = ctx.db.QueryAccess(q->filter);
    if (!found.ok()) return FromRecords(found.status(), "query the access log");
    rows = std::move(found).value();
  }
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(
      ctx, EntryFor(call, records::AccessResult::kOk,
                    "filter:" + q->description + "; " + std::to_string(rows.size()) + " rows")));
  return rows;
}

nlohmann::json EntryJson(const AccessEntry& e) {
  return {{"id", e.id},
          {"at", TimeJson(e.at)},
          {"user_id", e.user_id ? nlohmann::json(*e.user_id) : nlohmann::json()},
          {"user_name", e.user_name},
          {"action", e.action},
          {"camera_id", e.camera_id ? nlohmann::json(*e.camera_id) : nlohmann::json()},
          {"from", TimeJson(e.from)},
          {"to", TimeJson(e.to)},
          {"purpose_category", e.purpose_category},
          {"purpose_text", e.purpose_text},
          {"client", e.client},
          {"result", records::Name(e.result)},
          {"detail", e.detail},
          {"hash", e.hash}};
}

// One CSV field (RFC 4180). Text that a spreadsheet would run as a formula gets a
// leading apostrophe, since the DPO will open this file in one.
std::string CsvField(const std::string& v, bool text) {
  std::string s = v;
  if (text && !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) {
    s.insert(s.begin(), '\'');
  }
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Opt(const std::optional<UtcMicros>& t) { return t ? FormatUtc(*t) : ""; }

std::string CsvRow(const AccessEntry& e) {
  const std::vector<std::pair<std::string, bool>> fields = {
      {std::to_string(e.id), false},
      {FormatUtc(e.at), false},
      {e.user_id ? std::to_string(*e.user_id) : "", false},
      {e.user_name, true},
      {e.action, true},
      {e.camera_id.value_or(""), true},
      {Opt(e.from), false},
      {Opt(e.to), false},
      {e.purpose_category, true},
      {e.purpose_text, true},
      {e.client, true},
      {records::Name(e.result), false},
      {e.detail, true},
      {e.prev_hash, false},
      {e.hash, false}};
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += CsvField(fields[i].first, fields[i].second);
  }
  return line + "\r\n";
}

}  // namespace

Result<HttpResponse> HandleAccessLog(ApiContext& ctx, const Call& call) {
  auto rows = RunQuery(ctx, call);
  if (!rows.ok()) return rows.status();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : *rows) list.push_back(EntryJson(e));
  // Every action an entry can have, for the page's filter, and every camera's name (the
  // DPO audits cameras they may not view).
  auto cameras = ctx.db.ListCameras();
  if (!cameras.ok()) return FromRecords(cameras.status(), "list cameras");
  nlohmann::json names = nlohmann::json::object();
  for (const auto& c : *cameras) names[c.id] = c.name;
  return Json({{"entries", list}, {"actions", AccessLogActions()}, {"camera_names", names}});
}

Result<HttpResponse> HandleAccessLogCsv(ApiContext& ctx, const Call& call) {
  auto rows = RunQuery(ctx, call);
  if (!rows.ok()) return rows.status();
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.SetHeader("Content-Disposition", "attachment; filename=\"access-log.csv\"");
  r.body =
      "id,at,user_id,user_name,action,camera_id,from,to,purpose_category,purpose_text,client,"
      "result,detail,prev_hash,hash\r\n";
  for (const auto& e : *rows) r.body += CsvRow(e);
  return r;
}

// Walks the whole hash chain (records/access_log.h). first_bad is the id of the first
// entry that was altered, removed (the entry after the gap) or inserted.
Result<HttpResponse> HandleVerifyAccessLog(ApiContext& ctx, const Call& call) {
  auto v = ctx.db.VerifyAccessLog();
  if (!v.ok()) return FromRecords(v.status(), "verify the access log");
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(
      ctx, EntryFor(call, records::AccessResult::kOk,
                    std::string(v->ok ? "chain verified" : "chain broken") + "; " +
                        std::to_string(v->entries_checked) + " entries" +
                        (v->first_bad_id ? "; first bad " + std::to_string(*v->first_bad_id)
                                         : std::string()))));
  return Json({{"ok", v->ok},
               {"entries", v->entries_checked},
               {"first_bad", v->first_bad_id ? nlohmann::json(*v->first_bad_id) : nlohmann::json()},
               {"reason", v->reason}});
}

// The DPO takes a signed checkpoint of the access log's head off the box: a
// copy kept elsewhere is what exposes a log later cut at its end or rebuilt.
Result<HttpResponse> HandleAccessCheckpoint(ApiContext& ctx, const Call& call) {
  auto key = exports::SigningKey::LoadOrCreate(ctx.options.data_dir + "/keys", ctx.fs);
  if (!key.ok()) return key.status();
  const UtcMicros now = ctx.clock.Now();
  auto made = exports::MakeAccessCheckpoint(ctx.db, *key, ctx.options.site_name, now);
  if (made.status().kind() == ErrorKind::kDataLoss) {
    return FailedPrecondition(made.status().message() +
                              ": the chain must be looked into before anything vouches for it");
  }
  if (!made.ok()) return FromRecords(made.status(), "make the checkpoint");
  const std::string entry = std::to_string(made->head.id);
  CUSTODIAN_RETURN_IF_ERROR(RecordAccess(
      ctx, EntryFor(call, records::AccessResult::kOk,
                    "checkpoint of entry " + entry + " hash " + made->head.hash)));
  const std::string file = "access-log-checkpoint-" + FormatUtcCompact(now) + ".txt";
  return Json({{"entry", made->head.id},
               {"hash", made->head.hash},
               {"made", TimeJson(now)},
               {"file_name", file},
               {"checkpoint", made->text},
               {"minisig", made->minisig},
               {"verify_command", "custodian audit verify --checkpoint " + file}});
}

Result<HttpResponse> HandleListDeletions(ApiContext& ctx, const Call& call) {
  auto range = RangeParams(call.request, kMaxListingSpanUs);
  if (!range.ok()) return range.status();
  auto rows = ctx.db.ListDeletions(range->from, range->to);
  if (!rows.ok()) return FromRecords(rows.status(), "list deletions");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : *rows) {
    list.push_back({{"id", d.id},
                    {"at", TimeJson(d.at)},
                    {"camera_id", d.camera_id ? nlohmann::json(*d.camera_id) : nlohmann::json()},
                    {"from", TimeJson(d.from)},
                    {"to", TimeJson(d.to)},
                    {"segment_count", d.segment_count},
                    {"bytes", d.bytes},
                    {"sha256s", d.sha256s},
                    {"rule", records::Name(d.rule)},
                    {"deleted_by", d.deleted_by ? nlohmann::json(*d.deleted_by) : nlohmann::json()},
                    {"detail", d.detail}});
  }
  return Json({{"deletions", list}});
}

}  // namespace custodian::api
