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
Result<HttpResponse> HandleSaveStill(ApiContext&, const Call&);
Result<HttpResponse> HandleActivity(ApiContext&, const Call&);
Result<HttpResponse> HandleActivitySearch(ApiContext&, const Call&);
Result<HttpResponse> HandleSegmentFile(ApiContext&, const Call&);
// Live view (handlers_live.cpp).
Result<HttpResponse> HandleLivePlaylist(ApiContext&, const Call&);
Result<HttpResponse> HandleLivePicture(ApiContext&, const Call&);
Result<HttpResponse> HandleLiveSegmentFile(ApiContext&, const Call&);
Result<HttpResponse> HandleAccessLog(ApiContext&, const Call&);
Result<HttpResponse> HandleAccessLogCsv(ApiContext&, const Call&);
Result<HttpResponse> HandleListUsers(ApiContext&, const Call&);
Result<HttpResponse> HandleCreateUser(ApiContext&, const Call&);
Result<HttpResponse> HandleUpdateUser(ApiContext&, const Call&);
Result<HttpResponse> HandleSetUserCameras(ApiContext&, const Call&);
Result<HttpResponse> HandleListRoleGrants(ApiContext&, const Call&);
Result<HttpResponse> HandleDecideRoleGrant(ApiContext&, const Call&);
Result<HttpResponse> HandleListHolds(ApiContext&, const Call&);
Result<HttpResponse> HandleCreateHold(ApiContext&, const Call&);
Result<HttpResponse> HandleReleaseHold(ApiContext&, const Call&);
Result<HttpResponse> HandleListDeletions(ApiContext&, const Call&);
// Footage requests, disclosures and statistics (handlers_requests.cpp); exports and the
// signing key (handlers_exports.cpp).
Result<HttpResponse> HandleLogRequest(ApiContext&, const Call&);
Result<HttpResponse> HandleListRequests(ApiContext&, const Call&);
Result<HttpResponse> HandleGetRequest(ApiContext&, const Call&);
Result<HttpResponse> HandleAddVerification(ApiContext&, const Call&);
Result<HttpResponse> HandleSubmitRequest(ApiContext&, const Call&);
Result<HttpResponse> HandleDecideRequest(ApiContext&, const Call&);
Result<HttpResponse> HandleRequestRules(ApiContext&, const Call&);
Result<HttpResponse> HandleExtendDeadline(ApiContext&, const Call&);
Result<HttpResponse> HandleStopClock(ApiContext&, const Call&);
Result<HttpResponse> HandleRestartClock(ApiContext&, const Call&);
Result<HttpResponse> HandleSubjectNotification(ApiContext&, const Call&);
Result<HttpResponse> HandleWithdrawRequest(ApiContext&, const Call&);
Result<HttpResponse> HandleCloseRequest(ApiContext&, const Call&);
Result<HttpResponse> HandleStartExport(ApiContext&, const Call&);
Result<HttpResponse> HandleGetExport(ApiContext&, const Call&);
Result<HttpResponse> HandleCancelExport(ApiContext&, const Call&);
Result<HttpResponse> HandleJustifyUnredacted(ApiContext&, const Call&);
Result<HttpResponse> HandleEncryptedZip(ApiContext&, const Call&);
Result<HttpResponse> HandleDownloadExport(ApiContext&, const Call&);
// Redaction of an export (handlers_redactions.cpp).
Result<HttpResponse> HandleStartRedaction(ApiContext&, const Call&);
Result<HttpResponse> HandleGetRedaction(ApiContext&, const Call&);
Result<HttpResponse> HandleRedactionContactSheet(ApiContext&, const Call&);
Result<HttpResponse> HandleRedactedVideo(ApiContext&, const Call&);
Result<HttpResponse> HandleRedactionOriginal(ApiContext&, const Call&);
Result<HttpResponse> HandleSignOffRedaction(ApiContext&, const Call&);
Result<HttpResponse> HandleRecordDisclosure(ApiContext&, const Call&);
Result<HttpResponse> HandleListDisclosures(ApiContext&, const Call&);
Result<HttpResponse> HandleStatistics(ApiContext&, const Call&);
Result<HttpResponse> HandleSigningKey(ApiContext&, const Call&);
// Camera administration (handlers_cameras.cpp) and the chain status (handlers_audit.cpp).
Result<HttpResponse> HandleVerifyAccessLog(ApiContext&, const Call&);
Result<HttpResponse> HandleAccessCheckpoint(ApiContext&, const Call&);
Result<HttpResponse> HandleCreateCamera(ApiContext&, const Call&);
Result<HttpResponse> HandleUpdateCamera(ApiContext&, const Call&);
Result<HttpResponse> HandleTestCamera(ApiContext&, const Call&);
Result<HttpResponse> HandleAcceptCameraCertificate(ApiContext&, const Call&);
// ONVIF discovery (handlers_discovery.cpp).
Result<HttpResponse> HandleDiscoverCameras(ApiContext&, const Call&);
Result<HttpResponse> HandleCameraStreams(ApiContext&, const Call&);
Result<HttpResponse> HandleWebAsset(ApiContext&, const Call&);
// Health and alarms (handlers_alarms.cpp); account recovery (handlers_users.cpp).
Result<HttpResponse> HandleHealthStatus(ApiContext&, const Call&);
Result<HttpResponse> HandleListAlarms(ApiContext&, const Call&);
Result<HttpResponse> HandleAcknowledgeAlarm(ApiContext&, const Call&);
Result<HttpResponse> HandleUnlockUser(ApiContext&, const Call&);
Result<HttpResponse> HandleResetPassword(ApiContext&, const Call&);
// The health figures in Prometheus text, for /metrics (handlers_alarms.cpp).
std::string HealthMetrics(ApiContext& ctx);
// A camera's clock as last measured in the past day, against the limit: state ok, adrift
// or unknown (no sender reports), offset_us, measured, limit_us and a text in words
// (handlers_alarms.cpp).
Result<nlohmann::json> CameraClockJson(ApiContext& ctx, const std::string& camera,
                                       int64_t limit_us);

}  // namespace custodian::api
