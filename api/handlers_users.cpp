// Account administration (admin only): list, create, change role, disable, set cameras.
// Every change writes an access-log entry naming the account and what changed.
//
// Four-eyes on privilege: the manager, DPO and admin roles are granted only when
// a second privileged person confirms. An admin who creates such an account, or changes an
// account's role to one of them, makes a pending grant (the account is staff, or keeps its
// role, until then); another admin or the DPO, neither the requester nor the account
// itself, confirms or refuses it. Taking a role away (to staff) needs no second person.
// `custodian setup`'s first admin and `custodian user add` on the box's console are outside
// this rule: they need root on the appliance, which can change the records anyway.
#include <algorithm>
#include <optional>
#include <set>

#include "api/handlers.h"
#include "config/camera_config.h"

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
    // A sub stream is seen through its camera's permission, never granted on its own.
    if (config::IsSubStreamId(id) ||
        std::none_of(known->begin(), known->end(), [&](const auto& c) { return c.id == id; })) {
      return InvalidArgument("unknown camera " + id);
    }
    ids.insert(id);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

bool IsPrivileged(Role r) { return r != Role::kStaff; }

nlohmann::json GrantJson(const records::RoleGrantRow& g) {
  return {{"id", g.id},
          {"user_id", g.user_id},
          {"role", records::Name(g.role)},
          {"requested_by", g.requested_by},
          {"requested", TimeJson(g.requested)},
          {"state", records::Name(g.state)},
          {"decided_by", g.decided_by ? nlohmann::json(*g.decided_by) : nlohmann::json()},
          {"decided", TimeJson(g.decided)}};
}

// Inside a transaction: a pending grant of `role` and its access-log entry.
Result<int64_t> RequestGrant(ApiContext& ctx, const Call& call, int64_t user_id,
                             const std::string& user_name, Role role) {
  auto grant = ctx.db.RequestRoleGrant(user_id, role, call.user().user_id);
  if (!grant.ok()) return grant.status();
  CUSTODIAN_RETURN_IF_ERROR(LogChange(
      ctx, call, "role_grant_request",
      "grant " + std::to_string(*grant) + ": account " + std::to_string(user_id) + " " +
          user_name + " role " + records::Name(role) +
          " (takes effect when another admin or the dpo confirms)"));
  return *grant;
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

  // A privileged role starts as a pending grant; the account is staff until it is confirmed.
  const Role first_role = IsPrivileged(*role) ? Role::kStaff : *role;
  int64_t id = 0;
  std::optional<int64_t> grant;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    auto created = ctx.db.CreateUser({**name, first_role, *hash, /*must_change_password=*/true});
    if (!created.ok()) return created.status();
    id = *created;
    for (const auto& c : *cameras) CUSTODIAN_RETURN_IF_ERROR(ctx.db.GrantCamera(id, c));
    CUSTODIAN_RETURN_IF_ERROR(LogChange(ctx, call, "user_create",
                                        "account " + std::to_string(id) + " " + **name +
                                            " role " + records::Name(first_role) +
                                            " cameras " + Joined(*cameras)));
    if (first_role == *role) return Status::Ok();
    auto g = RequestGrant(ctx, call, id, **name, *role);
    if (!g.ok()) return g.status();
    grant = *g;
    return Status::Ok();
  });
  if (st.kind() == ErrorKind::kAlreadyExists) return AlreadyExists("that name is taken");
  if (!st.ok()) return FromRecords(st, "create the account");
  nlohmann::json out = {{"id", id}, {"role", records::Name(first_role)}};
  if (grant) out["pending_grant"] = {{"id", *grant}, {"role", records::Name(*role)}};
  return Json(out, 201);
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
  std::optional<int64_t> grant;
  Status st = ctx.db.WithTransaction([&]() -> Status {
    if (role && IsPrivileged(*role) && *role != target->role) {
      auto g = RequestGrant(ctx, call, target->id, target->name, *role);
      if (!g.ok()) return g.status();
      grant = *g;
    } else if (role) {
      // Down to staff (or the role it has): no second person needed; any pending grant
      // for the account is void.
      CUSTODIAN_RETURN_IF_ERROR(ctx.db.SupersedeRoleGrants(target->id));
      if (*role != target->role) {
        CUSTODIAN_RETURN_IF_ERROR(ctx.db.SetUserRole(target->id, *role));
        CUSTODIAN_RETURN_IF_ERROR(
            LogChange(ctx, call, "role_change",
                      who + ": " + records::Name(target->role) + " -> " + records::Name(*role)));
      }
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
  nlohmann::json out = UserJson(*updated);
  if (!grant) return Json(out);
  out["pending_grant"] = {{"id", *grant}, {"role", records::Name(*role)}};
  return Json(out, 202);
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

Result<HttpResponse> HandleListRoleGrants(ApiContext& ctx, const Call& call) {
  constexpr int64_t kMaxGrantRows = 200;
  auto grants = ctx.db.ListRoleGrants(kMaxGrantRows);
  if (!grants.ok()) return FromRecords(grants.status(), "list role grants");
  auto users = ctx.db.ListUsers();
  if (!users.ok()) return FromRecords(users.status(), "list accounts");
  auto name_of = [&](std::optional<int64_t> id) -> nlohmann::json {
    if (!id) return nullptr;
    for (const auto& u : *users) {
      if (u.id == *id) return u.name;
    }
    return nullptr;
  };
  const int64_t me = call.user().user_id;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& g : *grants) {
    nlohmann::json j = GrantJson(g);
    j["user_name"] = name_of(g.user_id);
    j["requested_by_name"] = name_of(g.requested_by);
    j["decided_by_name"] = name_of(g.decided_by);
    for (const auto& u : *users) {
      if (u.id == g.user_id) j["current_role"] = records::Name(u.role);
    }
    j["you_may_decide"] = g.state == records::GrantState::kPending && g.requested_by != me &&
                          g.user_id != me;
    list.push_back(std::move(j));
  }
  return Json({{"grants", list}});
}

Result<HttpResponse> HandleDecideRoleGrant(ApiContext& ctx, const Call& call) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return body.status();
  auto it = body->find("confirm");
  if (it == body->end() || !it->is_boolean()) {
    return InvalidArgument("give \"confirm\": true to confirm the grant or false to refuse it");
  }
  const bool confirm = it->get<bool>();
  auto grant = ctx.db.GetRoleGrant(*call.params.id);
  if (!grant.ok()) return FromRecords(grant.status(), "read the role grant");
  if (!*grant) return NotFound("no role grant " + std::to_string(*call.params.id));
  const records::RoleGrantRow& g = **grant;
  const int64_t me = call.user().user_id;
  if (g.requested_by == me) {
    return PermissionDenied("you asked for this grant: another admin or the dpo must decide it");
  }
  if (g.user_id == me) return PermissionDenied("a grant to your own account is decided by someone else");
  if (g.state != records::GrantState::kPending) {
    return FailedPrecondition("this grant is " + std::string(records::Name(g.state)) +
                              ", not pending");
  }
  auto target = ctx.db.GetUserById(g.user_id);
  if (!target.ok()) return FromRecords(target.status(), "read the account");
  const std::string who = "account " + std::to_string(g.user_id) + " " +
                          (*target ? (*target)->name : std::string("?"));
  const std::string before = *target ? records::Name((*target)->role) : "?";
  Status st = ctx.db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db.DecideRoleGrant(g.id, me, confirm));
    CUSTODIAN_RETURN_IF_ERROR(LogChange(
        ctx, call, confirm ? "role_grant_confirm" : "role_grant_refuse",
        "grant " + std::to_string(g.id) + ": " + who + " role " + records::Name(g.role) +
            ", asked for by account " + std::to_string(g.requested_by)));
    if (!confirm) return Status::Ok();
    return LogChange(ctx, call, "role_change",
                     who + ": " + before + " -> " + records::Name(g.role) + " (grant " +
                         std::to_string(g.id) + ")");
  });
  if (st.kind() == ErrorKind::kFailedPrecondition) return FailedPrecondition("this grant is no longer pending");
  if (!st.ok()) return FromRecords(st, "decide the role grant");
  auto decided = ctx.db.GetRoleGrant(g.id);
  if (!decided.ok() || !*decided) return FromRecords(decided.status(), "read the role grant");
  return Json(GrantJson(**decided));
}

}  // namespace custodian::api
