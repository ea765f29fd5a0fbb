#include "records/test_util.h"

using namespace custodian;
using namespace custodian::records;
using namespace custodian::records::testing;

TEST_CASE("jobs are claimed oldest first, once, by kind") {
  TestDb t;
  Database& db = *t.db;
  auto a = *db.EnqueueJob("export", R"({"export_id":1})", t.manager_id);
  t.clock.Advance(1);
  auto b = *db.EnqueueJob("redaction", "{}", std::nullopt);
  t.clock.Advance(1);
  auto c = *db.EnqueueJob("export", "{}", std::nullopt);
  REQUIRE_FALSE(db.EnqueueJob("export", "not json", std::nullopt).ok());

  auto first = db.ClaimNextJob({"export"}, "worker-1");
  REQUIRE(first.ok());
  REQUIRE((*first)->id == a);
  REQUIRE((*first)->state == JobState::kRunning);
  REQUIRE((*first)->attempts == 1);
  REQUIRE((*first)->worker == "worker-1");
  REQUIRE((*db.ClaimNextJob({"export"}, "worker-2"))->id == c);
  REQUIRE_FALSE(db.ClaimNextJob({"export"}, "worker-2")->has_value());
  REQUIRE((*db.ClaimNextJob({"redaction", "export"}, "w"))->id == b);

  REQUIRE(db.SetJobProgress(a, 0.5).ok());
  REQUIRE((*db.GetJob(a))->progress == Approx(0.5));
  REQUIRE(db.SetJobProgress(a, 7).ok());
  REQUIRE((*db.GetJob(a))->progress == Approx(1.0));
  REQUIRE(db.FinishJob(a, JobState::kSucceeded, R"({"ok":true})", std::nullopt).ok());
  REQUIRE(db.FinishJob(a, JobState::kFailed, std::nullopt, "late").kind() ==
          ErrorKind::kFailedPrecondition);
  REQUIRE(db.SetJobProgress(a, 0.1).kind() == ErrorKind::kFailedPrecondition);
  auto done = **db.GetJob(a);
  REQUIRE(done.state == JobState::kSucceeded);
  REQUIRE(done.result == R"({"ok":true})");
  REQUIRE(done.finished.has_value());
  REQUIRE(db.ListJobs(JobState::kRunning)->size() == 2);
  REQUIRE(db.ListJobs(std::nullopt)->size() == 3);
}

TEST_CASE("cancelling a queued job ends it; a running job is flagged for its worker") {
  TestDb t;
  Database& db = *t.db;
  auto queued = *db.EnqueueJob("export", "{}", std::nullopt);
  REQUIRE(*db.RequestJobCancel(queued) == JobState::kCancelled);
  REQUIRE((*db.GetJob(queued))->state == JobState::kCancelled);
  REQUIRE(db.RequestJobCancel(queued).status().kind() == ErrorKind::kFailedPrecondition);
  REQUIRE_FALSE(db.ClaimNextJob({"export"}, "w")->has_value());

  auto running = *db.EnqueueJob("export", "{}", std::nullopt);
  REQUIRE(db.ClaimNextJob({"export"}, "w")->has_value());
  REQUIRE(*db.RequestJobCancel(running) == JobState::kRunning);
  REQUIRE((*db.GetJob(running))->cancel_requested);
  REQUIRE(db.FinishJob(running, JobState::kCancelled, std::nullopt, "cancelled").ok());
  REQUIRE(db.RequestJobCancel(999).status().kind() == ErrorKind::kNotFound);
}

TEST_CASE("after a restart running jobs go back to the queue, or to cancelled if asked") {
  TestDb t;
  Database& db = *t.db;
  auto a = *db.EnqueueJob("export", "{}", std::nullopt);
  auto b = *db.EnqueueJob("export", "{}", std::nullopt);
  auto other = *db.EnqueueJob("redaction", "{}", std::nullopt);
  REQUIRE(db.ClaimNextJob({"export"}, "w")->has_value());
  REQUIRE(db.ClaimNextJob({"export"}, "w")->has_value());
  REQUIRE(db.ClaimNextJob({"redaction"}, "w")->has_value());
  REQUIRE(db.SetJobProgress(a, 0.4).ok());
  REQUIRE(*db.RequestJobCancel(b) == JobState::kRunning);

  auto requeued = db.RequeueRunningJobs({"export"});
  REQUIRE(requeued.ok());
  REQUIRE(requeued->size() == 2);
  auto ja = **db.GetJob(a);
  REQUIRE(ja.state == JobState::kQueued);
  REQUIRE(ja.progress == 0);
  REQUIRE((*db.GetJob(b))->state == JobState::kCancelled);
  REQUIRE((*db.GetJob(other))->state == JobState::kRunning);
  auto again = db.ClaimNextJob({"export"}, "w2");
  REQUIRE((*again)->id == a);
  REQUIRE((*again)->attempts == 2);
}
