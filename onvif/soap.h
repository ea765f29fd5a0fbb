// SOAP 1.2 messages for the few ONVIF calls Custodian makes, with WS-Security's
// UsernameToken (PasswordDigest) and the reading of replies and faults.
//
// Errors of a reply, by kind:
//   kUnauthenticated     the device refused the credentials (HTTP 401, or a fault whose
//                        subcode is NotAuthorized): the message is kRefusedCredentials;
//   kInvalidArgument     the reply is not a SOAP envelope, is malformed, or lacks what the
//                        call returns (the message says what is missing);
//   kFailedPrecondition  the device answered with another fault (its reason is quoted,
//                        made printable and cut short).
// No message ever contains the password, the digest or the nonce.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "onvif/xml.h"

namespace custodian::onvif {

inline constexpr char kRefusedCredentials[] = "the camera refused the user name or password";

struct Credentials {
  std::string username;  // empty: the request carries no security header
  std::string password;
};

// base64(SHA-1(nonce + created + password)), as WS-Security's UsernameToken profile 1.0
// defines PasswordDigest; nonce is the raw bytes, created the xsd:dateTime text sent.
std::string PasswordDigest(std::string_view nonce, std::string_view created,
                           std::string_view password);

// base64 and its inverse (standard alphabet, padded); Base64Decode fails on anything else.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

// A whole SOAP 1.2 envelope around `body_xml` (which uses the prefixes tds, trt and tt of
// ONVIF's device, media and schema namespaces), with a UsernameToken when credentials
// has a username. `created` is the UTC time as xsd:dateTime; the nonce is 16 random bytes.
std::string Envelope(std::string_view body_xml, const Credentials& credentials,
                     const std::string& created);

// The current UTC time as xsd:dateTime ("2026-12-07T09:15:00Z").
std::string NowXsdDateTime();

// The first element inside the reply's Body, after the checks above. `doc` receives the
// parsed reply, which the returned node points into.
Result<const xmlNode*> ReplyBody(std::string_view reply, int http_status, Xml* doc);

}  // namespace custodian::onvif
