// Multi-process tests: a writer killed with SIGKILL mid-run, and processes writing the same
// project at once. Children are fork()ed without exec; each opens its own connection after the
// fork (SQLite connections must not cross a fork) and leaves with _exit().

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/store/project.h"
#include "core/store/schema.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

constexpr int kViewsPerCommit = 40;
constexpr char kSetName[] = "views";

std::vector<ViewRecord> MakeBatch(int64_t set, const std::string& source_id) {
  std::vector<ViewRecord> batch(kViewsPerCommit);
  for (int i = 0; i < kViewsPerCommit; ++i) {
    ViewRecord& v = batch[i];
    v.set_id = set;
    v.source_set_id = set;
    v.source_id = source_id;
    v.view_index = i;
    v.kind = ViewKind::kGenerative;
    v.model = "test-model";
    v.seed = static_cast<uint64_t>(i) * 7919;
    v.params_json = R"({"strength": 0.5})";
    v.blob = std::string(2048, static_cast<char>('a' + i % 26));  // make transactions span pages
  }
  return batch;
}

// The child's body: opens the project and commits batches, reporting the number of committed
// transactions on fd after each commit; max_commits < 0 runs until killed. Never returns.
[[noreturn]] void RunWriter(const std::string& path, int fd, const std::string& tag,
                            int max_commits) {
  int code = 0;
  try {
    auto project = OpenSqliteProject(path);
    const int64_t set = project->GetOrAddImageSet(kSetName, "", SetRole::kSynthetic);
    for (int64_t commit = 1; max_commits < 0 || commit <= max_commits; ++commit) {
      project->AddViews(MakeBatch(set, tag + "-" + std::to_string(commit)));
      if (fd >= 0) {
        ssize_t n;
        do {
          n = ::write(fd, &commit, sizeof(commit));
        } while (n < 0 && errno == EINTR);
        if (n != static_cast<ssize_t>(sizeof(commit))) {
          code = 2;
          break;
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer %s failed: %s\n", tag.c_str(), e.what());
    code = 1;
  }
  ::_exit(code);
}

// Reads one commit count; false on EOF (the writer died or stopped).
TEST(CrashTest, KilledWriterLosesNoCommitAndLeavesNoPartialTransaction) {
  testing::TempDir dir;
  const std::string path = dir.Join("crash.slproj");
  int64_t set = 0;
  {
    auto project = OpenSqliteProject(path);
    set = project->AddImageSet(kSetName, "", SetRole::kSynthetic);
  }
  // Different kill points: after a few commits, after many, with extra delays so the kill
  // lands at different phases of a transaction.
  const int kTargets[] = {1, 3, 8, 15, 30};
  const int kDelaysUs[] = {0, 150, 700, 1500, 3000};
  int64_t rows = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const testing::KilledChild child = testing::RunAndKill(
        [&](int fd) { RunWriter(path, fd, "round" + std::to_string(round), -1); },
        kTargets[round], kDelaysUs[round]);
    const int64_t reported = child.reported;
    ASSERT_TRUE(child.killed()) << "the writer stopped by itself, status " << child.status;
    ASSERT_GE(reported, kTargets[round]);

    auto project = OpenSqliteProject(path);
    EXPECT_EQ(project->IntegrityCheck(), "ok");
    const int64_t now = project->CountViews(set);
    const int64_t added = now - rows;
    EXPECT_EQ(added % kViewsPerCommit, 0) << "a partial transaction survived: " << added;
    // Every reported commit is there; at most one more (committed, killed before reporting).
    EXPECT_GE(added / kViewsPerCommit, reported);
    EXPECT_LE(added / kViewsPerCommit, reported + 1);
    // Writing continues after the crash.
    project->AddViews(MakeBatch(set, "after-round" + std::to_string(round)));
    rows = now + kViewsPerCommit;
    EXPECT_EQ(project->CountViews(set), rows);
    EXPECT_EQ(project->IntegrityCheck(), "ok");
  }
}

// An embedding set whose every value says which commit and cell it is, so a reader can tell a
// complete set from a mixture.
EmbeddingSetRecord MakeEmbeddingSet(int64_t commit) {
  constexpr int kRows = 300, kDims = 64;
  EmbeddingSetRecord r;
  r.key = {"/data/set-" + std::to_string(commit), std::string(64, 'a'), std::string(64, 'b'),
           R"({"size":[28,28]})", "cpu fp32"};
  r.rows = kRows;
  r.dims = kDims;
  r.matrix.create(kRows, kDims, CV_32F);
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kDims; ++j) r.matrix.at<float>(i, j) = commit * 1e5f + i * 100.0f + j;
    r.ids.push_back("img" + std::to_string(i));
    r.labels.push_back(i % 10);
  }
  return r;
}

// Saving embedding sets (each several chunks in one transaction) while being killed leaves only
// complete sets, at least every one reported as saved, and a file that keeps working.
TEST(CrashTest, KilledEmbeddingWriterLeavesOnlyCompleteSets) {
  testing::TempDir dir;
  const std::string path = dir.Join("emb.slproj");
  OpenSqliteProject(path);
  const int kTargets[] = {1, 4, 9};
  const int kDelaysUs[] = {300, 0, 1200};
  int64_t committed_before = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const testing::KilledChild child = testing::RunAndKill(
        [&](int fd) {
          int code = 0;
          try {
            // 8 rows per chunk: a set is 38 chunks, so kills land inside multi-chunk transactions.
            internal::SetEmbeddingChunkBytesForTesting(8 * 64 * sizeof(float));
            auto project = OpenSqliteProject(path);
            for (int64_t commit = committed_before + 1;; ++commit) {
              project->SaveEmbeddings(MakeEmbeddingSet(commit));
              const int64_t done = commit - committed_before;
              if (::write(fd, &done, sizeof(done)) != static_cast<ssize_t>(sizeof(done))) break;
            }
          } catch (const std::exception& e) {
            std::fprintf(stderr, "embedding writer failed: %s\n", e.what());
            code = 1;
          }
          ::_exit(code);
        },
        kTargets[round], kDelaysUs[round]);
    const int64_t reported = child.reported;
    ASSERT_TRUE(child.killed()) << "the writer stopped by itself, status " << child.status;

    auto project = OpenSqliteProject(path);
    EXPECT_EQ(project->IntegrityCheck(), "ok");
    const auto sets = project->EmbeddingSets();
    const int64_t added = static_cast<int64_t>(sets.size()) - committed_before;
    EXPECT_GE(added, reported);
    EXPECT_LE(added, reported + 1);
    for (const EmbeddingSetRecord& listed : sets) {
      auto found = project->FindEmbeddings(listed.key);
      ASSERT_TRUE(found.has_value()) << listed.key.source;
      const int64_t commit = std::stoll(listed.key.source.substr(listed.key.source.rfind('-') + 1));
      const EmbeddingSetRecord expected = MakeEmbeddingSet(commit);
      ASSERT_EQ(found->rows, expected.rows);
      EXPECT_EQ(cv::norm(found->matrix, expected.matrix, cv::NORM_INF), 0.0) << listed.key.source;
      EXPECT_EQ(found->ids, expected.ids);
    }
    committed_before = static_cast<int64_t>(sets.size());
  }
}

// Runs `writers` children that each commit `commits` batches to path, and waits for them.
void RunConcurrentWriters(const std::string& path, int writers, int commits) {
  std::vector<pid_t> pids;
  for (int w = 0; w < writers; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) RunWriter(path, -1, "writer" + std::to_string(w), commits);
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "writer failed, status " << status << " (see its stderr)";
  }
}

TEST(CrashTest, TwoProcessesWritingAtOnceKeepEveryRow) {
  testing::TempDir dir;
  const std::string path = dir.Join("shared.slproj");
  OpenSqliteProject(path)->AddImageSet(kSetName, "", SetRole::kSynthetic);
  constexpr int kCommits = 60;
  RunConcurrentWriters(path, 2, kCommits);
  auto project = OpenSqliteProject(path);
  EXPECT_EQ(project->CountViews(), 2 * kCommits * kViewsPerCommit);
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

// Processes racing to create the same new file: one creates and migrates it, the others wait
// and find it ready (the studio and the CLI started together on a new project).
TEST(CrashTest, ProcessesCreatingTheSameProjectAtOnce) {
  testing::TempDir dir;
  const std::string path = dir.Join("fresh.slproj");
  constexpr int kCommits = 10;
  RunConcurrentWriters(path, 3, kCommits);
  auto project = OpenSqliteProject(path);
  EXPECT_EQ(project->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(project->ImageSets().size(), 1u);
  EXPECT_EQ(project->CountViews(), 3 * kCommits * kViewsPerCommit);
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

}  // namespace
}  // namespace synthlens
