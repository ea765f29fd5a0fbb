// Links detections across frames into tracks and says, for any frame, which boxes to mask.
//
// Detections arrive only on the frames the detectors ran on. A track's mask covers both
// detections on either side of a frame, held (and grown by the track's speed) over a gap of up to
// hold_frames, and extended pre_frames before its first detection and post_frames after its
// end; every box is enlarged by the margin. Motion blobs are not tracked: each one is masked
// (where the mode masks motion) over the frames around the detection that found it.
//
// Masks for frame F are final once detections up to F + Lookahead() have been added. Not
// thread-safe: one analysis thread owns the tracker; BoxesAt is called from it or after it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "redaction/detector.h"
#include "redaction/options.h"

namespace custodian::redaction {

struct MaskBoxAt {
  Box box;  // enlarged by the margin
  DetectionKind kind;
  int track_id;  // -1 for motion blobs
  bool subject;
  // A person's head area: HeadOf the person's box before the margin, then enlarged by the
  // margin like a face's (the figure's enlarged box would put it above the head). Empty for
  // other kinds.
  Box head{};
  // A face's box enlarged by half the margin: what keep-subject masks of another face where
  // it lies over the subject (the full margin there hid the subject whenever two passed).
  Box tight{};
};

// Head area of a moving figure (the top of its box is the top of the head): a box at the
// top centre, as wide as 3/10 of the figure's height (a head and the arms' swing) and a
// quarter of it tall at most; for a figure wider than half its height (people side by side
// joined into one), the top quarter across its whole width.
Box HeadOf(const Box& person);

// A frame whose coverage a person should check.
struct Flag {
  int64_t frame;
  std::string reason;  // "track lost", "person with no face detection", "subject masked"
};

class Tracker {
 public:
  Tracker(const DetectionParams& params, int width, int height);

  void Add(int64_t frame, const std::vector<Detection>& detections);
  // The picture changed as a whole at or just before `frame` (a cut, a camera moved): no
  // track is held past it or extended back before it. Called in increasing frame order.
  void Cut(int64_t frame);
  // Boxes of tracks alive at `frame` (for the detectors' hints), unenlarged.
  std::vector<Detection> LiveBoxes(int64_t frame) const;
  // Everything to consider for `frame`: face and person tracks, and motion blobs.
  std::vector<MaskBoxAt> BoxesAt(int64_t frame) const;
  int Lookahead() const;

  // keep-subject: marks the one track that the box picks at `frame` (the face overlapping it
  // most, or failing a face the person), and the face tracks that continue it across a lost
  // detection, never a track seen elsewhere at the same moment as the subject. Returns how
  // many were marked.
  int MarkSubject(int64_t frame, const Box& pick);

  // Frames to review, found so far (track lost; person with no face mask).
  std::vector<Flag> Flags() const;
  int face_tracks() const;
  int person_tracks() const;
  int64_t motion_followed() const { return motion_followed_; }
  // Doubtful face sightings (low score, nothing moving there) in tracks that nothing better
  // joined: masked for the still limit only.
  int64_t doubtful_unlinked() const;

 private:
  struct Observation {
    int64_t frame;
    Box box;
    bool moving = false;  // on something that moved (a motion blob)
    bool doubtful = false;  // a low score where nothing moved (tracker.cpp, kStrongScore)
  };
  struct Track {
    int id;
    DetectionKind kind;
    std::vector<Observation> obs;
    bool subject = false;
    int64_t last_detected = 0;  // the last frame a detector (not motion) found it
    bool evidence = false;      // has a sighting that is not doubtful
  };

  // Where the track's mask is at `frame`, if it is masked there.
  std::optional<Box> TrackBoxAt(const Track& t, int64_t frame) const;
  // Where the track's path puts it at `frame` (what detections are associated with), whether
  // or not it is masked there.
  std::optional<Box> PathBoxAt(const Track& t, int64_t frame) const;
  bool Alive(const Track& t, int64_t frame) const;
  bool NearEdge(const Box& b) const;
  bool Unconfirmed(const Track& t) const;
  // Whether, at `frame`, a face track has sat still on doubtful evidence alone (low scores,
  // nothing moving) for longer than the still limit: it is then flagged, not masked.
  bool StillDoubt(const Track& t, int64_t frame) const;
  // A face track last seen where `box` is, held there on doubtful sightings past the still
  // limit (StillDoubt at its last sighting).
  Track* DoubtfulTrackAt(const Box& box);
  double MaxSpeed() const;  // pixels per frame
  bool CutBetween(int64_t a, int64_t b) const;  // a cut in (min, max]
  void FollowMotion(int64_t frame, const std::vector<Detection>& detections,
                    const std::vector<bool>& track_used);
  // A detection of one kind at a frame, with what the rest of the frame says about it.
  struct Sighting {
    const Detection* det;
    bool moving;    // on something that moved (a motion blob)
    bool doubtful;  // a face with a low score where nothing moved
  };
  std::vector<Sighting> SightingsOf(DetectionKind kind, const std::vector<Detection>& detections,
                                    bool motion_known) const;
  // How far the sighting is from where the track would be at `frame`, when it may continue
  // the track (similar size, and overlapping or within the track's reach); none otherwise.
  std::optional<double> LinkDistance(const Track& t, const Sighting& s, int64_t frame) const;
  // Links sightings to live tracks, nearest first; the rest continue a doubtful track or
  // start new ones. Returns which tracks took a sighting.
  std::vector<bool> Associate(int64_t frame, DetectionKind kind,
                              const std::vector<Sighting>& sightings);
  // Flags a moving person on whom no face track lies.
  void FlagFacelessPeople(int64_t frame, const std::vector<Detection>& detections);
  int PreFrames(const Track& t) const;
  int HoldFrames(const Track& t) const;

  DetectionParams p_;
  int width_, height_;
  std::vector<Track> tracks_;
  std::multimap<int64_t, Box> motion_;  // detection frame -> blob
  std::vector<Flag> person_flags_;
  int next_id_ = 1;
  int64_t latest_ = -1;  // the last frame detections were added for
  int64_t motion_followed_ = 0;
  int64_t adds_ = 0;
  std::vector<int64_t> cuts_;  // observations taken from motion (FollowMotion)
};

}  // namespace custodian::redaction
