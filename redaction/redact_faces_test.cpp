// Face coverage on the labelled photographs (shared/testdata/faces): every labelled face
// must be at least 90% masked in every frame of the redacted output, read back from the
// decoded pixels, for the photos as they are, at half size, darkened and rotated 15 degrees.
#include <catch2/catch.hpp>
#include <cstdio>

#include "base/testing/temp_dir.h"
#include "redaction/testing/face_fixture.h"

namespace custodian::redaction {
namespace {

using testing::Variant;

void CheckVariant(Variant v) {
  auto dir = testing::FindFacesDir(CUSTODIAN_SOURCE_DIR);
  if (!dir) {
    WARN("SKIPPED: labelled face photos not found (set CUSTODIAN_FACES_DIR or provide "
         "../shared/testdata/faces beside the source tree)");
    return;
  }
  auto photos = testing::LoadLabelledPhotos(*dir);
  REQUIRE(photos.ok());
  std::vector<testing::LabelledPhoto> variants;
  size_t faces = 0;
  for (const auto& p : *photos) {
    variants.push_back(testing::MakeVariant(p, v));
    faces += p.faces.size();
  }
  REQUIRE(faces == 18);
  custodian::testing::TempDir tmp("redact-faces");
  RedactionOptions o;
  auto cov = testing::MeasureFaceCoverage(variants, tmp.path(), o);
  REQUIRE(cov.ok());
  REQUIRE(cov->size() == faces);
  int covered = 0;
  for (const auto& c : *cov) {
    INFO(testing::VariantName(v) << ": " << c.photo << " face " << c.face << " masked "
                                 << c.min_fraction);
    CHECK(c.min_fraction >= 0.9);
    if (c.min_fraction >= 0.9) ++covered;
  }
  std::printf("%s: %d/%zu labelled faces at least 90%% masked in every frame\n",
              testing::VariantName(v), covered, faces);
}

TEST_CASE("every labelled face in the photos is masked") { CheckVariant(Variant::kOriginal); }
TEST_CASE("every labelled face is masked in the photos at half size") {
  CheckVariant(Variant::kHalfSize);
}
TEST_CASE("every labelled face is masked in the darkened photos") { CheckVariant(Variant::kDark); }
TEST_CASE("every labelled face is masked in the photos rotated 15 degrees") {
  CheckVariant(Variant::kRotated15);
}

}  // namespace
}  // namespace custodian::redaction
