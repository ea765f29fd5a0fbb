// The activity index of one segment: how much moved in each second of it, and where.
//
// The recorder writes one index per segment, in a file beside the segment's MP4
// ("<start>.mp4" -> "<start>.activity"), when it closes the segment. The index is personal
// data about movement and lives and dies with its footage: retention unlinks it with the
// segment (a hold keeps both), and reading it is footage access, done only by the API's
// footage routes (purpose, permission, access log). docs/design/recording.md "Activity
// index" gives the reasons for a file per segment and the format's sizes.
//
// Format (little-endian), version 1:
//   "CUSTACT1" (8 bytes), cols (u8, 16), rows (u8, 9), grid span count G (u16),
//   seconds S (u32), then S scores (u8 each, second i of the segment), then G spans of
//   first second (u16), end second (u16, exclusive) and the grid (18 bytes: bit
//   row * 16 + col set when that cell changed).
// A file that is short, long or of another version is refused (kDataLoss); the index is
// then simply missing for that segment, the footage is untouched.
//
// Thread-safety: free functions and value types; no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/filesystem.h"
#include "base/status.h"

namespace custodian::activity {

constexpr int kGridCols = 16;
constexpr int kGridRows = 9;
constexpr int kGridCells = kGridCols * kGridRows;

// Which cells of the 16x9 grid over the picture changed.
struct ActivityGrid {
  std::array<uint8_t, kGridCells / 8> bits{};

  bool Get(int col, int row) const {
    const int i = row * kGridCols + col;
    return (bits[i / 8] >> (i % 8)) & 1;
  }
  void Set(int col, int row) {
    const int i = row * kGridCols + col;
    bits[i / 8] = static_cast<uint8_t>(bits[i / 8] | (1 << (i % 8)));
  }
  bool Any() const;
  int Count() const;
  bool Intersects(const ActivityGrid& other) const;
  bool operator==(const ActivityGrid&) const = default;
};

// Seconds [first_second, end_second) of the segment over which the grid's cells changed.
struct GridSpan {
  uint16_t first_second = 0;
  uint16_t end_second = 0;
  ActivityGrid cells;
  bool operator==(const GridSpan&) const = default;
};

struct SegmentActivity {
  std::vector<uint8_t> scores;  // 0 still .. 255 busiest, one per second from the start
  std::vector<GridSpan> grids;  // in time order; only spans where some cell changed
  bool operator==(const SegmentActivity&) const = default;
};

// "footage/lobby/2026-12-07/20261207T090000.000Z.mp4" -> "...Z.activity".
std::string ActivityPathFor(const std::string& segment_path);

std::string EncodeActivity(const SegmentActivity& activity);
Result<SegmentActivity> DecodeActivity(std::string_view bytes);

// Writes the index under a temporary name and renames it into place, so a reader never
// sees half a file. Not fsynced on its own: the segment's close syncs the directory, and a
// file torn by a power cut is refused by the reader (the index is lost, never the footage).
Status WriteActivityFile(Filesystem& fs, const std::string& path, const SegmentActivity& activity);
// kNotFound when the segment has no index (recorded before indexing, or lost in a crash).
Result<SegmentActivity> ReadActivityFile(Filesystem& fs, const std::string& path);

}  // namespace custodian::activity
