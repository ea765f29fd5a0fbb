#include "config/site_config.h"

#include <catch2/catch.hpp>
#include <string>

#include "config/config_test_util.h"

using namespace custodian;
using namespace custodian::config;
using custodian::config::testing::kSiteHead;
using custodian::config::testing::Lines;
using custodian::config::testing::LoadErrors;
using custodian::config::testing::TempConfigDir;

namespace {

// Writes kSiteHead + body as site.yaml and returns the load's errors.
std::string SiteErrors(const TempConfigDir& d, const std::string& body) {
  return LoadErrors(d.Write("site.yaml", std::string(kSiteHead) + body));
}

// "<dir>/site.yaml:<line>: ", how every error about that file begins.
std::string At(const TempConfigDir& d, int line) {
  return d.Path("site.yaml") + ":" + std::to_string(line) + ": ";
}

// A camera list whose only camera is valid until a test adds a line; that line is line 6.
const char* kOneCamera =
    "cameras:\n"
    "  - id: lobby\n"
    "    url: rtsp://127.0.0.1:8554/lobby\n";

}  // namespace

TEST_CASE("the contract's example site loads with its values") {
  TempConfigDir d;
  d.Write("secrets/lobby", "s3cret\n");
  std::string path = d.Write("site.yaml",
                             "site: { name: \"Demo House\" }\n"
                             "data_dir: /var/lib/custodian\n"
                             "retention: { max_age_days: 31 }\n"
                             "http: { listen: \"127.0.0.1:8443\" }\n"
                             "cameras:\n"
                             "  - id: lobby\n"
                             "    name: \"Lobby\"\n"
                             "    url: rtsp://127.0.0.1:8554/lobby\n"
                             "    username: viewer\n"
                             "    password_file: secrets/lobby\n"
                             "    transport: auto\n"
                             "    retention: { max_age_days: 14 }\n"
                             "  - id: yard\n"
                             "    url: rtsps://yard-camera.example:322/stream\n"
                             "    transport: tcp\n");
  Result<SiteConfig> site = LoadSiteConfig(path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->path == path);
  CHECK(site->site_name == "Demo House");
  CHECK(site->data_dir == "/var/lib/custodian");
  CHECK(site->http.listen == "127.0.0.1:8443");
  REQUIRE(site->cameras.size() == 2);

  const CameraConfig& lobby = site->cameras[0];
  CHECK(lobby.id == "lobby");
  CHECK(lobby.name == "Lobby");
  CHECK(lobby.url == "rtsp://127.0.0.1:8554/lobby");
  CHECK(lobby.username == "viewer");
  CHECK(lobby.password_file == d.Path("secrets/lobby"));
  CHECK(lobby.transport == Transport::kAuto);
  CHECK(lobby.max_age_days == 14);
  CHECK_FALSE(lobby.quota_bytes.has_value());
  CHECK(lobby.source == path + ":6");
  CHECK(EffectiveMaxAgeDays(*site, lobby) == 14);

  const CameraConfig& yard = site->cameras[1];
  CHECK(yard.name == "yard");
  CHECK(yard.username.empty());
  CHECK(yard.password_file.empty());
  CHECK(yard.transport == Transport::kTcp);
  CHECK(EffectiveMaxAgeDays(*site, yard) == 31);
  CHECK(yard.source == path + ":13");
}

TEST_CASE("keys left out keep their documented defaults") {
  TempConfigDir d;
  Result<SiteConfig> site = LoadSiteConfig(d.Write("site.yaml", kSiteHead));
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->retention.max_age_days == 31);
  CHECK(site->retention.high_watermark_percent == 90);
  CHECK(site->retention.low_watermark_percent == 85);
  CHECK(site->retention.shorten_delay_hours == 24);
  CHECK(site->retention.export_expiry_days == 30);
  CHECK(site->recorder.segment_seconds == 60);
  CHECK(site->recorder.stall_timeout_seconds == 5);
  CHECK(site->recorder.connect_timeout_seconds == 5);
  CHECK(site->recorder.low_space_percent == 10);
  CHECK(site->recorder.activity_index);
  CHECK(site->recorder.activity_from_sub_stream);
  CHECK(site->http.listen == "127.0.0.1:8443");
  CHECK(site->http.tls_cert.empty());
  CHECK(site->http.tls_key.empty());
  CHECK(site->http.session_idle_minutes == 15);
  CHECK(site->http.session_absolute_hours == 12);
  CHECK(site->log_level == LogLevel::kInfo);
  CHECK(site->cameras.empty());
  CHECK(site->cameras_dir.empty());
}

TEST_CASE("every key can be set and relative paths resolve against the site file") {
  TempConfigDir d;
  d.Write("etc/secrets/gate", "pw");
  std::string path = d.Write("etc/site.yaml",
                             "site: { name: Gate House }\n"
                             "data_dir: ../var/custodian/\n"
                             "retention:\n"
                             "  max_age_days: 28\n"
                             "  high_watermark_percent: 80\n"
                             "  low_watermark_percent: 70\n"
                             "  shorten_delay_hours: 0\n"
                             "  export_expiry_days: 14\n"
                             "recorder:\n"
                             "  segment_seconds: 120\n"
                             "  stall_timeout_seconds: 10\n"
                             "  connect_timeout_seconds: 8\n"
                             "  low_space_percent: 5\n"
                             "http:\n"
                             "  listen: \"[::]:443\"\n"
                             "  tls_cert: tls/cert.pem\n"
                             "  tls_key: /etc/ssl/private/custodian.key\n"
                             "  session_idle_minutes: 30\n"
                             "  session_absolute_hours: 8\n"
                             "log_level: debug\n"
                             "cameras:\n"
                             "  - id: gate-2\n"
                             "    url: RTSP://10.0.0.7/Streaming/Channels/101\n"
                             "    username: custodian\n"
                             "    password_file: ./secrets/gate\n"
                             "    transport: udp\n"
                             "    segment_seconds: 30\n"
                             "    retention: { max_age_days: 7, quota_gb: 250 }\n"
                             "  - id: bins\n"
                             "    url: rtsp://[fe80::1]:8554/bins\n"
                             "    retention: { quota_bytes: 1048576 }\n");
  Result<SiteConfig> site = LoadSiteConfig(path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->site_name == "Gate House");
  CHECK(site->data_dir == d.Path("var/custodian"));
  CHECK(site->retention.max_age_days == 28);
  CHECK(site->retention.high_watermark_percent == 80);
  CHECK(site->retention.low_watermark_percent == 70);
  CHECK(site->retention.shorten_delay_hours == 0);
  CHECK(site->retention.export_expiry_days == 14);
  CHECK(site->recorder.segment_seconds == 120);
  CHECK(site->recorder.stall_timeout_seconds == 10);
  CHECK(site->recorder.connect_timeout_seconds == 8);
  CHECK(site->recorder.low_space_percent == 5);
  CHECK(site->http.listen == "[::]:443");
  CHECK(site->http.tls_cert == d.Path("etc/tls/cert.pem"));
  CHECK(site->http.tls_key == "/etc/ssl/private/custodian.key");
  CHECK(site->http.session_idle_minutes == 30);
  CHECK(site->http.session_absolute_hours == 8);
  CHECK(site->log_level == LogLevel::kDebug);
  REQUIRE(site->cameras.size() == 2);
  const CameraConfig& gate = site->cameras[0];
  CHECK(gate.password_file == d.Path("etc/secrets/gate"));
  CHECK(gate.transport == Transport::kUdp);
  CHECK(gate.segment_seconds == 30);
  CHECK(EffectiveSegmentSeconds(*site, gate) == 30);
  CHECK(EffectiveSegmentSeconds(*site, site->cameras[1]) == 120);
  CHECK(gate.max_age_days == 7);
  CHECK(gate.quota_bytes == uint64_t{250} * 1000 * 1000 * 1000);
  CHECK(site->cameras[1].quota_bytes == uint64_t{1048576});
  CHECK(site->cameras[1].max_age_days == std::nullopt);

  CHECK(RecordsDbPath(*site) == d.Path("var/custodian/records.db"));
  CHECK(FootageDir(*site) == d.Path("var/custodian/footage"));
  CHECK(ExportsDir(*site) == d.Path("var/custodian/exports"));
  CHECK(KeysDir(*site) == d.Path("var/custodian/keys"));
}

TEST_CASE("an unknown key is an error that lists the keys expected there") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "retension: { max_age_days: 31 }\n") ==
        At(d, 3) +
            "retension: unknown key; expected one of site, data_dir, retention, recorder, http, "
            "alarms, log_level, cameras, cameras_dir");
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    transprt: tcp\n") ==
        At(d, 6) +
            "cameras[0].transprt: unknown key; expected one of id, name, url, sub_url, "
            "record_sub_stream, sub_retention, username, password_file, password_for, "
            "allow_basic_auth, transport, retention, segment_seconds, make, model, firmware");
  CHECK(SiteErrors(d, "recorder:\n  segment_secs: 30\n") ==
        At(d, 4) +
            "recorder.segment_secs: unknown key; expected one of segment_seconds, "
            "stall_timeout_seconds, connect_timeout_seconds, low_space_percent, "
            "activity_index, activity_from_sub_stream");
}

TEST_CASE("a value of the wrong type is an error naming what was expected") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "retention: { max_age_days: fourteen }\n") ==
        At(d, 3) + "retention.max_age_days: expected an integer, got \"fourteen\"");
  CHECK(SiteErrors(d, "retention: { max_age_days: \"14\" }\n") ==
        At(d, 3) +
            "retention.max_age_days: expected an integer, got the string \"14\" (remove the "
            "quotes)");
  CHECK(SiteErrors(d, "retention: { max_age_days: 14.5 }\n") ==
        At(d, 3) + "retention.max_age_days: expected an integer, got \"14.5\"");
  CHECK(SiteErrors(d, "retention:\n  - max_age_days: 14\n") ==
        At(d, 3) + "retention: expected a mapping, got a list");
  CHECK(SiteErrors(d, "cameras:\n  id: lobby\n") ==
        At(d, 3) + "cameras: expected a list of cameras, got a mapping");
  CHECK(SiteErrors(d, "cameras: [lobby]\n") ==
        At(d, 3) + "cameras[0]: expected a mapping, got \"lobby\"");
  CHECK(SiteErrors(d, "log_level: [debug]\n") ==
        At(d, 3) + "log_level: expected a string, got a list");
  CHECK(SiteErrors(d, "cameras:\n  - id: lobby\n    url:\n") ==
        At(d, 5) + "cameras[0].url: expected a string, got nothing");
  CHECK(SiteErrors(d, "log_level: \"\"\n") == At(d, 3) + "log_level: must not be empty");
}

TEST_CASE("a missing required key is an error at the mapping that lacks it") {
  TempConfigDir d;
  std::string path = d.Write("site.yaml",
                             "site:\n"
                             "  nme: Test\n"
                             "cameras:\n"
                             "  - name: Lobby\n");
  CHECK(LoadErrors(path) == Lines({
                                path + ":1: site.name: missing required key",
                                path + ":1: data_dir: missing required key",
                                path + ":2: site.nme: unknown key; expected one of name",
                                path + ":4: cameras[0].id: missing required key",
                                path + ":4: cameras[0].url: missing required key",
                            }));
  path = d.Write("site.yaml", "data_dir: /srv\n");
  CHECK(LoadErrors(path) == path + ":1: site: missing required key");
}

TEST_CASE("a choice outside its set is an error listing the choices") {
  TempConfigDir d;
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    transport: tcpp\n") ==
        At(d, 6) + "cameras[0].transport: expected one of tcp, udp, auto, got \"tcpp\"");
  CHECK(SiteErrors(d, "log_level: verbose\n") ==
        At(d, 3) + "log_level: expected one of debug, info, warn, error, got \"verbose\"");
}

TEST_CASE("a camera id must be short and made of lower-case letters, digits and hyphens") {
  TempConfigDir d;
  auto camera = [](const std::string& id) {
    return "cameras:\n  - id: " + id + "\n    url: rtsp://cam/x\n";
  };
  const std::string rule =
      "cameras[0].id: must be lower-case letters, digits and '-', starting with a letter or "
      "digit, got ";
  CHECK(SiteErrors(d, camera("\"Lobby Cam\"")) == At(d, 4) + rule + "\"Lobby Cam\"");
  CHECK(SiteErrors(d, camera("-lobby")) == At(d, 4) + rule + "\"-lobby\"");
  CHECK(SiteErrors(d, camera("lobby_1")) == At(d, 4) + rule + "\"lobby_1\"");
  std::string long_id(65, 'a');
  CHECK(SiteErrors(d, camera(long_id)) ==
        At(d, 4) + "cameras[0].id: must be at most 64 characters, got 65 in \"" + long_id + "\"");
  CHECK(LoadSiteConfig(d.Write("site.yaml", kSiteHead + camera(std::string(64, 'a')))).ok());
}

TEST_CASE("a camera's sub stream has a URL checked as the main one's and its own retention") {
  TempConfigDir d;
  const std::string path = d.Write("site.yaml", std::string(kSiteHead) + kOneCamera +
                                                    "    sub_url: rtsp://127.0.0.1:8554/lobby-sub\n"
                                                    "  - id: yard\n"
                                                    "    url: rtsp://cam/yard\n"
                                                    "    sub_url: rtsps://cam/yard/sub\n"
                                                    "    record_sub_stream: true\n"
                                                    "    sub_retention: { max_age_days: 3 }\n"
                                                    "  - id: gate\n"
                                                    "    url: rtsp://cam/gate\n");
  Result<SiteConfig> site = LoadSiteConfig(path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  REQUIRE(site->cameras.size() == 3);
  CHECK(site->cameras[0].sub_url == "rtsp://127.0.0.1:8554/lobby-sub");
  CHECK_FALSE(site->cameras[0].record_sub_stream);
  CHECK(site->cameras[1].sub_url == "rtsps://cam/yard/sub");
  CHECK(site->cameras[1].record_sub_stream);
  CHECK(site->cameras[1].sub_max_age_days == 3);
  CHECK_FALSE(site->cameras[1].sub_quota_bytes.has_value());
  CHECK(site->cameras[2].sub_url.empty());

  CHECK(SiteErrors(d, std::string(kOneCamera) + "    sub_url: http://cam/sub\n") ==
        At(d, 6) +
            "cameras[0].sub_url: expected an rtsp:// or rtsps:// URL, got "
            "\"http://cam/sub\"");
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    sub_url: rtsp://admin:pw@cam/sub\n") ==
        At(d, 6) +
            "cameras[0].sub_url: must not contain a user name or password (found '@'); set "
            "username and password_file instead");
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    record_sub_stream: true\n") ==
        At(d, 6) + "cameras[0].record_sub_stream: needs sub_url as well");
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    sub_url: rtsp://cam/sub\n" +
                          "    sub_retention: { max_age_days: 3 }\n") ==
        At(d, 7) + "cameras[0].sub_retention: applies only with record_sub_stream: true");
}

TEST_CASE("ids ending in --sub are kept for sub streams, which fit the id limit") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "cameras:\n  - id: lobby--sub\n    url: rtsp://cam/x\n") ==
        At(d, 4) +
            "cameras[0].id: ids ending in \"--sub\" are kept for cameras' sub streams, "
            "got \"lobby--sub\"");
  const std::string long_id(60, 'a');
  CHECK(SiteErrors(d, "cameras:\n  - id: " + long_id +
                          "\n    url: rtsp://cam/x\n    sub_url: rtsp://cam/y\n") ==
        At(d, 6) +
            "cameras[0].sub_url: a camera with a sub stream needs an id of at most 59 "
            "characters (its sub stream is recorded as \"" +
            long_id + "--sub\")");
  CHECK(SubStreamId("lobby") == "lobby--sub");
  CHECK(IsSubStreamId("lobby--sub"));
  CHECK_FALSE(IsSubStreamId("lobby"));
  CHECK_FALSE(IsSubStreamId("--sub"));
  CHECK(StreamOwnerId("lobby--sub") == "lobby");
  CHECK(StreamOwnerId("lobby") == "lobby");
}

TEST_CASE("duplicate camera ids are an error naming where the first was defined") {
  TempConfigDir d;
  CHECK(SiteErrors(d, std::string(kOneCamera) + "  - id: lobby\n"
                                                "    url: rtsp://127.0.0.1:8554/other\n") ==
        At(d, 6) + "cameras[1].id: camera id \"lobby\" is already used by the camera at " +
            d.Path("site.yaml") + ":4");
}

TEST_CASE("a camera URL must be rtsp or rtsps with a host and no credentials") {
  TempConfigDir d;
  auto url_error = [&](const std::string& url) {
    return SiteErrors(d, "cameras:\n  - id: cam\n    url: " + url + "\n");
  };
  CHECK(url_error("http://10.0.0.5/video") ==
        At(d, 5) +
            "cameras[0].url: expected an rtsp:// or rtsps:// URL, got \"http://10.0.0.5/video\"");
  CHECK(url_error("10.0.0.5/video") ==
        At(d, 5) + "cameras[0].url: expected an rtsp:// or rtsps:// URL, got \"10.0.0.5/video\"");
  CHECK(url_error("rtsp:///video") ==
        At(d, 5) + "cameras[0].url: has no host, got \"rtsp:///video\"");
  CHECK(url_error("rtsp://10.0.0.5:99999/video") ==
        At(d, 5) +
            "cameras[0].url: has a bad host or port \"10.0.0.5:99999\", got "
            "\"rtsp://10.0.0.5:99999/video\"");
  CHECK(url_error("rtsp://300.0.0.5/video") ==
        At(d, 5) +
            "cameras[0].url: has a bad host or port \"300.0.0.5\", got \"rtsp://300.0.0.5/video\"");
  CHECK(url_error("\"rtsp://10.0.0.5/my video\"") ==
        At(d, 5) +
            "cameras[0].url: must not contain spaces or control characters, got "
            "\"rtsp://10.0.0.5/my video\"");
  CHECK(url_error("rtsp://admin:Secret99@10.0.0.5/video") ==
        At(d, 5) +
            "cameras[0].url: must not contain a user name or password (found '@'); set username "
            "and password_file instead");
}

TEST_CASE("a missing or unreadable password file is an error that does not show its path") {
  TempConfigDir d;
  d.Write("secrets/dir/placeholder", "");
  auto password_file_error = [&](const std::string& lines) {
    return SiteErrors(d, std::string(kOneCamera) + lines);
  };
  CHECK(password_file_error("    username: viewer\n    password_file: secrets/lobby\n") ==
        At(d, 7) +
            "cameras[0].password_file: cannot read the password file: No such file or directory");
  CHECK(password_file_error("    username: viewer\n    password_file: secrets/dir\n") ==
        At(d, 7) + "cameras[0].password_file: the password file is not a regular file");
  d.Write("secrets/lobby", "pw\n");
  CHECK(password_file_error("    password_file: secrets/lobby\n") ==
        At(d, 6) + "cameras[0].password_file: needs username as well");
}

TEST_CASE("numbers out of range are errors that give the range") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "retention: { max_age_days: -3 }\n") ==
        At(d, 3) + "retention.max_age_days: must be between 1 and 3650, got -3");
  CHECK(SiteErrors(d, "recorder: { low_space_percent: 120 }\n") ==
        At(d, 3) + "recorder.low_space_percent: must be between 0 and 100, got 120");
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    retention: { quota_bytes: 0 }\n") ==
        At(d, 6) + "cameras[0].retention.quota_bytes: must be at least 1, got 0");
  CHECK(SiteErrors(d, "retention: { max_age_days: 99999999999999999999 }\n") ==
        At(d, 3) + "retention.max_age_days: must be between 1 and 3650, got 99999999999999999999");
}

TEST_CASE("the low watermark must be below the high watermark") {
  TempConfigDir d;
  CHECK(SiteErrors(d,
                   "retention:\n"
                   "  high_watermark_percent: 80\n"
                   "  low_watermark_percent: 80\n") ==
        At(d, 5) +
            "retention.low_watermark_percent: must be below high_watermark_percent (80), got 80");
  CHECK(SiteErrors(d, "retention:\n  high_watermark_percent: 60\n") ==
        At(d, 4) +
            "retention.high_watermark_percent: must be above low_watermark_percent (85), got 60");
  // An invalid high watermark is reported once, not compared against.
  CHECK(SiteErrors(d, "retention:\n  high_watermark_percent: 101\n  low_watermark_percent: 95\n") ==
        At(d, 4) + "retention.high_watermark_percent: must be between 0 and 100, got 101");
}

TEST_CASE("a camera quota is given in bytes or in gigabytes, not both") {
  TempConfigDir d;
  CHECK(SiteErrors(d, std::string(kOneCamera) + "    retention:\n"
                                                "      quota_bytes: 1000\n"
                                                "      quota_gb: 1\n") ==
        At(d, 8) + "cameras[0].retention.quota_gb: give quota_bytes or quota_gb, not both");
}

TEST_CASE("a bad listen address is an error with an example of a good one") {
  TempConfigDir d;
  const std::string expected =
      "http.listen: expected host:port, such as 127.0.0.1:8443 or [::]:8443, got ";
  CHECK(SiteErrors(d, "http: { listen: \"8443\" }\n") == At(d, 3) + expected + "\"8443\"");
  CHECK(SiteErrors(d, "http: { listen: \":8443\" }\n") == At(d, 3) + expected + "\":8443\"");
  CHECK(SiteErrors(d, "http: { listen: \"::1:8443\" }\n") == At(d, 3) + expected + "\"::1:8443\"");
  CHECK(SiteErrors(d, "http: { listen: \"localhost:0\" }\n") ==
        At(d, 3) + expected + "\"localhost:0\"");
}

TEST_CASE("a TLS certificate and key are given together") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "http:\n  tls_cert: cert.pem\n") ==
        At(d, 4) + "http.tls_cert: tls_cert and tls_key must be given together");
}

TEST_CASE("invalid YAML is an error at the line the parser stopped") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "cameras: [ { id: lobby }\n") ==
        At(d, 4) + "invalid YAML: end of sequence flow not found");
  CHECK(SiteErrors(d, "\tretention: {}\n") ==
        At(d, 3) + "invalid YAML: illegal tab when looking for indentation");
}

TEST_CASE("a key given twice in one mapping is an error") {
  TempConfigDir d;
  CHECK(SiteErrors(d, "data_dir: elsewhere\n") ==
        At(d, 3) + "data_dir: duplicate key; first given at line 2");
}

TEST_CASE("an empty, missing or non-mapping site file is an error") {
  TempConfigDir d;
  std::string path = d.Write("site.yaml", "# nothing yet\n");
  CHECK(LoadErrors(path) == path + ":1: the file is empty");
  CHECK(LoadErrors(d.Path("absent.yaml")) ==
        d.Path("absent.yaml") + ": cannot read: No such file or directory");
  path = d.Write("site.yaml", "- site: { name: Test }\n");
  CHECK(LoadErrors(path) == path + ":1: expected a mapping, got a list");
  path = d.Write("site.yaml", std::string(kSiteHead) + "---\n" + kSiteHead);
  CHECK(LoadErrors(path) == path + ":4: only one YAML document is allowed in a file");
  // yaml-cpp reads endless empty documents from a lone ","; this once ran out of memory.
  path = d.Write("site.yaml", ",");
  CHECK(LoadErrors(path) == path + ":1: only one YAML document is allowed in a file");
}

TEST_CASE("every error in a file is reported, one per line in line order") {
  TempConfigDir d;
  std::string path = d.Write("site.yaml",
                             "site: { name: Test }\n"
                             "data_dir: data\n"
                             "cameras:\n"
                             "  - id: Lobby\n"
                             "    url: http://cam/lobby\n"
                             "    transport: tcpp\n"
                             "retention:\n"
                             "  max_age_days: -1\n"
                             "  colour: blue\n"
                             "http: { listen: nowhere }\n");
  CHECK(LoadErrors(path) ==
        Lines({
            At(d, 4) + "cameras[0].id: must be lower-case letters, digits and '-', starting "
                       "with a letter or digit, got \"Lobby\"",
            At(d, 5) + "cameras[0].url: expected an rtsp:// or rtsps:// URL, got "
                       "\"http://cam/lobby\"",
            At(d, 6) + "cameras[0].transport: expected one of tcp, udp, auto, got \"tcpp\"",
            At(d, 8) + "retention.max_age_days: must be between 1 and 3650, got -1",
            At(d, 9) + "retention.colour: unknown key; expected one of max_age_days, "
                       "high_watermark_percent, low_watermark_percent, shorten_delay_hours, "
                       "export_expiry_days",
            At(d, 10) + "http.listen: expected host:port, such as 127.0.0.1:8443 or [::]:8443, "
                        "got \"nowhere\"",
        }));
}

TEST_CASE("a password never appears in an error message") {
  TempConfigDir d;
  const std::string secret = "Tr0ub4dor-and-3";
  std::string body =
      "cameras:\n"
      "  - id: lobby\n"
      "    url: rtsp://admin:SECRET@10.0.0.5/live\n"
      "  - id: yard\n"
      "    url: rtsp://admin:SECRET/x@10.0.0.6/live\n"  // '/' hides the '@' from URL parsers
      "  - id: gate\n"
      "    url: rtsp://10.0.0.7/live\n"
      "    username: admin\n"
      "    password: SECRET\n"
      "  - id: door\n"
      "    url: rtsp://10.0.0.8/live\n"
      "    username: admin\n"
      "    password_file: SECRET\n";  // the password typed where its file belongs
  for (size_t at; (at = body.find("SECRET")) != std::string::npos;) body.replace(at, 6, secret);

  std::string errors = SiteErrors(d, body);
  INFO(errors);
  CHECK(errors.find(secret) == std::string::npos);
  const std::string in_url =
      "must not contain a user name or password (found '@'); set username and password_file "
      "instead";
  CHECK(errors ==
        Lines({
            At(d, 5) + "cameras[0].url: " + in_url,
            At(d, 7) + "cameras[1].url: " + in_url,
            At(d, 11) + "cameras[2].password: passwords are not written in the configuration; "
                        "put it in a file readable only by custodian and name that file in "
                        "password_file",
            At(d, 15) + "cameras[3].password_file: cannot read the password file: No such file "
                        "or directory",
        }));
}

TEST_CASE("alarm e-mail goes through a relay over TLS, with the password in a file") {
  TempConfigDir d;
  std::string path = d.Write("site.yaml", std::string(kSiteHead) +
                                              "alarms:\n"
                                              "  camera_offline_seconds: 60\n"
                                              "  backup_overdue_days: 0\n"
                                              "  camera_clock_limit_seconds: 5\n"
                                              "  clock_sync_watched: false\n"
                                              "  email:\n"
                                              "    relay: \"smtp.example.org:587\"\n"
                                              "    ca_file: relay-ca.pem\n"
                                              "    username: custodian\n"
                                              "    password_file: secrets/smtp\n"
                                              "    from: custodian@example.org\n"
                                              "    to: [manager@example.org, dpo@example.org]\n");
  Result<SiteConfig> site = LoadSiteConfig(path);
  INFO(site.status().message());
  REQUIRE(site.ok());
  CHECK(site->alarms.camera_offline_seconds == 60);
  CHECK(site->alarms.backup_overdue_days == 0);
  CHECK(site->alarms.dsar_warning_days == 7);
  CHECK(site->alarms.camera_clock_limit_seconds == 5);
  CHECK_FALSE(site->alarms.clock_sync_watched);
  CHECK(site->alarms.email.relay == "smtp.example.org:587");
  CHECK(site->alarms.email.security == "starttls");
  CHECK(site->alarms.email.ca_file == d.Path("relay-ca.pem"));
  CHECK(site->alarms.email.password_file == d.Path("secrets/smtp"));
  CHECK(site->alarms.email.to.size() == 2);

  CHECK(SiteErrors(d, "alarms:\n  email:\n    relay: \"smtp.example.org:587\"\n"
                      "    from: a@example.org\n    to: [b@example.org]\n"
                      "    security: none\n")
            .find("alarms.email.security: expected one of starttls, tls") != std::string::npos);
  CHECK(SiteErrors(d, "alarms:\n  email:\n    relay: \"smtp.example.org:587\"\n"
                      "    from: a@example.org\n    to: [b@example.org]\n"
                      "    password: hunter2\n")
            .find("passwords are not written in the configuration") != std::string::npos);
  CHECK(SiteErrors(d, "alarms:\n  email:\n    relay: smtp.example.org\n"
                      "    from: a@example.org\n    to: [b@example.org]\n") ==
        At(d, 5) + "alarms.email.relay: expected host:port, got \"smtp.example.org\"");
  CHECK(SiteErrors(d, "alarms: { camera_offline_seconds: 5 }\n").find("10") != std::string::npos);
  CHECK(SiteErrors(d, "alarms: { clock_sync_watched: no }\n")
            .find("alarms.clock_sync_watched: expected one of true, false") != std::string::npos);
  CHECK(SiteErrors(d, "alarms: { camera_clock_limit_seconds: -1 }\n")
            .find("alarms.camera_clock_limit_seconds") != std::string::npos);
}
