#include "base/http_digest.h"

#include <catch2/catch.hpp>
#include <string>

namespace custodian::http_auth {
namespace {

// RFC 7616 section 3.9.1's request, for which the RFC gives the answers under qop auth.
DigestChallenge Rfc7616Challenge(const std::string& algorithm, Qop qop) {
  DigestChallenge c;
  c.realm = "http-auth@example.org";
  c.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  c.opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
  c.algorithm = algorithm;
  c.qop = qop;
  return c;
}
constexpr char kRfc7616Cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

TEST_CASE("digest responses match the examples of RFC 7616 and RFC 2617") {
  const DigestRequest get{"GET", "/dir/index.html", ""};
  auto answer = [&](const DigestChallenge& c, const char* password, const char* cnonce,
                    const char* nc) {
    return DigestResponse(c, get, "Mufasa", password, cnonce, nc);
  };
  CHECK(answer(Rfc7616Challenge("MD5", Qop::kAuth), "Circle of Life", kRfc7616Cnonce, "00000001") ==
        "8ca523f5e9506fed4657c9700eebdbec");
  CHECK(answer(Rfc7616Challenge("SHA-256", Qop::kAuth), "Circle of Life", kRfc7616Cnonce,
               "00000001") == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  // -sess hashes the nonces into HA1 (computed independently with Python's hashlib).
  CHECK(answer(Rfc7616Challenge("SHA-256-sess", Qop::kAuth), "Circle of Life", kRfc7616Cnonce,
               "00000001") == "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");
  DigestChallenge old;  // RFC 2617 section 3.5, and the same without qop (RFC 2069)
  old.realm = "testrealm@host.com";
  old.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  old.algorithm = "MD5";
  old.qop = Qop::kAuth;
  CHECK(answer(old, "Circle Of Life", "0a4f113b", "00000001") ==
        "6629fae49393a05397450978507c4ef1");
  old.qop = Qop::kNone;
  CHECK(answer(old, "Circle Of Life", "", "") == "670fd8c2df070c60b045671b8b24ff02");
}

// The values below were computed independently with Python's hashlib (sha256, sha512_256)
// from RFC 7616's formulas.
TEST_CASE("qop auth-int hashes the request body into the answer") {
  const DigestChallenge c = Rfc7616Challenge("SHA-256", Qop::kAuthInt);
  const DigestRequest post{"POST", "/onvif/Media", "<s:Envelope/>"};
  const std::string with_body =
      DigestResponse(c, post, "Mufasa", "Circle of Life", kRfc7616Cnonce, "00000001");
  CHECK(with_body == "32c4b929681abed45b78b5cc5e43c35410ad887bb2f8a8821c4d4e89a38b49e7");
  CHECK(DigestResponse(c, {"POST", "/onvif/Media", ""}, "Mufasa", "Circle of Life", kRfc7616Cnonce,
                       "00000001") ==
        "594004459f37f627f3e7edb73ce3f527357590d98e48d2cc5b311f0d05c8b31a");
  const std::string header =
      DigestAuthorization(c, post, "Mufasa", "Circle of Life", 1, kRfc7616Cnonce);
  CHECK(header.find("qop=auth-int, nc=00000001") != std::string::npos);
  CHECK(header.find("response=\"" + with_body + "\"") != std::string::npos);
}

TEST_CASE("userhash sends the user name hashed with the realm and never in clear") {
  DigestChallenge c = Rfc7616Challenge("SHA-256", Qop::kAuth);
  c.userhash = true;
  CHECK(DigestUsername(c, "Mufasa") ==
        "a947aad205e80e429958a387394944c6b496301e79f89d35a4cc23b6ee12b5b6");
  const std::string header =
      DigestAuthorization(c, {"GET", "/dir/index.html", ""}, "Mufasa", "Circle of Life");
  auto parsed = ParseAuthHeader(header);
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].params["username"] == DigestUsername(c, "Mufasa"));
  CHECK(parsed[0].params["userhash"] == "true");
  CHECK(header.find("Mufasa") == std::string::npos);
  // The answer itself is computed from the plain name (RFC 7616 section 3.4.4).
  CHECK(parsed[0].params["response"] == DigestResponse(c, {"GET", "/dir/index.html", ""}, "Mufasa",
                                                       "Circle of Life", parsed[0].params["cnonce"],
                                                       "00000001"));
  // SHA-512-256 with RFC 7616 section 3.9.2's user, realm and nonces.
  DigestChallenge sha512;
  sha512.realm = "api@example.org";
  sha512.nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK";
  sha512.algorithm = "SHA-512-256";
  sha512.userhash = true;
  CHECK(DigestUsername(sha512, "J\xc3\xa4s\xc3\xb8n Doe") ==
        "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
  CHECK(DigestResponse(sha512, {"GET", "/doe.json", ""}, "J\xc3\xa4s\xc3\xb8n Doe",
                       "Secret, or not?", "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
                       "00000001") ==
        "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
}

TEST_CASE("the authorization answers the challenge with quoted values and no line breaks") {
  DigestChallenge c{"cam \"A\"", "n0nce", "op", "SHA-256", Qop::kAuth};
  const DigestRequest post{"POST", "/onvif/Media", "<x/>"};
  const std::string a = DigestAuthorization(c, post, "ad\"min", "pw");
  auto parsed = ParseAuthHeader(a);
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].scheme == "digest");
  CHECK(parsed[0].params["username"] == "ad\"min");
  CHECK(parsed[0].params["realm"] == "cam \"A\"");
  CHECK(parsed[0].params["uri"] == "/onvif/Media");
  CHECK(parsed[0].params["algorithm"] == "SHA-256");
  CHECK(parsed[0].params["qop"] == "auth");
  CHECK(parsed[0].params["nc"] == "00000001");
  CHECK(parsed[0].params["opaque"] == "op");
  CHECK(parsed[0].params.count("userhash") == 0);
  CHECK(parsed[0].params["response"] ==
        DigestResponse(c, post, "ad\"min", "pw", parsed[0].params["cnonce"], "00000001"));
  CHECK(a.find("pw") == std::string::npos);
  CHECK(a.find_first_of("\r\n") == std::string::npos);
  CHECK(DigestAuthorization(c, post, "u", "p", 0x1a).find("nc=0000001a") != std::string::npos);
}

TEST_CASE("the digest challenge chosen is the strongest offered and Basic is never answered") {
  auto both = ChooseDigestChallenge(
      {"Basic realm=\"cam\", Digest realm=\"cam, east\", qop=\"auth,auth-int\", "
       "nonce=\"abc\", algorithm=MD5",
       "Digest realm=\"cam\", qop=\"auth\", nonce=\"def\", algorithm=SHA-256, stale=FALSE"});
  REQUIRE(both.ok());
  CHECK(both->algorithm == "SHA-256");
  CHECK(both->nonce == "def");
  CHECK(both->qop == Qop::kAuth);
  CHECK_FALSE(both->stale);
  auto md5 = ChooseDigestChallenge(
      {"Digest realm=\"cam, east\", qop=\"auth-int, auth\", nonce=\"abc\", stale=true"});
  REQUIRE(md5.ok());
  CHECK(md5->algorithm == "MD5");  // no algorithm means MD5
  CHECK(md5->realm == "cam, east");
  CHECK(md5->qop == Qop::kAuth);  // auth when both are offered
  CHECK(md5->stale);
  auto rfc2069 = ChooseDigestChallenge({"Digest realm=\"cam\", nonce=\"abc\""});
  REQUIRE(rfc2069.ok());
  CHECK(rfc2069->qop == Qop::kNone);
  auto strict = ChooseDigestChallenge(
      {"Digest realm=\"c\", qop=\"auth-int\", nonce=\"a\", algorithm=SHA-256, userhash=true",
       "Digest realm=\"c\", nonce=\"a\", algorithm=SHA-512-256-sess",
       "Digest realm=\"c\", nonce=\"b\", algorithm=MD5"});
  REQUIRE(strict.ok());
  CHECK(strict->algorithm == "SHA-512-256-sess");
  auto auth_int = ChooseDigestChallenge(
      {"Digest realm=\"c\", qop=\"auth-int\", nonce=\"a\", algorithm=SHA-256, userhash=TRUE"});
  REQUIRE(auth_int.ok());
  CHECK(auth_int->qop == Qop::kAuthInt);
  CHECK(auth_int->userhash);

  auto basic = ChooseDigestChallenge({"Basic realm=\"cam\""});
  REQUIRE_FALSE(basic.ok());
  CHECK(basic.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(basic.status().message().find("offered: basic") != std::string::npos);
  CHECK_FALSE(ChooseDigestChallenge({"Digest realm=\"c\", qop=\"auth-conf\", nonce=\"a\""}).ok());
  CHECK_FALSE(ChooseDigestChallenge({"Digest realm=\"c\", nonce=\"a\", algorithm=SHA-1"}).ok());
  CHECK_FALSE(ChooseDigestChallenge({"Digest realm=\"c\", nonce=\"a\r\nX-Injected: 1\""}).ok());
  CHECK_FALSE(ChooseDigestChallenge({"Digest realm=\"c\""}).ok());  // no nonce
  CHECK_FALSE(ChooseDigestChallenge({}).ok());
  CHECK(ParseAuthHeader("Negotiate YWJj==, Digest nonce=\"x\"").back().params["nonce"] == "x");
}

}  // namespace
}  // namespace custodian::http_auth
