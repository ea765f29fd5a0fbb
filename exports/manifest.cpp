#include "exports/manifest.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

namespace custodian::exports {

namespace {

using Json = nlohmann::ordered_json;

void PutTime(Json& j, const std::string& key, const std::optional<UtcMicros>& t,
             const TimeZone& zone) {
  if (!t) {
    j[key + "_utc"] = nullptr;
    j[key + "_local"] = nullptr;
    return;
  }
  j[key + "_utc"] = FormatUtc(*t);
  j[key + "_local"] = zone.FormatLocal(*t);
}

Json Person(const ManifestPerson& p) { return Json{{"user_id", p.user_id}, {"name", p.name}}; }

Json ClockJson(const std::vector<ManifestSegment>& segments) {
  int64_t synced = 0;
  std::optional<int64_t> worst;
  for (const ManifestSegment& s : segments) {
    if (s.clock_synced) ++synced;
    if (s.clock_offset_us) {
      int64_t a = std::llabs(*s.clock_offset_us);
      if (!worst || a > *worst) worst = a;
    }
  }
  Json j;
  j["segments"] = segments.size();
  j["synchronised"] = synced;
  j["unsynchronised"] = static_cast<int64_t>(segments.size()) - synced;
  j["largest_camera_offset_ms"] = worst ? Json(*worst / 1000) : Json(nullptr);
  j["summary"] = ClockQualityText(segments);
  return j;
}

// The UK offsets in force across the export's ranges, e.g. ["+00:00 (GMT)", "+01:00 (BST)"].
Json Offsets(const Manifest& m, const TimeZone& zone) {
  std::set<std::string> seen;
  Json out = Json::array();
  auto add = [&](UtcMicros t) {
    std::string o = zone.FormatOffset(t);
    if (seen.insert(o).second) out.push_back(o);
  };
  for (const ManifestRange& r : m.ranges) {
    add(r.covered_from.value_or(r.from));
    // Sample hourly: a range may cross a change of the clocks.
    for (int64_t t = r.from.us; t < r.to.us; t += 3600 * kMicrosPerSecond) add(UtcMicros{t});
    add(r.covered_to.value_or(r.to) - 1);
  }
  return out;
}

}  // namespace

std::string ClockQualityText(const std::vector<ManifestSegment>& segments) {
  if (segments.empty()) return "no footage was exported";
  int64_t synced = 0;
  int64_t worst = -1;
  for (const ManifestSegment& s : segments) {
    if (s.clock_synced) ++synced;
    if (s.clock_offset_us) worst = std::max<int64_t>(worst, std::llabs(*s.clock_offset_us));
  }
  std::string text;
  if (synced == static_cast<int64_t>(segments.size())) {
    text = "all " + std::to_string(segments.size()) +
           " segments were recorded with the appliance clock synchronised to network time";
  } else {
    text = std::to_string(static_cast<int64_t>(segments.size()) - synced) + " of " +
           std::to_string(segments.size()) +
           " segments were recorded while the appliance clock was NOT synchronised to network "
           "time; their times may be off";
  }
  if (worst >= 0) {
    text += "; camera clocks differed from the appliance by at most " +
            std::to_string(worst / 1000) + " ms";
  }
  return text;
}

namespace {

Json RequestJson(const Manifest& m) {
  Json req;
  req["id"] = m.request_id;
  req["type"] = m.request_type;
  req["reference"] = m.reference;
  req["requester_organisation"] = m.requester_organisation;
  req["legal_basis"] = m.legal_basis;
  req["legal_basis_text"] = m.legal_basis_text;
  req["legal_basis_detail"] = m.legal_basis_detail;
  return req;
}

// Each camera's time asked for and the footage found for it.
Json RangesJson(const Manifest& m, const TimeZone& zone) {
  Json ranges = Json::array();
  for (const ManifestRange& r : m.ranges) {
    Json jr;
    jr["camera_id"] = r.camera_id;
    jr["camera_name"] = r.camera_name;
    jr["camera_make"] = r.camera_make;
    jr["camera_model"] = r.camera_model;
    jr["camera_firmware"] = r.camera_firmware;
    PutTime(jr, "requested_from", r.from, zone);
    PutTime(jr, "requested_to", r.to, zone);
    PutTime(jr, "covered_from", r.covered_from, zone);
    PutTime(jr, "covered_to", r.covered_to, zone);
    jr["files"] = r.files;
    ranges.push_back(jr);
  }
  return ranges;
}

Json GapsJson(const Manifest& m, const TimeZone& zone) {
  Json gaps = Json::array();
  for (const ManifestGap& g : m.gaps) {
    Json jg;
    jg["camera_id"] = g.camera_id;
    PutTime(jg, "from", g.from, zone);
    PutTime(jg, "to", g.to, zone);
    jg["seconds"] = static_cast<double>(g.to - g.from) / kMicrosPerSecond;
    jg["reason"] = g.reason;
    gaps.push_back(jg);
  }
  return gaps;
}

// A file of the package; a video also says what it is evidence of and where it came from.
Json FileJson(const ManifestFile& f, const TimeZone& zone) {
  Json jf;
  jf["path"] = f.path;
  jf["kind"] = f.kind;
  jf["bytes"] = f.bytes;
  jf["sha256"] = f.sha256;
  if (f.kind == "video" || f.kind == "original" || f.kind == "burned_in") {
    // Only the master (the recorded files, bit for bit) is evidence of what was
    // recorded; a working copy is made from it (its video bytes are the master's); a
    // burned-in copy is re-encoded from a working copy.
    jf["role"] = f.kind == "original" ? "master exhibit"
                 : f.kind == "video"  ? "working copy"
                                      : "derived working copy (re-encoded, time drawn in)";
    if (!f.derived_from.empty()) jf["derived_from"] = f.derived_from;
    jf["camera_id"] = f.camera_id;
    PutTime(jf, "from", f.from, zone);
    PutTime(jf, "to", f.to, zone);
    jf["video_codec"] = f.video_codec;
    jf["width"] = f.width;
    jf["height"] = f.height;
    jf["source_segments"] = f.source_segments;
    if (f.timed_text_track != 0) {
      jf["timed_text"] = {
          {"track_id", f.timed_text_track},
          {"format", "mov_text (MP4 tx3g)"},
          {"shows", "UK local date and time (GMT or BST) and camera name, once a second"},
          {"video", "the video track's samples are the recorded bytes, not re-encoded"}};
    }
  }
  return jf;
}

// The recorded segments the export was made from.
Json SegmentsJson(const Manifest& m, const TimeZone& zone) {
  Json segments = Json::array();
  for (const ManifestSegment& s : m.segments) {
    Json js;
    js["id"] = s.id;
    js["camera_id"] = s.camera_id;
    js["file_name"] = s.file_name;
    PutTime(js, "start", s.start, zone);
    PutTime(js, "end", s.end, zone);
    js["bytes"] = s.bytes;
    js["sha256"] = s.sha256;
    js["sha256_verified"] = s.sha256_verified;
    js["clock_synchronised"] = s.clock_synced;
    js["camera_clock_offset_us"] = s.clock_offset_us ? Json(*s.clock_offset_us) : Json(nullptr);
    js["video_codec"] = s.video_codec;
    js["width"] = s.width;
    js["height"] = s.height;
    segments.push_back(js);
  }
  return segments;
}

}  // namespace

std::string ManifestJson(const Manifest& m, const TimeZone& zone) {
  Json j;
  j["format"] = kManifestFormat;
  j["export_id"] = m.export_id;
  j["site"] = m.site_name;
  j["request"] = RequestJson(m);
  j["exporter"] = Person(m.exporter);
  Json approver = Person(m.approver);
  PutTime(approver, "approved", m.approved, zone);
  j["approver"] = approver;
  PutTime(j, "created", m.created, zone);
  j["software"] = Json{
      {"name", "custodian"}, {"version", m.software_version}, {"revision", m.software_revision}};
  j["signing_key_id"] = m.key_id;
  j["redacted"] = m.redacted;
  j["time"] = Json{{"zone", zone.name()},
                   {"offsets", Offsets(m, zone)},
                   {"note",
                    "Times ending in Z are UTC. *_local times are UK civil time "
                    "with their offset from UTC: +00:00 is GMT, +01:00 is BST."}};
  j["clock"] = ClockJson(m.segments);

  j["ranges"] = RangesJson(m, zone);
  j["gaps"] = GapsJson(m, zone);
  Json files = Json::array();
  for (const ManifestFile& f : m.files) files.push_back(FileJson(f, zone));
  j["files"] = files;
  j["source_segments"] = SegmentsJson(m, zone);
  return j.dump(2) + "\n";
}

Result<ManifestSummary> ParseManifest(const std::string& text) {
  ManifestSummary s;
  try {
    Json j = Json::parse(text);
    s.format = j.at("format").get<std::string>();
    if (s.format != kManifestFormat) {
      return InvalidArgument("manifest: unknown format '" + s.format + "'");
    }
    s.export_id = j.at("export_id").get<int64_t>();
    s.reference = j.at("request").at("reference").get<std::string>();
    s.created_utc = j.at("created_utc").get<std::string>();
    s.key_id = j.at("signing_key_id").get<std::string>();
    s.site_name = j.value("site", "");
    auto time = [](const Json& o, const std::string& key) -> std::optional<UtcMicros> {
      UtcMicros t;
      if (!o.contains(key) || !o[key].is_string() || !ParseUtc(o[key].get<std::string>(), &t)) {
        return std::nullopt;
      }
      return t;
    };
    for (const Json& f : j.at("files")) {
      ManifestFile mf;
      mf.path = f.at("path").get<std::string>();
      mf.kind = f.at("kind").get<std::string>();
      mf.bytes = f.at("bytes").get<int64_t>();
      mf.sha256 = f.at("sha256").get<std::string>();
      if (mf.kind == "video") {
        mf.camera_id = f.value("camera_id", "");
        mf.from = time(f, "from_utc");
        mf.to = time(f, "to_utc");
        mf.video_codec = f.value("video_codec", "");
        mf.width = f.value("width", 0);
        mf.height = f.value("height", 0);
        if (f.contains("timed_text")) mf.timed_text_track = f["timed_text"].value("track_id", 0u);
      }
      s.files.push_back(mf);
    }
    for (const Json& r : j.value("ranges", Json::array())) {
      ManifestRange mr;
      mr.camera_id = r.value("camera_id", "");
      mr.camera_name = r.value("camera_name", "");
      s.ranges.push_back(mr);
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("manifest: ") + e.what());
  }
  return s;
}

}  // namespace custodian::exports
