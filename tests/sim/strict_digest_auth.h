// A GstRTSPAuth that demands RFC 7616 Digest as the strictest cameras do: SHA-256, qop
// "auth-int" only (the request body hashed into the answer) and userhash=true (the user name
// sent as H(user:realm)). gst-rtsp-server's own Digest offers only MD5 without qop, so the
// simulator uses this one when asked (`--digest auth-int-userhash`), to test clients against
// a real RTSP server that needs those parts of the RFC.
//
// The answer is checked here from the RFC's formulas; only the hash function (OpenSSL, via
// base/http_digest.h) is shared with the client under test. One nonce per server. Requests
// without a valid answer get the default token; the media factories' roles then answer 401
// with this class's challenge. Like any GstRTSPAuth, it is used from the server's threads;
// its users are fixed before the server starts.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <string>

namespace custodian::sim {

// A new auth object (one reference, the caller's) for `realm`.
GstRTSPAuth* NewStrictDigestAuth(const std::string& realm);
// Adds a user whose valid requests get `token` (the auth takes a reference).
void StrictDigestAddUser(GstRTSPAuth* auth, const std::string& user, const std::string& password,
                         GstRTSPToken* token);
// The token of requests without valid credentials (the auth takes a reference).
void StrictDigestSetDefaultToken(GstRTSPAuth* auth, GstRTSPToken* token);

}  // namespace custodian::sim
