#include "media/rtsp/certificate_pin.h"

#include <sstream>

namespace custodian::media::rtsp {

namespace {

constexpr uint64_t kMaxPinFileBytes = 4096;

bool IsSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Format(const CertificatePin& pin) {
  std::string out =
      "pinned " + pin.sha256 + " " + FormatUtc(pin.pinned_at) + " " + pin.pinned_by + "\n";
  if (pin.expires) out += "pinned_expires " + FormatUtc(*pin.expires) + "\n";
  if (!pin.subject.empty()) out += "pinned_subject " + pin.subject + "\n";
  if (!pin.presented.empty()) {
    out += "presented " + pin.presented + " " + FormatUtc(pin.presented_at) + "\n";
    if (pin.presented_expires)
      out += "presented_expires " + FormatUtc(*pin.presented_expires) + "\n";
    if (!pin.presented_subject.empty()) out += "presented_subject " + pin.presented_subject + "\n";
  }
  return out;
}

// Printable ASCII of bounded length, as PeerCertificate promises; anything else in a file
// means it is damaged.
bool IsSubject(const std::string& s) {
  if (s.empty() || s.size() > kMaxCertificateSubjectLength) return false;
  for (char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

Result<CertificatePin> Parse(const std::string& text, const std::string& path) {
  CertificatePin pin;
  std::istringstream in(text);
  std::string line;
  const Status damaged = DataLoss("the certificate pin " + path + " is damaged");
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "pinned_subject" || key == "presented_subject") {
      if (!IsSubject(rest)) return damaged;
      (key == "pinned_subject" ? pin.subject : pin.presented_subject) = rest;
      continue;
    }
    if (key == "pinned_expires" || key == "presented_expires") {
      UtcMicros at;
      if (!ParseUtc(rest, &at)) return damaged;
      (key == "pinned_expires" ? pin.expires : pin.presented_expires) = at;
      continue;
    }
    std::istringstream words(rest);
    std::string sha, when;
    words >> sha >> when;
    UtcMicros at;
    if (!IsSha256Hex(sha) || !ParseUtc(when, &at)) return damaged;
    if (key == "pinned") {
      pin.sha256 = sha;
      pin.pinned_at = at;
      std::getline(words >> std::ws, pin.pinned_by);
    } else if (key == "presented") {
      pin.presented = sha;
      pin.presented_at = at;
    } else {
      return damaged;
    }
  }
  if (pin.sha256.empty()) return damaged;
  if (pin.presented.empty()) {
    pin.presented_subject.clear();
    pin.presented_expires.reset();
  }
  return pin;
}

Status Write(Filesystem& fs, const std::string& path, const CertificatePin& pin) {
  CUSTODIAN_RETURN_IF_ERROR(fs.CreateDirs(DirName(path)));
  return WriteFileAtomically(fs, path, Format(pin));
}

}  // namespace

std::string CertificatePinPath(const std::string& data_dir, const std::string& camera_id) {
  return JoinPath(JoinPath(data_dir, "state/tls"), camera_id + ".pin");
}

Result<std::optional<CertificatePin>> ReadCertificatePin(Filesystem& fs, const std::string& path) {
  auto text = ReadFileToString(fs, path, kMaxPinFileBytes);
  if (!text.ok()) {
    if (text.status().kind() == ErrorKind::kNotFound) return std::optional<CertificatePin>();
    return text.status();
  }
  auto pin = Parse(*text, path);
  if (!pin.ok()) return pin.status();
  return std::optional<CertificatePin>(std::move(pin).value());
}

Result<PinCheck> CheckCertificate(Filesystem& fs, const std::string& path,
                                  const PeerCertificate& certificate, UtcMicros now) {
  const std::string& sha256 = certificate.sha256;
  if (!IsSha256Hex(sha256)) return InvalidArgument("the camera presented no certificate");
  const std::string subject = IsSubject(certificate.subject) ? certificate.subject : "";
  auto pin = ReadCertificatePin(fs, path);
  if (!pin.ok()) return pin.status();
  if (!*pin) {
    CertificatePin first{sha256, now, "first use", "", {}, subject, certificate.not_after, "", {}};
    CUSTODIAN_RETURN_IF_ERROR(Write(fs, path, first));
    return PinCheck::kFirstUse;
  }
  CertificatePin p = **pin;
  if (p.sha256 == sha256) {
    const bool fill =
        (p.subject.empty() && !subject.empty()) || (!p.expires && certificate.not_after);
    if (!p.presented.empty() || fill) {
      p.presented.clear();
      p.presented_subject.clear();
      p.presented_expires.reset();
      if (p.subject.empty()) p.subject = subject;
      if (!p.expires) p.expires = certificate.not_after;
      CUSTODIAN_RETURN_IF_ERROR(Write(fs, path, p));
    }
    return PinCheck::kMatches;
  }
  if (p.presented != sha256) {
    p.presented = sha256;
    p.presented_at = now;
    p.presented_subject = subject;
    p.presented_expires = certificate.not_after;
    CUSTODIAN_RETURN_IF_ERROR(Write(fs, path, p));
  }
  return PinCheck::kChanged;
}

Result<CertificatePin> AcceptPresentedCertificate(Filesystem& fs, const std::string& path,
                                                  const std::string& sha256, const std::string& by,
                                                  UtcMicros now) {
  auto pin = ReadCertificatePin(fs, path);
  if (!pin.ok()) return pin.status();
  if (!*pin || (*pin)->presented.empty()) {
    return FailedPrecondition("the camera has presented no new certificate to accept");
  }
  if ((*pin)->presented != sha256) {
    return FailedPrecondition("the camera now presents another certificate, " + (*pin)->presented +
                              "; check it and accept that one");
  }
  CertificatePin accepted{
      sha256, now, by, "", {}, (*pin)->presented_subject, (*pin)->presented_expires, "", {}};
  CUSTODIAN_RETURN_IF_ERROR(Write(fs, path, accepted));
  return accepted;
}

}  // namespace custodian::media::rtsp
