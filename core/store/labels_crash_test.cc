// A labelling process killed with SIGKILL at different moments: whole actions only, nothing
// committed lost, undo still works. The child is fork()ed without exec, opens its own connection
// and leaves with _exit().

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/store/labels.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

constexpr int kBatch = 60;  // images per batch action, so transactions span many rows

std::vector<LabelTarget> Batch(int action) {
  std::vector<LabelTarget> targets;
  const int first = (action * 37) % 200;
  for (int i = 0; i < kBatch; ++i) {
    targets.push_back({i % 3 ? "fashion-mnist:test" : "views:gen", std::to_string(first + i)});
  }
  return targets;
}

// Action number `action` (1-based) of the script; depends only on the number and the store's
// state, so replaying the first K actions on a fresh project gives the same state.
void RunAction(LabelStore& store, int action) {
  const std::vector<LabelCategory> cats = store.Categories();
  const int64_t cat = cats[action % cats.size()].id;
  switch (action % 9) {
    case 0:
    case 1:
      store.ToggleCategory(Batch(action), cat);
      break;
    case 2:
      store.SetNote({"fashion-mnist:test", std::to_string(action % 50)},
                    "note " + std::to_string(action) + ", \"quoted\"\nü");
      break;
    case 3:
      store.AddBox({"views:gen", std::to_string(action % 40)},
                   {0, cat, action * 0.5, 1.25, 3, 4.0 + action});
      break;
    case 4:
      store.Undo();
      break;
    case 5:
      store.Redo();
      break;
    case 6:
      store.MarkClean(Batch(action + 3));
      break;
    case 7: {
      const std::vector<ImageLabels> all = store.All("views:gen");
      for (const ImageLabels& l : all) {
        if (!l.boxes.empty()) {
          store.RemoveBox(l.boxes.front().id);
          return;
        }
      }
      store.ClearLabels(Batch(action));
      break;
    }
    case 8:
      if (action % 2) {
        store.Undo();
        store.Undo();  // two steps back: the next action drops them from redo
      } else {
        store.RenameCategory(cat, "renamed " + std::to_string(action));
      }
      break;
  }
}

// Everything observable, without times.
std::string Snapshot(const LabelStore& store) {
  std::ostringstream out;
  for (const LabelCategory& c : store.Categories()) {
    out << "cat " << c.id << " " << c.name << " " << c.color << " " << c.position << "\n";
  }
  for (const ImageLabels& l : store.All()) {
    out << l.target.source << "|" << l.target.image_id << " clean=" << l.clean << " note=" << l.note
        << " cats=";
    for (int64_t id : l.category_ids) out << id << ",";
    for (const LabelBox& b : l.boxes) {
      out << " box" << b.id << "(" << b.category_id << " " << b.x << " " << b.y << " " << b.width
          << " " << b.height << ")";
    }
    out << "\n";
  }
  out << "undo=" << store.UndoText() << " redo=" << store.RedoText() << "\n";
  return out.str();
}

[[noreturn]] void RunLabeller(const std::string& path, int fd) {
  int code = 0;
  try {
    auto store = LabelStore::Open(path);
    for (int64_t action = 1;; ++action) {
      RunAction(*store, static_cast<int>(action));
      if (::write(fd, &action, sizeof(action)) != static_cast<ssize_t>(sizeof(action))) break;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "labeller failed: %s\n", e.what());
    code = 1;
  }
  ::_exit(code);
}

TEST(LabelsCrashTest, KilledLabellerKeepsWholeActionsAndUndoWorks) {
  const int kTargets[] = {1, 6, 17, 40, 90};
  const int kDelaysUs[] = {0, 200, 900, 2000, 50};
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    testing::TempDir dir;
    const std::string path = dir.Join("labels.slproj");
    LabelStore::Open(path);  // created before the child so the kill never lands in creation
    const testing::KilledChild child = testing::RunAndKill(
        [&](int fd) { RunLabeller(path, fd); }, kTargets[round], kDelaysUs[round]);
    const int64_t reported = child.reported;
    ASSERT_TRUE(child.killed()) << "the labeller stopped by itself, status " << child.status;
    ASSERT_GE(reported, kTargets[round]);

    auto store = LabelStore::Open(path);
    ASSERT_EQ(store->IntegrityCheck(), "ok");
    const std::string state = Snapshot(*store);

    // Replay on a fresh project until the state matches: K >= reported, whole actions only.
    // Action 8k+8 with two undos is two transactions, so also compare after its first undo.
    auto replay = LabelStore::Open(dir.Join("replay.slproj"));
    int64_t matched = -1;
    for (int64_t k = 1; k <= reported + 2 && matched < 0; ++k) {
      const int action = static_cast<int>(k);
      if (action % 9 == 8 && action % 2 && k > reported) {
        replay->Undo();
        if (Snapshot(*replay) == state) matched = k;  // killed between the two undos
        replay->Undo();
      } else {
        RunAction(*replay, action);
      }
      if (matched < 0 && k >= reported && Snapshot(*replay) == state) matched = k;
    }
    ASSERT_GE(matched, reported) << "no replay of whole actions gives the state after the kill:\n"
                                 << state;

    // Undo works after the crash and gives the same as undo on the replay.
    if (replay->CanUndo()) {
      EXPECT_TRUE(store->Undo());
      EXPECT_TRUE(replay->Undo());
      EXPECT_EQ(Snapshot(*store), Snapshot(*replay));
      EXPECT_TRUE(store->Redo());
    }
    EXPECT_EQ(store->IntegrityCheck(), "ok");
  }
}

}  // namespace
}  // namespace synthlens
