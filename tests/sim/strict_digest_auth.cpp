#include "tests/sim/strict_digest_auth.h"

#include <openssl/rand.h>

#include <array>
#include <map>

#include "base/http_digest.h"
#include "base/sha256.h"

namespace custodian::sim {

namespace {

namespace http_auth = custodian::http_auth;
constexpr char kAlgorithm[] = "SHA-256";

struct User {
  std::string password;
  GstRTSPToken* token;
};

// What the GObject carries: fixed before the server serves anyone, then read only.
struct StrictDigestState {
  std::string realm;
  std::string nonce;
  std::map<std::string, User> users;  // by name
  GstRTSPToken* default_token = nullptr;

  ~StrictDigestState() {
    for (auto& [name, user] : users) gst_rtsp_token_unref(user.token);
    if (default_token) gst_rtsp_token_unref(default_token);
  }
};

std::string H(const std::string& data) { return http_auth::DigestHash(kAlgorithm, data); }

// The user whose credentials `authorization` carries validly for this request, or null.
const User* Verify(const StrictDigestState& s, const http_auth::AuthScheme& credentials,
                   GstRTSPContext* ctx) {
  auto param = [&](const char* name) {
    auto it = credentials.params.find(name);
    return it == credentials.params.end() ? std::string() : it->second;
  };
  const char* request_uri = ctx->request->type_data.request.uri;
  if (credentials.scheme != "digest" || param("algorithm") != kAlgorithm ||
      param("qop") != "auth-int" || param("userhash") != "true" || param("realm") != s.realm ||
      param("nonce") != s.nonce || !request_uri || param("uri") != request_uri) {
    return nullptr;
  }
  for (const auto& [name, user] : s.users) {
    if (param("username") != H(name + ":" + s.realm)) continue;
    guint8* body = nullptr;
    guint body_size = 0;
    gst_rtsp_message_get_body(ctx->request, &body, &body_size);
    const std::string body_hash =
        H(std::string(reinterpret_cast<const char*>(body), body ? body_size : 0));
    const std::string ha1 = H(name + ":" + s.realm + ":" + user.password);
    const std::string ha2 =
        H(std::string(gst_rtsp_method_as_text(ctx->method)) + ":" + request_uri + ":" + body_hash);
    const std::string expected =
        H(ha1 + ":" + s.nonce + ":" + param("nc") + ":" + param("cnonce") + ":auth-int:" + ha2);
    return param("response") == expected ? &user : nullptr;
  }
  return nullptr;
}

struct StrictDigestAuth {
  GstRTSPAuth parent;
  StrictDigestState* state;
};
struct StrictDigestAuthClass {
  GstRTSPAuthClass parent_class;
};

G_DEFINE_TYPE(StrictDigestAuth, strict_digest_auth, GST_TYPE_RTSP_AUTH)

static void strict_digest_auth_init(StrictDigestAuth* self) {
  self->state = new StrictDigestState;
  std::array<unsigned char, 16> random{};
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  self->state->nonce = ToHex(random.data(), random.size());
}

static void strict_digest_auth_finalize(GObject* object) {
  delete reinterpret_cast<StrictDigestAuth*>(object)->state;
  G_OBJECT_CLASS(strict_digest_auth_parent_class)->finalize(object);
}

static gboolean strict_digest_auth_authenticate(GstRTSPAuth* auth, GstRTSPContext* ctx) {
  const StrictDigestState& s = *reinterpret_cast<StrictDigestAuth*>(auth)->state;
  ctx->token = s.default_token;
  gchar* value = nullptr;
  for (gint i = 0; gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_AUTHORIZATION, &value,
                                               i) == GST_RTSP_OK;
       ++i) {
    for (const http_auth::AuthScheme& credentials : http_auth::ParseAuthHeader(value)) {
      if (const User* user = Verify(s, credentials, ctx)) {
        ctx->token = user->token;
        return TRUE;
      }
    }
  }
  return TRUE;
}

static void strict_digest_auth_generate_authenticate_header(GstRTSPAuth* auth,
                                                            GstRTSPContext* ctx) {
  const StrictDigestState& s = *reinterpret_cast<StrictDigestAuth*>(auth)->state;
  const std::string challenge = "Digest realm=\"" + s.realm + "\", nonce=\"" + s.nonce +
                                "\", algorithm=" + kAlgorithm + ", qop=\"auth-int\", userhash=true";
  gst_rtsp_message_add_header(ctx->response, GST_RTSP_HDR_WWW_AUTHENTICATE, challenge.c_str());
}

static void strict_digest_auth_class_init(StrictDigestAuthClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = strict_digest_auth_finalize;
  GstRTSPAuthClass* auth = GST_RTSP_AUTH_CLASS(klass);
  auth->authenticate = strict_digest_auth_authenticate;
  auth->generate_authenticate_header = strict_digest_auth_generate_authenticate_header;
}

}  // namespace

GstRTSPAuth* NewStrictDigestAuth(const std::string& realm) {
  auto* auth = static_cast<StrictDigestAuth*>(g_object_new(strict_digest_auth_get_type(), nullptr));
  auth->state->realm = realm;
  return GST_RTSP_AUTH(auth);
}

void StrictDigestAddUser(GstRTSPAuth* auth, const std::string& user, const std::string& password,
                         GstRTSPToken* token) {
  auto& users = reinterpret_cast<StrictDigestAuth*>(auth)->state->users;
  if (auto it = users.find(user); it != users.end()) gst_rtsp_token_unref(it->second.token);
  users[user] = {password, gst_rtsp_token_ref(token)};
}

void StrictDigestSetDefaultToken(GstRTSPAuth* auth, GstRTSPToken* token) {
  StrictDigestState& s = *reinterpret_cast<StrictDigestAuth*>(auth)->state;
  if (s.default_token) gst_rtsp_token_unref(s.default_token);
  s.default_token = gst_rtsp_token_ref(token);
}

}  // namespace custodian::sim
