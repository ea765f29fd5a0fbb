// One function per route (see routes.h for the URLs and docs/ref/openapi.yaml for the
// contract). Grouped by file: handlers_auth.cpp, handlers_cameras.cpp,
// handlers_footage.cpp, handlers_audit.cpp (access log, deletions), handlers_users.cpp,
// handlers_holds.cpp, handlers_health.cpp (health, metrics, web UI hook).
#pragma once

#include "api/handler_support.h"

namespace custodian::api {

Result<HttpResponse> HandleHealthz(ApiContext&, const Call&);
Result<HttpResponse> HandleMetrics(ApiContext&, const Call&);
Result<HttpResponse> HandleLogin(ApiContext&, const Call&);
Result<HttpResponse> HandleLogout(ApiContext&, const Call&);
Result<HttpResponse> HandleSession(ApiContext&, const Call&);
Result<HttpResponse> HandleChangePassword(ApiContext&, const Call&);
Result<HttpResponse> HandleListCameras(ApiContext&, const Call&);
Result<HttpResponse> HandleTimeline(ApiContext&, const Call&);
Result<HttpResponse> HandlePlaylist(ApiContext&, const Call&);
Result<HttpResponse> HandleThumbnail(ApiContext&, const Call&);
Result<HttpResponse> HandleSegmentFile(ApiContext&, const Call&);
Result<HttpResponse> HandleAccessLog(ApiContext&, const Call&);
Result<HttpResponse> HandleAccessLogCsv(ApiContext&, const Call&);
Result<HttpResponse> HandleListUsers(ApiContext&, const Call&);
Result<HttpResponse> HandleCreateUser(ApiContext&, const Call&);
Result<HttpResponse> HandleUpdateUser(ApiContext&, const Call&);
Result<HttpResponse> HandleSetUserCameras(ApiContext&, const Call&);
Result<HttpResponse> HandleListHolds(ApiContext&, const Call&);
Result<HttpResponse> HandleCreateHold(ApiContext&, const Call&);
Result<HttpResponse> HandleReleaseHold(ApiContext&, const Call&);
Result<HttpResponse> HandleListDeletions(ApiContext&, const Call&);
Result<HttpResponse> HandleWebAsset(ApiContext&, const Call&);

}  // namespace custodian::api
