#include "retention/max_age.h"

#include <algorithm>
#include <charconv>

namespace custodian::retention {

namespace {

using Kind = MaxAgeAction::Kind;

std::optional<int> ParseDays(const std::string& text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

// Decides one camera whose effective age is already on record.
void DecideCamera(const CameraMaxAge& cam, int effective, UtcMicros now, int64_t delay_us,
                  MaxAgeDecision* out) {
  const int configured = cam.configured_days;
  auto act = [&](Kind kind, int old_days, int new_days, int64_t change_id, UtcMicros at) {
    out->actions.push_back({kind, cam.camera_id, old_days, new_days, change_id, at});
  };
  if (configured > effective) {
    act(Kind::kLengthen, effective, configured, 0, now);
    effective = configured;
  }
  bool scheduled = false;  // an open change already brings effective down to configured
  for (const records::PolicyChangeRow& change : cam.open_changes) {
    const std::optional<int> days = ParseDays(change.new_value);
    // Changes the config no longer asks for: shorter than configured now, or no longer
    // a shortening of what is in force.
    if (!days || *days < configured || *days >= effective) {
      act(Kind::kCancel, effective, days.value_or(0), change.id, change.effective);
      continue;
    }
    if (change.effective <= now) {
      act(Kind::kApply, effective, *days, change.id, change.effective);
      effective = *days;
    } else if (*days == configured) {
      scheduled = true;
    }
  }
  if (configured < effective && !scheduled) {
    const UtcMicros at = now + delay_us;
    act(Kind::kSchedule, effective, configured, 0, at);
    if (delay_us <= 0) {
      act(Kind::kApply, effective, configured, 0, at);
      effective = configured;
    }
  }
  out->effective_days[cam.camera_id] = effective;
}

records::AccessEntry SystemEntry(const MaxAgeAction& a) {
  records::AccessEntry e;
  e.user_name = "system";
  e.action = "retention_policy_change";
  e.camera_id = a.camera_id;
  e.purpose_category = "retention";
  e.purpose_text = "storage limitation: footage kept no longer than the policy allows";
  e.client = "custodian retain";
  e.detail = Describe(a);
  return e;
}

Status ApplyOne(records::Database& db, const Clock& clock, const MaxAgeAction& a,
                std::map<std::string, int64_t>* scheduled_ids) {
  const std::string key = MaxAgeSettingKey(a.camera_id);
  switch (a.kind) {
    case Kind::kInitial:
    case Kind::kLengthen:
      CUSTODIAN_RETURN_IF_ERROR(db.SetSetting(key, std::to_string(a.new_days), std::nullopt));
      break;
    case Kind::kSchedule: {
      records::PolicyChangeRow row;
      row.camera_id = a.camera_id;
      row.key = kMaxAgeChangeKey;
      row.old_value = std::to_string(a.old_days);
      row.new_value = std::to_string(a.new_days);
      // The records refuse a change effective before it was requested, which a zero delay
      // would be by the time it is written.
      row.effective = std::max(a.effective, clock.Now());
      auto id = db.SchedulePolicyChange(row);
      if (!id.ok()) return id.status();
      (*scheduled_ids)[a.camera_id] = *id;
      break;
    }
    case Kind::kApply: {
      const int64_t id = a.change_id != 0 ? a.change_id : (*scheduled_ids)[a.camera_id];
      CUSTODIAN_RETURN_IF_ERROR(db.MarkPolicyChangeApplied(id));
      CUSTODIAN_RETURN_IF_ERROR(db.SetSetting(key, std::to_string(a.new_days), std::nullopt));
      break;
    }
    case Kind::kCancel:
      CUSTODIAN_RETURN_IF_ERROR(db.CancelPolicyChange(a.change_id));
      break;
  }
  auto logged = db.AppendAccess(SystemEntry(a));
  return logged.ok() ? Status::Ok() : logged.status();
}

}  // namespace

std::string MaxAgeSettingKey(const std::string& camera_id) {
  return "retention.max_age_days." + camera_id;
}

MaxAgeDecision DecideMaxAges(const std::vector<CameraMaxAge>& cameras, UtcMicros now,
                             int64_t shorten_delay_us) {
  MaxAgeDecision out;
  for (const CameraMaxAge& cam : cameras) {
    if (!cam.effective_days) {
      // Nothing on record to shorten from: the config's age is the first effective one.
      out.actions.push_back({Kind::kInitial, cam.camera_id, 0, cam.configured_days, 0, now});
      for (const records::PolicyChangeRow& change : cam.open_changes) {
        out.actions.push_back({Kind::kCancel, cam.camera_id, 0, 0, change.id, change.effective});
      }
      out.effective_days[cam.camera_id] = cam.configured_days;
      continue;
    }
    DecideCamera(cam, *cam.effective_days, now, shorten_delay_us, &out);
  }
  return out;
}

Result<std::vector<CameraMaxAge>> LoadMaxAges(records::Database& db,
                                              const std::map<std::string, int>& configured) {
  auto open = db.ListOpenPolicyChanges();
  if (!open.ok()) return open.status();
  std::vector<CameraMaxAge> out;
  for (const auto& [camera, days] : configured) {
    CameraMaxAge cam;
    cam.camera_id = camera;
    cam.configured_days = days;
    auto stored = db.GetSetting(MaxAgeSettingKey(camera));
    if (!stored.ok()) return stored.status();
    if (*stored) cam.effective_days = ParseDays(**stored);
    for (const records::PolicyChangeRow& change : *open) {
      if (change.camera_id == camera && change.key == kMaxAgeChangeKey) {
        cam.open_changes.push_back(change);
      }
    }
    out.push_back(std::move(cam));
  }
  return out;
}

Status ApplyMaxAgeActions(records::Database& db, const Clock& clock,
                          const std::vector<MaxAgeAction>& actions) {
  std::map<std::string, int64_t> scheduled_ids;
  for (const MaxAgeAction& a : actions) {
    CUSTODIAN_RETURN_IF_ERROR(
        db.WithTransaction([&]() -> Status { return ApplyOne(db, clock, a, &scheduled_ids); }));
  }
  return Status::Ok();
}

std::string Describe(const MaxAgeAction& a) {
  const std::string cam = "camera " + a.camera_id + ": max age ";
  const std::string from_to =
      " from " + std::to_string(a.old_days) + " to " + std::to_string(a.new_days) + " days";
  switch (a.kind) {
    case Kind::kInitial:
      return cam + std::to_string(a.new_days) + " days on record (first retention pass)";
    case Kind::kLengthen:
      return cam + "lengthened" + from_to + ", effective at once";
    case Kind::kSchedule:
      return cam + "shortening" + from_to + " scheduled, effective " + FormatUtc(a.effective);
    case Kind::kApply:
      return cam + "shortened" + from_to + " (delayed change now in effect)";
    case Kind::kCancel:
      return cam + "pending shortening to " + std::to_string(a.new_days) +
             " days cancelled: the config no longer asks for it";
  }
  return cam + "unknown change";
}

}  // namespace custodian::retention
