// Footage requests: logging, verification, decision, DSAR extensions, subject
// notification, withdrawal and closing, through requests::Workflow, which holds every rule;
// and the records that answer them: the disclosure register and the anonymised monthly
// statistics.
//
// Who sees a request: the DPO every one; a manager those naming a camera they may see;
// staff those they logged or asked for. Acting on one (beyond reading) as a manager or
// staff member also needs every camera it names. Every read is logged with its ids, and
// every change commits together with its access-log entry.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <initializer_list>

#include "api/handlers.h"
#include "requests/rules.h"
#include "requests/statistics.h"
#include "requests/workflow.h"

namespace custodian::api {

namespace {

using nlohmann::json;
using records::AccessResult;
using records::FootageRequestRow;
using records::Role;

constexpr size_t kMaxTextBytes = 2000;
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxRanges = 100;

std::string RequestText(int64_t id) { return "request " + std::to_string(id); }

Result<std::string> Text(const json& body, const std::string& key, size_t max, bool required) {
  auto v = StringMember(body, key, max, required);
  if (!v.ok()) return v.status();
  return v->value_or("");
}

// A string member to read into *out: Text's rules, at most max bytes.
struct TextField {
  const char* key;
  std::string* out;
  size_t max;
  bool required;
};

// Reads each field with Text; the first bad one is the error.
Status ReadTextFields(const json& body, std::initializer_list<TextField> fields) {
  for (const TextField& f : fields) {
    auto v = Text(body, f.key, f.max, f.required);
    if (!v.ok()) return v.status();
    *f.out = *v;
  }
  return Status::Ok();
}

Result<bool> Flag(const json& body, const std::string& key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_boolean()) {
    return InvalidArgument("\"" + key + "\" must be true or false");
  }
  return it->get<bool>();
}

Result<UtcMicros> TimeMember(const json& body, const std::string& key) {
  auto v = StringMember(body, key, 40, true);
  if (!v.ok()) return v.status();
  UtcMicros t;
  if (!ParseUtc(**v, &t))
    return InvalidArgument(key + " must be a UTC time like 2026-01-01T00:00:00Z");
  return t;
}

Result<records::FootageRange> RangeMember(const json& v) {
  if (!v.is_object()) return InvalidArgument("each range is {camera, from, to}");
  auto camera = Text(v, "camera", 64, true);
  if (!camera.ok()) return camera.status();
  if (!IsValidCameraId(*camera)) return InvalidArgument("camera ids are [a-z0-9-]{1,64}");
  auto from = TimeMember(v, "from");
  if (!from.ok()) return from.status();
  auto to = TimeMember(v, "to");
  if (!to.ok()) return to.status();
  if (!(*from < *to)) return InvalidArgument("each range needs from before to");
  if (*to - *from > kMaxListingSpanUs) return InvalidArgument("a range may span a year at most");
  return records::FootageRange{*camera, *from, *to};
}

Result<requests::NewRequest> NewRequestMember(const json& body) {
  requests::NewRequest r;
  auto type = Text(body, "type", 32, true);
  if (!type.ok()) return type.status();
  auto parsed_type = records::ParseRequestType(*type);
  if (!parsed_type) return InvalidArgument("unknown request type \"" + *type + "\"");
  r.type = *parsed_type;
  auto basis = Text(body, "legal_basis", 32, false);
  if (!basis.ok()) return basis.status();
  if (basis->empty()) {
    r.legal_basis = requests::AllowedLegalBases(r.type).front();
  } else {
    auto parsed = records::ParseLegalBasis(*basis);
    if (!parsed) return InvalidArgument("unknown legal basis \"" + *basis + "\"");
    r.legal_basis = *parsed;
  }
  CUSTODIAN_RETURN_IF_ERROR(
      ReadTextFields(body, {{"requester_name", &r.requester_name, kMaxNameBytes, true},
                            {"organisation", &r.organisation, kMaxNameBytes, false},
                            {"contact", &r.contact, kMaxTextBytes, false},
                            {"reference", &r.reference, kMaxNameBytes, false},
                            {"legal_basis_detail", &r.legal_basis_detail, kMaxTextBytes, false},
                            {"description", &r.description, kMaxTextBytes, false}}));
  if (auto it = body.find("requester_user_id"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1) {
      return InvalidArgument("\"requester_user_id\" must be a user id");
    }
    r.requester_user_id = it->get<int64_t>();
  }
  if (body.contains("received") && !body["received"].is_null()) {
    auto received = TimeMember(body, "received");
    if (!received.ok()) return received.status();
    r.received = *received;
  }
  auto ranges = body.find("ranges");
  if (ranges == body.end() || !ranges->is_array() || ranges->empty() ||
      ranges->size() > kMaxRanges) {
    return InvalidArgument("ranges must list 1 to 100 {camera, from, to}");
  }
  for (const json& v : *ranges) {
    auto range = RangeMember(v);
    if (!range.ok()) return range.status();
    r.ranges.push_back(*range);
  }
  return r;
}

Result<FootageRequestRow> LoadRequest(ApiContext& ctx, int64_t id) {
  auto r = ctx.db.GetFootageRequest(id);
  if (!r.ok()) return FromRecords(r.status(), "read the request");
  if (!*r) return NotFound("no " + RequestText(id));
  return std::move(**r);
}

bool Involves(const FootageRequestRow& r, int64_t user_id) {
  return r.logged_by == user_id || r.requester_user_id == user_id;
}

enum class Use { kRead, kAct };

// Whether the caller may read (or act on) the request, given the cameras they may see; see
// the file comment.
Status CheckScope(const Principal& me, const std::vector<std::string>& permitted,
                  const FootageRequestRow& r, Use use) {
  if (me.role == Role::kDpo) return Status::Ok();
  size_t seen = 0;
  for (const auto& range : r.ranges) {
    seen += std::count(permitted.begin(), permitted.end(), range.camera_id) > 0;
  }
  const bool reads = me.role == Role::kManager ? seen > 0 : Involves(r, me.user_id);
  const bool all = seen == r.ranges.size();
  if (!reads) return PermissionDenied("no access to " + RequestText(r.id));
  if (use == Use::kAct && !all) {
    return PermissionDenied(RequestText(r.id) + " names a camera you have no permission for");
  }
  return Status::Ok();
}

Status CheckScope(ApiContext& ctx, const Call& call, const FootageRequestRow& r, Use use) {
  auto permitted = PermittedCameras(ctx, call.user());
  if (!permitted.ok()) return permitted.status();
  return CheckScope(call.user(), *permitted, r, use);
}

Result<FootageRequestRow> ScopedRequest(ApiContext& ctx, const Call& call, Use use) {
  auto r = LoadRequest(ctx, *call.params.id);
  if (!r.ok()) return r.status();
  CUSTODIAN_RETURN_IF_ERROR(CheckScope(ctx, call, *r, use));
  return r;
}

// Runs a workflow step and its access-log entry in one transaction.
Result<HttpResponse> Change(ApiContext& ctx, const Call& call, const std::string& detail,
                            const std::function<Status()>& step, int status = 204,
                            json answer = nullptr) {
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(step());
    return RecordChange(ctx, EntryFor(call, AccessResult::kOk, detail));
  });
  if (!st.ok()) return st;
  return status == 204 ? NoContent() : Json(answer, status);
}

Status LogRead(ApiContext& ctx, const Call& call, const std::string& detail) {
  return RecordAccess(ctx, EntryFor(call, AccessResult::kOk, detail));
}

json RangesJson(const std::vector<records::FootageRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) {
    out.push_back({{"camera", r.camera_id}, {"from", TimeJson(r.from)}, {"to", TimeJson(r.to)}});
  }
  return out;
}

json OptionalJson(const std::optional<int64_t>& v) { return v ? json(*v) : json(); }
json OptionalJson(const std::optional<std::string>& v) { return v ? json(*v) : json(); }

json SummaryJson(const FootageRequestRow& r, const People& people) {
  return {{"id", r.id},
          {"type", records::Name(r.type)},
          {"state", records::Name(r.state)},
          {"open", requests::IsOpen(r.state)},
          {"requester_name", r.requester_name},
          {"organisation", r.organisation},
          {"reference", r.reference},
          {"received", TimeJson(r.received)},
          {"deadline", TimeJson(r.deadline)},
          {"logged_by", r.logged_by},
          {"logged_by_who", people.Who(r.logged_by)},
          {"ranges", RangesJson(r.ranges)}};
}

// Why the caller may not decide, or "" when they may.
std::string DecideBlocker(const Principal& me, const FootageRequestRow& r) {
  if (!requests::CanDecide(me.role)) return "only a manager or the DPO decides requests";
  if (r.logged_by == me.user_id) return "you logged this request; another manager must decide it";
  if (r.requester_user_id == me.user_id) return "you asked for this footage; you cannot decide";
  if (r.state != records::RequestState::kReceived && r.state != records::RequestState::kVerifying &&
      r.state != records::RequestState::kAwaitingDecision) {
    return std::string("the request is ") + records::Name(r.state);
  }
  return "";
}

// A DSAR's clock (null for other requests): when and why it stopped, and whether it may.
Result<json> DsarClockJson(ApiContext& ctx, const FootageRequestRow& r) {
  if (r.type != records::RequestType::kDsar) return json(nullptr);
  auto events = ctx.db.ListRequestEvents(r.id);
  if (!events.ok()) return FromRecords(events.status(), "read the request's history");
  const requests::DsarClock clock = requests::DsarClockFromEvents(*events, TimeZone::UkLocal());
  const std::string blocker = requests::ClockStopBlocker(r, clock, ctx.clock.Now());
  return json{
      {"stopped_since", TimeJson(clock.stopped_since)},
      {"stopped_for", clock.stopped_for ? json(requests::Name(*clock.stopped_for)) : json()},
      {"stopped_days", clock.paused_days},
      {"stops", clock.stops},
      {"can_stop", blocker.empty()},
      {"cannot_stop_reason", blocker.empty() ? json() : json(RequestText(r.id) + blocker)}};
}

json AssessmentJson(const FootageRequestRow& r) {
  const requests::RangeAssessment a = requests::AssessRanges(r.ranges);
  return {{"over_broad", a.over_broad},
          {"reasons", a.reasons},
          {"cameras", a.cameras},
          {"longest_camera_seconds", a.longest_camera_us / kMicrosPerSecond}};
}

// The identity checks done, and those the request's type requires, into j.
Status PutVerifications(ApiContext& ctx, const FootageRequestRow& r, const People& people,
                        json* j) {
  auto steps = ctx.db.ListRequestVerifications(r.id);
  if (!steps.ok()) return FromRecords(steps.status(), "read the verification steps");
  json verifications = json::array();
  for (const auto& v : *steps) {
    verifications.push_back({{"step", records::Name(v.step)},
                             {"done_by", v.done_by},
                             {"done_by_who", people.Who(v.done_by)},
                             {"at", TimeJson(v.at)},
                             {"note", v.note}});
  }
  (*j)["verifications"] = verifications;
  json required = json::array();
  for (auto step : requests::RequiredVerifications(r.type)) required.push_back(records::Name(step));
  (*j)["required_verifications"] = required;
  return Status::Ok();
}

Result<json> HistoryJson(ApiContext& ctx, const FootageRequestRow& r, const People& people) {
  auto events = ctx.db.ListRequestEvents(r.id);
  if (!events.ok()) return FromRecords(events.status(), "read the request's history");
  json history = json::array();
  for (const auto& e : *events) {
    history.push_back({{"at", TimeJson(e.at)},
                       {"user_id", e.user_id},
                       {"user_who", people.Who(e.user_id)},
                       {"from", e.from_state ? json(records::Name(*e.from_state)) : json()},
                       {"to", records::Name(e.to_state)},
                       {"action", e.action},
                       {"note", e.note}});
  }
  return history;
}

json RequestExportJson(const records::ExportRow& e, const People& people) {
  return {{"id", e.id},
          {"state", records::Name(e.state)},
          {"created", TimeJson(e.created)},
          {"created_by", e.created_by},
          {"created_by_who", people.Who(e.created_by)},
          {"bytes", e.bytes},
          {"manifest_sha256", OptionalJson(e.manifest_sha256)},
          // Whether a DSAR's package may leave (requests/workflow.cpp): redacted
          // and signed off, or a reason to send it unredacted on record.
          {"redacted", e.redacted},
          {"unredacted_justification", OptionalJson(e.unredacted_justification)}};
}

// The request's exports, and what was disclosed of each, into j.
Status PutExportsAndDisclosures(ApiContext& ctx, const FootageRequestRow& r, const People& people,
                                json* j) {
  auto exports = ctx.db.ListExportsForRequest(r.id);
  if (!exports.ok()) return FromRecords(exports.status(), "read the request's exports");
  json ex = json::array(), disclosures = json::array();
  for (const auto& e : *exports) {
    ex.push_back(RequestExportJson(e, people));
    auto given = ctx.db.ListDisclosuresForExport(e.id);
    if (!given.ok()) return FromRecords(given.status(), "read the request's disclosures");
    for (const auto& d : *given) {
      disclosures.push_back({{"id", d.id},
                             {"export_id", d.export_id},
                             {"recipient_name", d.recipient_name},
                             {"organisation", d.organisation},
                             {"reference", d.reference},
                             {"method", records::Name(d.method)},
                             {"at", TimeJson(d.at)},
                             {"authorised_by", d.authorised_by},
                             {"authorised_by_who", people.Who(d.authorised_by)}});
    }
  }
  (*j)["exports"] = ex;
  (*j)["disclosures"] = disclosures;
  return Status::Ok();
}

Result<json> DetailJson(ApiContext& ctx, const Call& call, const FootageRequestRow& r) {
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  json j = SummaryJson(r, *people);
  j["contact"] = r.contact;
  j["legal_basis"] = records::Name(r.legal_basis);
  j["legal_basis_text"] = requests::LegalBasisText(r.legal_basis);
  j["legal_basis_detail"] = r.legal_basis_detail;
  j["description"] = r.description;
  j["requester_user_id"] = OptionalJson(r.requester_user_id);
  j["requester_user_who"] = people->Who(r.requester_user_id);
  j["decided_by"] = OptionalJson(r.decided_by);
  j["decided_by_who"] = people->Who(r.decided_by);
  j["decided"] = TimeJson(r.decided);
  j["decision_reason"] = OptionalJson(r.decision_reason);
  j["over_broad_justification"] = OptionalJson(r.over_broad_justification);
  j["extension"] = {{"months", r.extension_months},
                    {"reason", OptionalJson(r.extension_reason)},
                    {"requester_told", TimeJson(r.extension_told)}};
  auto clock = DsarClockJson(ctx, r);
  if (!clock.ok()) return clock.status();
  j["clock"] = *clock;
  j["subject_notification"] = {{"told", r.subject_notified ? json(*r.subject_notified) : json()},
                               {"at", TimeJson(r.subject_notified_at)},
                               {"note", OptionalJson(r.subject_notification_note)}};
  j["closed"] = TimeJson(r.closed);
  j["retain_until"] = TimeJson(r.retain_until);
  j["assessment"] = AssessmentJson(r);
  const std::string blocker = DecideBlocker(call.user(), r);
  j["can_decide"] = blocker.empty();
  j["cannot_decide_reason"] = blocker.empty() ? json() : json(blocker);
  CUSTODIAN_RETURN_IF_ERROR(PutVerifications(ctx, r, *people, &j));
  auto history = HistoryJson(ctx, r, *people);
  if (!history.ok()) return history.status();
  j["history"] = *history;
  CUSTODIAN_RETURN_IF_ERROR(PutExportsAndDisclosures(ctx, r, *people, &j));
  return j;
}

json DisclosureJson(const records::DisclosureRow& d, const People& people) {
  return {{"id", d.id},
          {"export_id", d.export_id},
          {"request_id", d.request_id},
          {"recipient_name", d.recipient_name},
          {"organisation", d.organisation},
          {"reference", d.reference},
          {"method", records::Name(d.method)},
          {"at", TimeJson(d.at)},
          {"authorised_by", d.authorised_by},
          {"authorised_by_who", people.Who(d.authorised_by)},
          {"recorded_by", d.recorded_by},
          {"recorded_by_who", people.Who(d.recorded_by)},
          {"manifest_sha256", d.manifest_sha256},
          {"note", d.note}};
}

}  // namespace

Result<HttpResponse> HandleLogRequest(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto request = NewRequestMember(*body);
  if (!request.ok()) return request.status();
  for (const auto& r : request->ranges) {
    auto may = MayViewCamera(ctx, call.user(), r.camera_id);
    if (!may.ok()) return may.status();
    if (!*may) return PermissionDenied("no permission for camera " + r.camera_id);
  }
  requests::Workflow workflow(ctx.db, ctx.clock);
  int64_t id = 0;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto logged = workflow.LogRequest(*request, call.user().user_id);
    if (!logged.ok()) return logged.status();
    id = *logged;
    for (const auto& r : request->ranges) {  // one entry per range, as for holds
      records::AccessEntry e =
          EntryFor(call, AccessResult::kOk,
                   RequestText(id) + " (" + records::Name(request->type) + ") logged and held");
      e.camera_id = r.camera_id;
      e.from = r.from;
      e.to = r.to;
      CUSTODIAN_RETURN_IF_ERROR(RecordChange(ctx, e));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return Json({{"id", id}}, 201);
}

Result<HttpResponse> HandleListRequests(ApiContext& ctx, const Call& call) {
  records::RequestFilter filter;
  std::string detail = "filter:";
  if (const std::string* s = call.request.Query("state")) {
    filter.state = records::ParseRequestState(*s);
    if (!filter.state) return InvalidArgument("unknown request state");
    detail += " state=" + *s;
  }
  if (const std::string* t = call.request.Query("type")) {
    filter.type = records::ParseRequestType(*t);
    if (!filter.type) return InvalidArgument("unknown request type");
    detail += " type=" + *t;
  }
  auto rows = ctx.db.ListFootageRequests(filter);
  if (!rows.ok()) return FromRecords(rows.status(), "list requests");
  auto permitted = PermittedCameras(ctx, call.user());
  if (!permitted.ok()) return permitted.status();
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  json list = json::array();
  std::string ids;
  for (const auto& r : *rows) {
    if (!CheckScope(call.user(), *permitted, r, Use::kRead).ok()) continue;
    list.push_back(SummaryJson(r, *people));
    ids += (ids.empty() ? " " : ",") + std::to_string(r.id);
  }
  CUSTODIAN_RETURN_IF_ERROR(
      LogRead(ctx, call, detail + "; " + std::to_string(list.size()) + " requests" + ids));
  return Json({{"requests", list}});
}

Result<HttpResponse> HandleGetRequest(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kRead);
  if (!r.ok()) return r.status();
  auto body = DetailJson(ctx, call, *r);
  if (!body.ok()) return body.status();
  CUSTODIAN_RETURN_IF_ERROR(LogRead(ctx, call, RequestText(r->id)));
  return Json(*body);
}

Result<HttpResponse> HandleAddVerification(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto step_name = Text(*body, "step", 40, true);
  if (!step_name.ok()) return step_name.status();
  auto step = records::ParseVerificationStep(*step_name);
  if (!step) return InvalidArgument("unknown verification step \"" + *step_name + "\"");
  auto note = Text(*body, "note", kMaxTextBytes, false);
  if (!note.ok()) return note.status();
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + ": " + *step_name,
                [&] { return workflow.AddVerification(r->id, *step, call.user().user_id, *note); });
}

Result<HttpResponse> HandleSubmitRequest(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + " submitted for decision",
                [&] { return workflow.SubmitForDecision(r->id, call.user().user_id); });
}

Result<HttpResponse> HandleDecideRequest(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto approve = Flag(*body, "approve");
  if (!approve.ok()) return approve.status();
  auto reason = Text(*body, "reason", kMaxTextBytes, true);
  if (!reason.ok()) return reason.status();
  auto justification = StringMember(*body, "over_broad_justification", kMaxTextBytes, false);
  if (!justification.ok()) return justification.status();
  requests::Decision d;
  d.approve = *approve;
  d.decided_by = call.user().user_id;
  d.reason = *reason;
  d.over_broad_justification = *justification;
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + (d.approve ? " approved" : " refused"),
                [&] { return workflow.Decide(r->id, d); });
}

Result<HttpResponse> HandleExtendDeadline(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  requests::Extension e;
  auto months = body->find("further_months");
  if (months == body->end() || !months->is_number_integer()) {
    return InvalidArgument("\"further_months\" must be 1 or 2");
  }
  e.further_months = static_cast<int>(std::clamp<int64_t>(months->get<int64_t>(), -1, 99));
  auto reason = Text(*body, "reason", kMaxTextBytes, true);
  if (!reason.ok()) return reason.status();
  e.reason = *reason;
  auto told = TimeMember(*body, "requester_told");
  if (!told.ok()) return told.status();
  e.requester_told = *told;
  e.by = call.user().user_id;
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + " deadline extended",
                [&] { return workflow.ExtendDsarDeadline(r->id, e); });
}

// The rules the request pages follow, from requests/rules.h, so the web UI keeps no copy:
// per type its legal bases (with their text) and the checks needed before a decision; per
// state whether it is open, undecided or may be exported, and the states it may move to;
// with ?received=, the UK date a DSAR received then is due. No personal data: not logged.
Result<HttpResponse> HandleRequestRules(ApiContext& ctx, const Call& call) {
  json types = json::object();
  for (int t = 0; t <= static_cast<int>(records::RequestType::kMedia); ++t) {
    const auto type = static_cast<records::RequestType>(t);
    json bases = json::array();
    for (auto b : requests::AllowedLegalBases(type)) {
      bases.push_back({{"id", records::Name(b)}, {"text", requests::LegalBasisText(b)}});
    }
    json steps = json::array();
    for (auto s : requests::RequiredVerifications(type)) steps.push_back(records::Name(s));
    types[records::Name(type)] = {{"legal_bases", bases}, {"required_verifications", steps}};
  }
  json states = json::object();
  for (auto s : requests::AllStates()) {
    json next = json::array();
    for (auto to : requests::AllStates()) {
      if (requests::TransitionAllowed(s, to)) next.push_back(records::Name(to));
    }
    states[records::Name(s)] = {{"open", requests::IsOpen(s)},
                                {"undecided", requests::IsUndecided(s)},
                                {"may_export", requests::MayExport(s)},
                                {"next", next}};
  }
  json out = {{"types", types},
              {"states", states},
              {"dsar", {{"max_extension_months", requests::kMaxDsarExtensionMonths}}}};
  if (call.request.Query("received")) {
    auto received = TimeParam(call.request, "received");
    if (!received.ok()) return received.status();
    const TimeZone& zone = TimeZone::UkLocal();
    out["dsar"]["due_date"] =
        FormatCivilDate(requests::DsarDueDate(zone.ToLocal(*received).date, 0));
  }
  (void)ctx;
  return Json(out);
}

Result<HttpResponse> HandleStopClock(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto reason = Text(*body, "reason", kMaxTextBytes, true);
  if (!reason.ok()) return reason.status();
  requests::ClockStop stop;
  if (!requests::ParseClockStopReason(*reason, &stop.reason)) {
    return InvalidArgument("\"reason\" must be \"identity\" or \"clarification\"");
  }
  auto asked = Text(*body, "asked", kMaxTextBytes, true);
  if (!asked.ok()) return asked.status();
  stop.asked = *asked;
  stop.by = call.user().user_id;
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + " clock stopped (" + *reason + ")",
                [&] { return workflow.StopDsarClock(r->id, stop); });
}

Result<HttpResponse> HandleRestartClock(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto answer = Text(*body, "answer", kMaxTextBytes, true);
  if (!answer.ok()) return answer.status();
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + " clock restarted",
                [&] { return workflow.RestartDsarClock(r->id, call.user().user_id, *answer); });
}

Result<HttpResponse> HandleSubjectNotification(ApiContext& ctx, const Call& call) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  records::SubjectNotification n;
  auto told = Flag(*body, "told");
  if (!told.ok()) return told.status();
  n.told = *told;
  if (body->contains("at") && !(*body)["at"].is_null()) {
    auto at = TimeMember(*body, "at");
    if (!at.ok()) return at.status();
    n.at = *at;
  }
  auto note = Text(*body, "note", kMaxTextBytes, false);
  if (!note.ok()) return note.status();
  n.note = *note;
  n.by = call.user().user_id;
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + (n.told ? ": subject told" : ": subject not told"),
                [&] { return workflow.RecordSubjectNotification(r->id, n); });
}

namespace {
// The optional {"note": ...} of a withdraw or close; an empty body is no note.
Result<std::string> OptionalNote(const HttpRequest& request) {
  if (request.body.empty()) return std::string();
  auto body = JsonObjectBody(request);
  if (!body.ok()) return body.status();
  return Text(*body, "note", kMaxTextBytes, false);
}
}  // namespace

namespace {
// Withdraw and close: the request in scope, an optional note, one workflow step.
template <typename Step>
Result<HttpResponse> EndRequest(ApiContext& ctx, const Call& call, const char* done, Step step) {
  auto r = ScopedRequest(ctx, call, Use::kAct);
  if (!r.ok()) return r.status();
  auto note = OptionalNote(call.request);
  if (!note.ok()) return note.status();
  requests::Workflow workflow(ctx.db, ctx.clock);
  return Change(ctx, call, RequestText(r->id) + " " + done,
                [&] { return (workflow.*step)(r->id, call.user().user_id, *note); });
}
}  // namespace

Result<HttpResponse> HandleWithdrawRequest(ApiContext& ctx, const Call& call) {
  // Staff withdraw their own requests before a decision; after one, a manager does.
  if (call.user().role == Role::kStaff) {
    auto r = ScopedRequest(ctx, call, Use::kAct);
    if (!r.ok()) return r.status();
    using S = records::RequestState;
    if (r->state != S::kReceived && r->state != S::kVerifying &&
        r->state != S::kAwaitingDecision) {
      return FailedPrecondition(RequestText(r->id) +
                                " has been decided; ask a manager to withdraw it");
    }
  }
  return EndRequest(ctx, call, "withdrawn", &requests::Workflow::Withdraw);
}

Result<HttpResponse> HandleCloseRequest(ApiContext& ctx, const Call& call) {
  return EndRequest(ctx, call, "closed", &requests::Workflow::Close);
}

Result<HttpResponse> HandleRecordDisclosure(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  requests::Handover h;
  auto export_id = body->find("export_id");
  if (export_id == body->end() || !export_id->is_number_integer() ||
      export_id->get<int64_t>() < 1) {
    return InvalidArgument("\"export_id\" must be an export id");
  }
  h.export_id = export_id->get<int64_t>();
  auto method_name = Text(*body, "method", 32, true);
  if (!method_name.ok()) return method_name.status();
  auto method = records::ParseDisclosureMethod(*method_name);
  if (!method) return InvalidArgument("unknown handover method \"" + *method_name + "\"");
  h.method = *method;
  CUSTODIAN_RETURN_IF_ERROR(
      ReadTextFields(*body, {{"recipient_name", &h.recipient_name, kMaxNameBytes, true},
                             {"organisation", &h.organisation, kMaxNameBytes, false},
                             {"reference", &h.reference, kMaxNameBytes, false},
                             {"note", &h.note, kMaxTextBytes, false}}));
  if (body->contains("at") && !(*body)["at"].is_null()) {
    auto at = TimeMember(*body, "at");
    if (!at.ok()) return at.status();
    h.at = *at;
  }
  h.authorised_by = h.recorded_by = call.user().user_id;
  auto e = ctx.db.GetExport(h.export_id);
  if (!e.ok()) return FromRecords(e.status(), "read the export");
  if (!*e) return NotFound("no export " + std::to_string(h.export_id));
  auto r = LoadRequest(ctx, (*e)->request_id);
  if (!r.ok()) return r.status();
  CUSTODIAN_RETURN_IF_ERROR(CheckScope(ctx, call, *r, Use::kAct));
  // The police guide asks who took the footage: the officer's collar or warrant number.
  if (r->type == records::RequestType::kPolice && h.reference.empty()) {
    return InvalidArgument(
        "a police handover records the officer's collar or warrant number in \"reference\"");
  }
  requests::Workflow workflow(ctx.db, ctx.clock);
  int64_t id = 0;
  auto recorded = Change(ctx, call,
                         "export " + std::to_string(h.export_id) + " of " + RequestText(r->id) +
                             " handed over (" + *method_name + ")",
                         [&]() -> Status {
                           auto d = workflow.RecordDisclosure(h);
                           if (!d.ok()) return d.status();
                           id = *d;
                           return Status::Ok();
                         });
  if (!recorded.ok()) return recorded.status();
  return Json({{"id", id}}, 201);
}

Result<HttpResponse> HandleListDisclosures(ApiContext& ctx, const Call& call) {
  auto range = RangeParams(call.request, kMaxListingSpanUs);
  if (!range.ok()) return range.status();
  auto rows = ctx.db.ListDisclosures(range->from, range->to);
  if (!rows.ok()) return FromRecords(rows.status(), "list disclosures");
  auto people = People::Load(ctx);
  if (!people.ok()) return people.status();
  json list = json::array();
  for (const auto& d : *rows) list.push_back(DisclosureJson(d, *people));
  CUSTODIAN_RETURN_IF_ERROR(LogRead(ctx, call,
                                    "disclosures " + FormatUtc(range->from) + " to " +
                                        FormatUtc(range->to) + "; " + std::to_string(rows->size()) +
                                        " rows"));
  return Json({{"disclosures", list}});
}

Result<HttpResponse> HandleStatistics(ApiContext& ctx, const Call& call) {
  const std::string* month = call.request.Query("month");
  int y = 0, m = 0;
  const bool valid = month && month->size() == 7 && (*month)[4] == '-' &&
                     std::all_of(month->begin(), month->end(),
                                 [](char c) { return c == '-' || (c >= '0' && c <= '9'); }) &&
                     std::sscanf(month->c_str(), "%4d-%2d", &y, &m) == 2 && m >= 1 && m <= 12 &&
                     y >= 2000 && y <= 2200;
  if (!valid) return InvalidArgument("month must be YYYY-MM");
  auto stats = requests::ComputeMonthlyStatistics(ctx.db, y, m, ctx.clock.Now());
  if (!stats.ok()) return FromRecords(stats.status(), "compute the statistics");
  CUSTODIAN_RETURN_IF_ERROR(LogRead(ctx, call, "statistics " + *month));
  HttpResponse r;
  r.body = requests::ToJson(*stats);
  return r;
}

}  // namespace custodian::api
