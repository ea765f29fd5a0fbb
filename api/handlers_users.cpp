// Account administration (admin only): list, create, change role, disable, set cameras.
// Every change writes an access-log entry naming the account and what changed.
#include <algorithm>
#include <optional>
#include <set>

#include "api/handlers.h"

namespace custodian::api {

namespace {

using records::AccessResult;
using records::Role;

constexpr size_t kMaxUserNameBytes = 64;
constexpr size_t kMaxCamerasPerRequest = 1000;

// Inside a transaction: the entry commits with the change it describes.
Status LogChange(ApiContext& ctx, const Call& call, const std::string& action,
                 const std::string& detail) {
  records::AccessEntry e = EntryFor(call, AccessResult::kOk, detail);
  e.action = action;
  return RecordChange(ctx, e);
}

Result<Role> RoleMember(const nlohmann::json& body) {
  auto role = StringMember(body, "role", 16, true);
  if (!role.ok()) return role.status();
  auto parsed = records::ParseRole(**role);
  if (!parsed) return InvalidArgument("role must be staff, manager, dpo or admin");
  return *parsed;
}

// The "cameras" member: known camera ids, without repeats.
Result<std::vector<std::string>> CamerasMember(ApiContext& ctx, const nlohmann::json& body) {
  auto it = body.find("cameras");
  if (it == body.end()) return std::vector<std::string>();
  if (!it->is_array() || it->size() > kMaxCamerasPerRequest) {
    return InvalidArgument("cameras must be an array of camera ids");
  }
  auto known = ctx.db.ListCameras();
  if (!known.ok()) return FromRecords(known.status(), "list cameras");
  std::set<std::string> ids;
  for (const auto& v : *it) {
    if (!v.is_string() || !IsValidCameraId(v.get<std::string>())) {
      return InvalidArgument("cameras must be an array of camera ids");
    }
    const std::string id = v.get<std::string>();
    if (std::none_of(known->begin(), known->end(), [&](const auto& c) { return c.id == id; })) {
      return InvalidArgument("unknown camera " + id);
    }
    ids.insert(id);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "(none)" : out;
}

Result<records::UserRow> TargetUser(ApiContext& ctx, const Call& call) {
  auto user = ctx.db.GetUserById(*call.params.id);
  if (!user.ok()) return FromRecords(user.status(), "read the account");
  if (!*user) return NotFound("no account " + std::to_string(*call.params.id));
  return std::move(**user);
}

Status ReplaceCameras(ApiContext& ctx, const Call& call, const records::UserRow& user,
                      const std::vector<std::string>& want) {
  const int64_t user_id = user.id;
  return ctx.db.WithTransaction([&]() -> Status {
    auto have = ctx.db.ListCameraPermissions(user_id);
    if (!have.ok()) return have.status();
    for (const auto& c : *have) {
      if (!std::binary_search(want.begin(), want.end(), c)) {
        CUSTODIAN_RETURN_IF_ERROR(ctx.db.RevokeCamera(user_id, c));
      }
    }
    for (const auto& c : want) CUSTODIAN_RETURN_IF_ERROR(ctx.db.GrantCamera(user_id, c));
    return LogChange(
        ctx, call, "permission_change",
        "account " + std::to_string(user_id) + " " + user.name + " cameras " + Joined(want));
  });
}

}  // namespace

Result<HttpResponse> HandleListUsers(ApiContext& ctx, const Call&) {
  auto users = ctx.db.ListUsers();
  if (!users.ok()) return FromRecords(users.status(), "list accounts");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& u : *users) {
    auto cams = ctx.db.ListCameraPermissions(u.id);
    if (!cams.ok()) return FromRecords(cams.status(), "read camera permissions");
    nlohmann::json j = UserJson(u);
    j["cameras"] = *cams;
    list.push_back(std::move(j));
  }
  return Json({{"users", list}});
}

Result<HttpResponse> HandleCreateUser(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto name = StringMember(*body, "name", kMaxUserNameBytes, true);
  if (!name.ok()) return name.status();
  if ((*name)->empty()) return InvalidArgument("name must not be empty");
  auto role = RoleMember(*body);
  if (!role.ok()) return role.status();
  auto password = StringMember(*body, "password", kMaxPasswordBytes, true);
  if (!password.ok()) return password.status();
  CUSTODIAN_RETURN_IF_ERROR(CheckNewPassword(**password));
  auto cameras = CamerasMember(ctx, *body);
  if (!cameras.ok()) return cameras.status();
  auto hash = HashPassword(**password, ctx.options.sessions.password_cost);
  if (!hash.ok()) return hash.status();

  int64_t id = 0;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto created = ctx.db.CreateUser({**name, *role, *hash, /*must_change_password=*/true});
    if (!created.ok()) return created.status();
    id = *created;
    for (const auto& c : *cameras) CUSTODIAN_RETURN_IF_ERROR(ctx.db.GrantCamera(id, c));
    return LogChange(ctx, call, "user_create",
                     "account " + std::to_string(id) + " " + **name + " role " +
                         records::Name(*role) + " cameras " + Joined(*cameras));
  });
  if (st.kind() == ErrorKind::kAlreadyExists) return AlreadyExists("that name is taken");
  if (!st.ok()) return FromRecords(st, "create the account");
  return Json({{"id", id}}, 201);
}

Result<HttpResponse> HandleUpdateUser(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto target = TargetUser(ctx, call);
  if (!target.ok()) return target.status();
  // Everything is checked before anything changes.
  std::optional<Role> role;
  if (body->contains("role")) {
    auto r = RoleMember(*body);
    if (!r.ok()) return r.status();
    role = *r;
  }
  std::optional<bool> disabled;
  if (body->contains("disabled")) {
    const auto& v = (*body)["disabled"];
    if (!v.is_boolean()) return InvalidArgument("\"disabled\" must be true or false");
    disabled = v.get<bool>();
  }
  if (!role && !disabled) return InvalidArgument("give \"role\" and/or \"disabled\"");
  const bool self = target->id == call.user().user_id;
  if (self && role && *role != target->role) {
    return FailedPrecondition("admins cannot change their own role");
  }
  if (self && disabled.value_or(false)) {
    return FailedPrecondition("admins cannot disable their own account");
  }

  const std::string who = "account " + std::to_string(target->id) + " " + target->name;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    if (role) {
      CUSTODIAN_RETURN_IF_ERROR(ctx.db.SetUserRole(target->id, *role));
      CUSTODIAN_RETURN_IF_ERROR(
          LogChange(ctx, call, "role_change",
                    who + ": " + records::Name(target->role) + " -> " + records::Name(*role)));
    }
    if (disabled) {
      CUSTODIAN_RETURN_IF_ERROR(ctx.db.SetUserDisabled(target->id, *disabled));
      if (*disabled) CUSTODIAN_RETURN_IF_ERROR(ctx.db.DeleteUserSessions(target->id));
      CUSTODIAN_RETURN_IF_ERROR(
          LogChange(ctx, call, *disabled ? "account_disabled" : "account_enabled", who));
    }
    return Status::Ok();
  });
  if (!st.ok()) return FromRecords(st, "change the account");
  if (disabled && *disabled) ctx.viewings.EndUser(target->id, "ended: the account was disabled");
  auto updated = TargetUser(ctx, call);
  if (!updated.ok()) return updated.status();
  return Json(UserJson(*updated));
}

Result<HttpResponse> HandleSetUserCameras(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  if (!body->contains("cameras")) return InvalidArgument("missing \"cameras\"");
  auto target = TargetUser(ctx, call);
  if (!target.ok()) return target.status();
  auto cameras = CamerasMember(ctx, *body);
  if (!cameras.ok()) return cameras.status();
  Status st = ReplaceCameras(ctx, call, *target, *cameras);
  if (!st.ok()) return FromRecords(st, "set camera permissions");
  return Json({{"id", target->id}, {"cameras", *cameras}});
}

}  // namespace custodian::api
