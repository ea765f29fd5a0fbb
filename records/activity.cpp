// Counts for the anonymised monthly statistics. Only aggregates leave this file: no
// names, references or ids.
#include <cstdint>
#include <string>

#include "records/database.h"
#include "records/sqlite.h"

namespace custodian::records {

Result<ActivityCounts> Database::CountActivity(UtcMicros from, UtcMicros to) {
  Lock lock(mu_);
  ActivityCounts c;
  {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT "
                "(SELECT count(*) FROM holds WHERE created_us >= ?1 AND created_us < ?2), "
                "(SELECT count(*) FROM holds WHERE released_us >= ?1 AND released_us < ?2), "
                "(SELECT count(*) FROM holds WHERE created_us < ?2 AND "
                " (released_us IS NULL OR released_us >= ?2)), "
                "(SELECT count(*) FROM exports WHERE created_us >= ?1 AND created_us < ?2), "
                "(SELECT count(*) FROM exports WHERE created_us >= ?1 AND created_us < ?2 "
                " AND manifest_sha256 IS NOT NULL), "
                "(SELECT count(*) FROM disclosures WHERE at_us >= ?1 AND at_us < ?2), "
                "(SELECT count(*) FROM deletions WHERE at_us >= ?1 AND at_us < ?2)"));
    st.Time(from).Time(to);
    RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Internal("records: activity counts returned no row");
    c.holds_created = st.ColInt(0);
    c.holds_released = st.ColInt(1);
    c.holds_active_at_end = st.ColInt(2);
    c.exports_created = st.ColInt(3);
    c.exports_ready = st.ColInt(4);
    c.disclosures = st.ColInt(5);
    c.deletions = st.ColInt(6);
  }
  {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT coalesce(sum(segment_count), 0), coalesce(sum(bytes), 0) "
                              "FROM deletions WHERE at_us >= ? AND at_us < ?"));
    st.Time(from).Time(to);
    RECORDS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      c.segments_deleted = st.ColInt(0);
      c.bytes_deleted = st.ColInt(1);
    }
  }
  {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT method, count(*) FROM disclosures WHERE at_us >= ? AND "
                              "at_us < ? GROUP BY method ORDER BY method"));
    st.Time(from).Time(to);
    RECORDS_ASSIGN_OR_RETURN(
        c.disclosures_by_method,
        (CollectRows<std::pair<std::string, int64_t>>(st, [](const Statement& s) {
          return std::pair<std::string, int64_t>(s.ColText(0), s.ColInt(1));
        })));
  }
  {
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT rule, coalesce(sum(segment_count), 0) FROM deletions WHERE at_us >= ? "
                "AND at_us < ? GROUP BY rule ORDER BY rule"));
    st.Time(from).Time(to);
    RECORDS_ASSIGN_OR_RETURN(
        c.deletions_by_rule,
        (CollectRows<std::pair<std::string, int64_t>>(st, [](const Statement& s) {
          return std::pair<std::string, int64_t>(s.ColText(0), s.ColInt(1));
        })));
  }
  {
    // A viewing's start entry is a successful footage entry whose detail says so
    // (kViewingStartDetail); requests inside a viewing add no entry.
    RECORDS_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT purpose_category, count(*) FROM access_log WHERE at_us >= ? AND "
                "at_us < ? AND result = 'ok' AND substr(detail, 1, ?) = ? "
                "GROUP BY purpose_category ORDER BY purpose_category"));
    const std::string marker = kViewingStartDetail;
    st.Time(from).Time(to).Int(static_cast<int64_t>(marker.size())).Text(marker);
    RECORDS_ASSIGN_OR_RETURN(
        c.viewings_by_purpose,
        (CollectRows<std::pair<std::string, int64_t>>(st, [](const Statement& s) {
          return std::pair<std::string, int64_t>(s.ColText(0), s.ColInt(1));
        })));
    for (const auto& [purpose, n] : c.viewings_by_purpose) c.viewings += n;
  }
  return c;
}

}  // namespace custodian::records
