#include "api/purpose.h"

#include <algorithm>

namespace custodian::api {

namespace {

constexpr size_t kMaxLoggedOfferBytes = 200;

struct Offered {
  const std::string* category = nullptr;
  const std::string* text = nullptr;
};

Offered Find(const HttpRequest& r) {
  Offered o;
  o.category = r.Query("purpose");
  o.text = r.Query("purpose_text");
  if (!o.category) o.category = r.Header("x-purpose");
  if (!o.text) o.text = r.Header("x-purpose-text");
  return o;
}

std::string Shorten(const std::string* s) {
  if (!s) return "";
  std::string out = s->substr(0, kMaxLoggedOfferBytes);
  // Cutting may split a UTF-8 sequence; drop a trailing partial one.
  while (!out.empty() && !IsPrintableUtf8(out)) out.pop_back();
  return out;
}

size_t CountCodePoints(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

const std::vector<std::string>& PurposeCategories() {
  static const std::vector<std::string> kCategories = {"incident_review", "request", "safeguarding",
                                                       "crime_prevention", "system_check"};
  return kCategories;
}

bool IsPurposeCategory(const std::string& category) {
  const auto& all = PurposeCategories();
  return std::find(all.begin(), all.end(), category) != all.end();
}

bool IsPrintableUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (extra > 0 && i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += 1 + extra;
  }
  return true;
}

Result<Purpose> PurposeOf(const HttpRequest& request) {
  Offered o = Find(request);
  const auto& categories = PurposeCategories();
  if (!o.category || o.category->empty()) {
    return InvalidArgument(
        "a stated purpose is required to view footage: give purpose=<category> and "
        "purpose_text=<why> (or the X-Purpose and X-Purpose-Text headers)");
  }
  if (std::find(categories.begin(), categories.end(), *o.category) == categories.end()) {
    return InvalidArgument(
        "unknown purpose category; use one of incident_review, request, "
        "safeguarding, crime_prevention, system_check");
  }
  if (!o.text || !IsPrintableUtf8(*o.text) || o.text->size() > kMaxPurposeTextBytes ||
      CountCodePoints(*o.text) < kMinPurposeTextChars) {
    return InvalidArgument("purpose_text must say why, in 3 to 500 printable characters");
  }
  return Purpose{*o.category, *o.text};
}

Purpose OfferedPurpose(const HttpRequest& request) {
  Offered o = Find(request);
  return Purpose{Shorten(o.category), Shorten(o.text)};
}

std::string PurposeQuery(const Purpose& p) {
  return "purpose=" + PercentEncode(p.category) + "&purpose_text=" + PercentEncode(p.text);
}

}  // namespace custodian::api
