// The stated purpose that every request revealing footage must carry.
//
// A purpose is a category from a fixed list plus the user's own words. It travels either
// as query parameters (`purpose=<category>&purpose_text=<text>`, which a video player
// fetching playlist entries can carry) or as headers (`X-Purpose`, `X-Purpose-Text`); when
// both are present the query parameters win. Without a valid purpose the request is
// refused and the refusal is logged.
#pragma once

#include <string>
#include <vector>

#include "api/http.h"
#include "base/status.h"

namespace custodian::api {

inline constexpr size_t kMinPurposeTextChars = 3;
inline constexpr size_t kMaxPurposeTextBytes = 500;

struct Purpose {
  std::string category;
  std::string text;
};

// incident_review, request, safeguarding, crime_prevention, system_check.
const std::vector<std::string>& PurposeCategories();
bool IsPurposeCategory(const std::string& category);

// The request's purpose, or kInvalidArgument saying what is missing or wrong.
Result<Purpose> PurposeOf(const HttpRequest& request);
// Whatever purpose the request offered, shortened, for logging a refusal.
Purpose OfferedPurpose(const HttpRequest& request);
// The purpose as query parameters, for URLs that a player will fetch.
std::string PurposeQuery(const Purpose& purpose);

// Whether s is well-formed UTF-8 with no control characters (no newlines, tabs or NULs).
bool IsPrintableUtf8(const std::string& s);

}  // namespace custodian::api
