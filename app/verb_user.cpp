// `custodian user ...`: account administration at the console, for the first admin and
// for recovery. Passwords are read from stdin (one line; with a terminal, twice and
// without echo) and never taken from the command line, where `ps` would show them.
// Every change is written to the access log as done by "(console)".
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "api/passwords.h"
#include "app/site_context.h"

namespace custodian {

namespace {

constexpr char kUsage[] =
    "usage: custodian user add NAME --role staff|manager|dpo|admin [--camera ID]...\n"
    "       custodian user passwd NAME\n"
    "       custodian user disable NAME\n"
    "       custodian user enable NAME\n"
    "       custodian user list\n";

int Usage() {
  std::fputs(kUsage, stderr);
  return kExitUsage;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "custodian: user: %s\n", what.c_str());
  return kExitFailure;
}

bool ReadLine(const char* prompt, bool tty, std::string* out) {
  if (tty) std::fprintf(stderr, "%s", prompt);
  bool ok = static_cast<bool>(std::getline(std::cin, *out));
  if (tty) std::fprintf(stderr, "\n");
  return ok;
}

// One line from stdin; on a terminal, asked twice without echo.
Result<std::string> ReadNewPassword() {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string first, second;
  bool ok = ReadLine("new password: ", tty, &first);
  if (ok && tty) ok = ReadLine("again: ", tty, &second);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (!ok) return InvalidArgument("no password on stdin");
  if (tty && first != second) return InvalidArgument("the passwords differ");
  CUSTODIAN_RETURN_IF_ERROR(api::CheckNewPassword(first));
  return first;
}

Status LogConsoleChange(records::Database& db, const std::string& action,
                        const std::string& detail) {
  records::AccessEntry e;
  e.user_name = "(console)";
  e.action = action;
  e.client = "console";
  e.detail = detail;
  auto id = db.AppendAccess(e);
  return id.ok() ? Status::Ok() : id.status();
}

Result<records::UserRow> FindUser(records::Database& db, const std::string& name) {
  auto user = db.GetUserByName(name);
  if (!user.ok()) return user.status();
  if (!*user) return NotFound("no account named " + name);
  return **user;
}

int Add(SiteContext& ctx, const std::vector<std::string>& args) {
  if (args.size() < 2) return Usage();
  const std::string name = args[1];
  std::optional<records::Role> role;
  std::vector<std::string> cameras;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--role" && i + 1 < args.size()) {
      role = records::ParseRole(args[++i]);
      if (!role) return Usage();
    } else if (args[i] == "--camera" && i + 1 < args.size()) {
      cameras.push_back(args[++i]);
    } else {
      return Usage();
    }
  }
  if (!role || name.empty() || name.size() > 64) return Usage();
  for (const auto& id : cameras) {
    const config::CameraConfig* cam = nullptr;
    for (const auto& c : ctx.site.cameras) cam = c.id == id ? &c : cam;
    if (!cam) return Fail("camera " + id + " is not in " + ctx.site.path);
    Status st =
        ctx.db().UpsertCamera({cam->id, cam->name, {}, cam->make, cam->model, cam->firmware});
    if (!st.ok()) return Fail(st.ToString());
  }
  auto password = ReadNewPassword();
  if (!password.ok()) return Fail(password.status().message());
  auto hash = api::HashPassword(*password);
  if (!hash.ok()) return Fail(hash.status().message());
  int64_t id = 0;
  Status st = ctx.db().WithTransaction([&]() -> Status {
    auto created = ctx.db().CreateUser({name, *role, *hash, /*must_change_password=*/false});
    if (!created.ok()) return created.status();
    id = *created;
    for (const auto& c : cameras) CUSTODIAN_RETURN_IF_ERROR(ctx.db().GrantCamera(id, c));
    return LogConsoleChange(ctx.db(), "user_create",
                            "account " + std::to_string(id) + " " + name + " role " +
                                records::Name(*role) + " cameras " +
                                std::to_string(cameras.size()));
  });
  if (st.kind() == ErrorKind::kAlreadyExists) return Fail("an account named " + name + " exists");
  if (!st.ok()) return Fail(st.ToString());
  std::printf("account %lld %s created with role %s\n", static_cast<long long>(id), name.c_str(),
              records::Name(*role));
  return kExitOk;
}

int Passwd(SiteContext& ctx, const std::string& name) {
  auto user = FindUser(ctx.db(), name);
  if (!user.ok()) return Fail(user.status().message());
  auto password = ReadNewPassword();
  if (!password.ok()) return Fail(password.status().message());
  auto hash = api::HashPassword(*password);
  if (!hash.ok()) return Fail(hash.status().message());
  Status st = ctx.db().WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db().SetPasswordHash(user->id, *hash, false));
    CUSTODIAN_RETURN_IF_ERROR(ctx.db().ResetFailedLogins(user->id));
    CUSTODIAN_RETURN_IF_ERROR(ctx.db().DeleteUserSessions(user->id));
    return LogConsoleChange(ctx.db(), "password_reset",
                            "account " + std::to_string(user->id) + " " + user->name);
  });
  if (!st.ok()) return Fail(st.ToString());
  std::printf("password of %s changed; its sessions are ended\n", user->name.c_str());
  return kExitOk;
}

int SetDisabled(SiteContext& ctx, const std::string& name, bool disabled) {
  auto user = FindUser(ctx.db(), name);
  if (!user.ok()) return Fail(user.status().message());
  Status st = ctx.db().WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(ctx.db().SetUserDisabled(user->id, disabled));
    if (disabled) CUSTODIAN_RETURN_IF_ERROR(ctx.db().DeleteUserSessions(user->id));
    return LogConsoleChange(ctx.db(), disabled ? "account_disabled" : "account_enabled",
                            "account " + std::to_string(user->id) + " " + user->name);
  });
  if (!st.ok()) return Fail(st.ToString());
  std::printf("%s %s\n", user->name.c_str(), disabled ? "disabled" : "enabled");
  return kExitOk;
}

int List(SiteContext& ctx) {
  auto users = ctx.db().ListUsers();
  if (!users.ok()) return Fail(users.status().ToString());
  std::printf("%-6s %-24s %-8s %-9s %s\n", "id", "name", "role", "state", "cameras");
  for (const auto& u : *users) {
    auto cams = ctx.db().ListCameraPermissions(u.id);
    std::string list;
    if (cams.ok()) {
      for (const auto& c : *cams) list += (list.empty() ? "" : ",") + c;
    }
    const char* state = u.disabled                                                ? "disabled"
                        : (u.locked_until && *u.locked_until > ctx.clock().Now()) ? "locked"
                                                                                  : "active";
    std::printf("%-6lld %-24s %-8s %-9s %s\n", static_cast<long long>(u.id), u.name.c_str(),
                records::Name(u.role), state, list.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunUser(const GlobalOptions& opts, const std::vector<std::string>& args) {
  if (args.empty()) return Usage();
  const std::string& sub = args[0];
  const bool named = sub == "passwd" || sub == "disable" || sub == "enable";
  if ((named && args.size() != 2) || (sub == "list" && args.size() != 1)) return Usage();
  if (!named && sub != "add" && sub != "list") return Usage();
  auto opened = SiteContext::Open(opts);
  if (!opened.ok()) return ReportOpenError(opened.status());
  SiteContext& ctx = **opened;
  if (sub == "add") return Add(ctx, args);
  if (sub == "passwd") return Passwd(ctx, args[1]);
  if (sub == "disable") return SetDisabled(ctx, args[1], true);
  if (sub == "enable") return SetDisabled(ctx, args[1], false);
  return List(ctx);
}

}  // namespace custodian
