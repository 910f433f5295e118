// The SQLite implementation of LabelStore (schema v4 tables, see project_sqlite.cc).
//
// Every action runs in one BEGIN IMMEDIATE transaction that changes rows through the Change*
// helpers below; each helper reads the row's state before, writes the state after and appends
// (kind, key, before, after) to the action's label_changes. Undo applies the befores in reverse
// order, redo the afters in order, so history is linear and every intermediate state is valid.

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <type_traits>
#include <utility>

#include "core/store/labels.h"
#include "core/store/schema.h"
#include "core/store/sqlite_internal.h"
#include "core/util/check.h"

namespace synthlens {

bool LabelTarget::operator==(const LabelTarget& o) const {
  return source == o.source && image_id == o.image_id;
}

bool LabelTarget::operator<(const LabelTarget& o) const {
  return source != o.source ? source < o.source : image_id < o.image_id;
}

LabelStore::~LabelStore() = default;

namespace {

using internal::WriteTransaction;
using json = nlohmann::json;

constexpr char kNow[] = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

// Colors given to categories created without one (import of an unknown name).
constexpr const char* kPalette[] = {"#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231",
                                    "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#fabed4",
                                    "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3"};

bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

bool IsValidColor(const std::string& color) {
  if (color.size() != 7 || color[0] != '#') return false;
  for (size_t i = 1; i < 7; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(color[i]))) return false;
  }
  return true;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

struct CategoryRow {
  std::string name, description, color;
  int position = 0;
  bool operator==(const CategoryRow& o) const {
    return name == o.name && description == o.description && color == o.color &&
           position == o.position;
  }
};

struct LabelState {
  bool clean = false;
  std::string note;
  bool operator==(const LabelState& o) const { return clean == o.clean && note == o.note; }
};

struct BoxRow {
  LabelTarget target;
  int64_t category_id = 0;
  double x = 0, y = 0, width = 0, height = 0;
  bool operator==(const BoxRow& o) const {
    return target == o.target && category_id == o.category_id && x == o.x && y == o.y &&
           width == o.width && height == o.height;
  }
};

json CategoryJson(const CategoryRow& r) {
  return {{"name", r.name}, {"description", r.description}, {"color", r.color},
          {"position", r.position}};
}
CategoryRow CategoryFromJson(const json& j) {
  return {j.at("name").get<std::string>(), j.at("description").get<std::string>(),
          j.at("color").get<std::string>(), j.at("position").get<int>()};
}
json TargetJson(const LabelTarget& t) { return {{"source", t.source}, {"image_id", t.image_id}}; }
LabelTarget TargetFromJson(const json& j) {
  return {j.at("source").get<std::string>(), j.at("image_id").get<std::string>()};
}
json BoxJson(const BoxRow& b) {
  return {{"source", b.target.source}, {"image_id", b.target.image_id},
          {"category_id", b.category_id}, {"x", b.x}, {"y", b.y}, {"width", b.width},
          {"height", b.height}};
}
BoxRow BoxFromJson(const json& j) {
  BoxRow b;
  b.target = TargetFromJson(j);
  b.category_id = j.at("category_id").get<int64_t>();
  b.x = j.at("x").get<double>();
  b.y = j.at("y").get<double>();
  b.width = j.at("width").get<double>();
  b.height = j.at("height").get<double>();
  return b;
}

class SqliteLabelStore : public LabelStore {
 public:
  SqliteLabelStore(std::string path, ProjectOpenOptions options,
                   std::unique_ptr<SQLite::Database> db)
      : path_(std::move(path)), options_(options), db_(std::move(db)) {}

  std::string path() const override { return path_; }

  std::vector<LabelCategory> Categories() const override {
    return Locked("listing label categories", [&] { return CategoriesLocked(); });
  }

  std::optional<LabelCategory> FindCategory(const std::string& name) const override {
    return Locked("reading label category '" + name + "'",
                  [&]() -> std::optional<LabelCategory> {
      for (LabelCategory& c : CategoriesLocked()) {
        if (AsciiLower(c.name) == AsciiLower(Trim(name))) return std::move(c);
      }
      return std::nullopt;
    });
  }

  int64_t AddCategory(const std::string& name, const std::string& color,
                      const std::string& description) override {
    const std::string clean_name = CheckCategoryName(name);
    CheckColor(color);
    CheckText(description, "category description");
    return Action("adding label category '" + clean_name + "'", [&] {
      const int64_t id = CreateCategoryLocked(clean_name, color, description);
      return std::make_pair(id, "add category '" + clean_name + "'");
    });
  }

  void RenameCategory(int64_t id, const std::string& name) override {
    const std::string clean_name = CheckCategoryName(name);
    Action("renaming label category", [&] {
      CategoryRow row = RequireCategory(id);
      const std::string old = row.name;
      if (AsciiLower(old) != AsciiLower(clean_name)) CheckNameFree(clean_name);
      row.name = clean_name;
      ChangeCategory(id, row);
      return std::make_pair(0, "rename category '" + old + "' to '" + clean_name + "'");
    });
  }

  void SetCategoryColor(int64_t id, const std::string& color) override {
    CheckColor(color);
    Action("setting a label category color", [&] {
      CategoryRow row = RequireCategory(id);
      row.color = color;
      ChangeCategory(id, row);
      return std::make_pair(0, "set color of '" + row.name + "'");
    });
  }

  void SetCategoryDescription(int64_t id, const std::string& description) override {
    CheckText(description, "category description");
    Action("setting a label category description", [&] {
      CategoryRow row = RequireCategory(id);
      row.description = description;
      ChangeCategory(id, row);
      return std::make_pair(0, "edit description of '" + row.name + "'");
    });
  }

  void MoveCategory(int64_t id, int new_position) override {
    Action("moving a label category", [&] {
      const CategoryRow moved = RequireCategory(id);
      std::vector<LabelCategory> live = CategoriesLocked();
      auto it = std::find_if(live.begin(), live.end(),
                             [&](const LabelCategory& c) { return c.id == id; });
      LabelCategory c = *it;
      live.erase(it);
      const int pos = std::clamp(new_position, 0, static_cast<int>(live.size()));
      live.insert(live.begin() + pos, c);
      Renumber(live);
      return std::make_pair(0, "move category '" + moved.name + "'");
    });
  }

  void RemoveCategory(int64_t id) override {
    Action("removing a label category", [&] {
      const CategoryRow row = RequireCategory(id);
      {
        std::vector<int64_t> boxes;
        SQLite::Statement q(*db_, "SELECT id FROM label_boxes WHERE category_id = ? ORDER BY id");
        q.bind(1, id);
        while (q.executeStep()) boxes.push_back(q.getColumn(0).getInt64());
        for (int64_t box : boxes) ChangeBox(box, std::nullopt);
      }
      {
        std::vector<LabelTarget> targets;
        SQLite::Statement q(*db_,
                            "SELECT l.source, l.image_id FROM label_assignments a JOIN "
                            "image_labels l ON l.id = a.label_id WHERE a.category_id = ? "
                            "ORDER BY l.source, l.image_id");
        q.bind(1, id);
        while (q.executeStep()) {
          targets.push_back({q.getColumn(0).getString(), q.getColumn(1).getString()});
        }
        for (const LabelTarget& t : targets) ChangeAssignment(t, id, false);
      }
      ChangeCategory(id, std::nullopt);
      Renumber(CategoriesLocked());
      return std::make_pair(0, "remove category '" + row.name + "'");
    });
  }

  void ToggleCategory(const std::vector<LabelTarget>& targets, int64_t category_id) override {
    const std::vector<LabelTarget> unique = Unique(targets);
    Action("toggling a label category", [&] {
      const CategoryRow cat = RequireCategory(category_id);
      bool all_have = true;
      for (const LabelTarget& t : unique) {
        if (!HasAssignment(t, category_id)) {
          all_have = false;
          break;
        }
      }
      for (const LabelTarget& t : unique) {
        if (all_have) {
          for (int64_t box : BoxIds(t, category_id)) ChangeBox(box, std::nullopt);
          ChangeAssignment(t, category_id, false);
        } else {
          AddCategoryTo(t, category_id);
        }
      }
      return std::make_pair(0, "toggle '" + cat.name + "' on " + Plural(unique.size(), "image"));
    });
  }

  void MarkClean(const std::vector<LabelTarget>& targets) override {
    const std::vector<LabelTarget> unique = Unique(targets);
    Action("marking images clean", [&] {
      for (const LabelTarget& t : unique) {
        StripCategoriesAndBoxes(t);
        LabelState s = ReadLabelState(t);
        s.clean = true;
        ChangeLabelState(t, s);
      }
      return std::make_pair(0, "mark " + Plural(unique.size(), "image") + " clean");
    });
  }

  void ClearLabels(const std::vector<LabelTarget>& targets) override {
    const std::vector<LabelTarget> unique = Unique(targets);
    Action("clearing labels", [&] {
      for (const LabelTarget& t : unique) {
        StripCategoriesAndBoxes(t);
        ChangeLabelState(t, LabelState{});
      }
      return std::make_pair(0, "clear labels of " + Plural(unique.size(), "image"));
    });
  }

  void SetNote(const LabelTarget& target, const std::string& note) override {
    CheckTarget(target);
    CheckText(note, "note");
    Action("saving a note", [&] {
      LabelState s = ReadLabelState(target);
      s.note = note;
      ChangeLabelState(target, s);
      return std::make_pair(0, "edit note of '" + target.image_id + "'");
    });
  }

  int64_t AddBox(const LabelTarget& target, const LabelBox& box) override {
    CheckTarget(target);
    SL_CHECK(std::isfinite(box.x) && std::isfinite(box.y) && std::isfinite(box.width) &&
                 std::isfinite(box.height) && box.width >= 0 && box.height >= 0,
             "AddBox: invalid box " << box.x << "," << box.y << " " << box.width << "x"
                                    << box.height);
    return Action("adding a label box", [&] {
      const CategoryRow cat = RequireCategory(box.category_id);
      AddCategoryTo(target, box.category_id);
      const int64_t id = QueryInt("SELECT coalesce(max(id), 0) + 1 FROM label_boxes");
      ChangeBox(id, BoxRow{target, box.category_id, box.x, box.y, box.width, box.height});
      return std::make_pair(id, "add '" + cat.name + "' box on '" + target.image_id + "'");
    });
  }

  void RemoveBox(int64_t box_id) override {
    Action("removing a label box", [&] {
      const std::optional<BoxRow> box = ReadBox(box_id);
      if (!box) SL_THROW(path_ << ": no label box with id " << box_id);
      ChangeBox(box_id, std::nullopt);
      return std::make_pair(0, "remove box from '" + box->target.image_id + "'");
    });
  }

  void SetImageSize(const LabelTarget& target, int width, int height) override {
    CheckTarget(target);
    SL_CHECK(width >= 0 && height >= 0, "SetImageSize: " << width << "x" << height);
    Locked("saving an image size", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement q(*db_,
                          "INSERT INTO image_labels (source, image_id, width, height) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (source, image_id) DO UPDATE SET "
                          "width = excluded.width, height = excluded.height "
                          "WHERE width <> excluded.width OR height <> excluded.height");
      q.bind(1, target.source);
      q.bind(2, target.image_id);
      q.bind(3, width);
      q.bind(4, height);
      if (q.exec() > 0) BumpRevision();
      transaction.Commit();
      return 0;
    });
  }

  bool Undo() override {
    return Locked("undoing a label action", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement q(*db_,
                          "SELECT id FROM label_actions WHERE undone = 0 ORDER BY id DESC LIMIT 1");
      if (!q.executeStep()) return false;
      const int64_t action = q.getColumn(0).getInt64();
      q.reset();
      SQLite::Statement changes(*db_,
                                "SELECT kind, key, before FROM label_changes WHERE action_id = ? "
                                "ORDER BY seq DESC");
      changes.bind(1, action);
      while (changes.executeStep()) ApplyLogged(changes);
      SQLite::Statement mark(*db_, "UPDATE label_actions SET undone = 1 WHERE id = ?");
      mark.bind(1, action);
      mark.exec();
      BumpRevision();
      transaction.Commit();
      return true;
    });
  }

  bool Redo() override {
    return Locked("redoing a label action", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement q(*db_,
                          "SELECT id FROM label_actions WHERE undone = 1 ORDER BY id LIMIT 1");
      if (!q.executeStep()) return false;
      const int64_t action = q.getColumn(0).getInt64();
      q.reset();
      SQLite::Statement changes(*db_,
                                "SELECT kind, key, after FROM label_changes WHERE action_id = ? "
                                "ORDER BY seq");
      changes.bind(1, action);
      while (changes.executeStep()) ApplyLogged(changes);
      SQLite::Statement mark(*db_, "UPDATE label_actions SET undone = 0 WHERE id = ?");
      mark.bind(1, action);
      mark.exec();
      BumpRevision();
      transaction.Commit();
      return true;
    });
  }

  bool CanUndo() const override { return !UndoText().empty(); }
  bool CanRedo() const override { return !RedoText().empty(); }

  std::string UndoText() const override {
    return Locked("reading the undo stack", [&] {
      return TextOf("SELECT text FROM label_actions WHERE undone = 0 ORDER BY id DESC LIMIT 1");
    });
  }

  std::string RedoText() const override {
    return Locked("reading the redo stack", [&] {
      return TextOf("SELECT text FROM label_actions WHERE undone = 1 ORDER BY id LIMIT 1");
    });
  }

  std::optional<ImageLabels> Get(const LabelTarget& target) const override {
    return Locked("reading labels of '" + target.image_id + "'",
                  [&]() -> std::optional<ImageLabels> {
      std::vector<ImageLabels> found = Load(" WHERE l.source = ? AND l.image_id = ?",
                                            {target.source, target.image_id}, false);
      if (found.empty()) return std::nullopt;
      const ImageLabels& l = found.front();
      if (!IsLabelled(l) && l.image_width == 0 && l.image_height == 0) return std::nullopt;
      return found.front();
    });
  }

  std::vector<ImageLabels> All(const std::string& source) const override {
    return Locked("listing labels", [&] {
      if (source.empty()) return Load("", {}, true);
      return Load(" WHERE l.source = ?", {source}, true);
    });
  }

  LabelCounts Counts(const std::string& source) const override {
    return Locked("counting labels", [&] {
      LabelCounts counts;
      const std::string where = source.empty() ? "" : " AND l.source = ?1";
      const std::string labelled =
          "(l.clean = 1 OR l.note <> '' OR EXISTS (SELECT 1 FROM label_assignments a WHERE "
          "a.label_id = l.id) OR EXISTS (SELECT 1 FROM label_boxes b WHERE b.label_id = l.id))";
      SQLite::Statement q(
          *db_, "SELECT count(*), coalesce(sum(l.clean), 0), coalesce(sum(EXISTS (SELECT 1 FROM "
                "label_assignments a WHERE a.label_id = l.id)), 0) FROM image_labels l WHERE " +
                    labelled + where);
      if (!source.empty()) q.bind(1, source);
      q.executeStep();
      counts.labelled = q.getColumn(0).getInt64();
      counts.clean = q.getColumn(1).getInt64();
      counts.with_artifacts = q.getColumn(2).getInt64();
      for (const LabelCategory& c : CategoriesLocked()) counts.per_category[c.id] = 0;
      SQLite::Statement per(*db_,
                            "SELECT a.category_id, count(*) FROM label_assignments a JOIN "
                            "image_labels l ON l.id = a.label_id WHERE 1" +
                                where + " GROUP BY a.category_id");
      if (!source.empty()) per.bind(1, source);
      while (per.executeStep()) {
        counts.per_category[per.getColumn(0).getInt64()] = per.getColumn(1).getInt64();
      }
      return counts;
    });
  }

  int64_t Revision() const override {
    return Locked("reading the label revision",
                  [&] { return QueryInt("SELECT value FROM label_meta WHERE key = 'revision'"); });
  }

  std::string IntegrityCheck() const override {
    return Locked("checking integrity", [&] { return internal::CheckDatabaseIntegrity(*db_); });
  }

  int64_t MergeLabels(const std::vector<LabelCategory>& categories,
                      const std::vector<LabelImportEntry>& entries,
                      const std::string& action_text) override {
    for (const LabelCategory& c : categories) {
      CheckCategoryName(c.name);
      if (!c.color.empty()) CheckColor(c.color);
      CheckText(c.description, "category description");
    }
    for (const LabelImportEntry& e : entries) {
      CheckTarget(e.target);
      CheckText(e.note, "note");
      for (const std::string& name : e.categories) CheckCategoryName(name);
      for (const LabelImportEntry::Box& b : e.boxes) {
        CheckCategoryName(b.category);
        SL_CHECK(std::isfinite(b.x) && std::isfinite(b.y) && std::isfinite(b.width) &&
                     std::isfinite(b.height) && b.width >= 0 && b.height >= 0,
                 "MergeLabels: invalid box on '" << e.target.image_id << "'");
      }
      SL_CHECK(e.image_width >= 0 && e.image_height >= 0, "MergeLabels: negative image size");
    }
    Action("merging labels", [&] {
      // Resolve (and create) categories by name.
      std::map<std::string, int64_t> ids;  // lower-case name -> id
      for (const LabelCategory& c : CategoriesLocked()) ids[AsciiLower(c.name)] = c.id;
      auto ensure = [&](const std::string& raw, const LabelCategory* hint) {
        const std::string name = Trim(raw);
        auto it = ids.find(AsciiLower(name));
        if (it != ids.end()) return it->second;
        std::string color = hint && !hint->color.empty() ? hint->color : "";
        if (color.empty()) color = kPalette[ids.size() % (sizeof(kPalette) / sizeof(*kPalette))];
        const int64_t id = CreateCategoryLocked(name, color, hint ? hint->description : "");
        ids[AsciiLower(name)] = id;
        return id;
      };
      for (const LabelCategory& c : categories) ensure(c.name, &c);
      for (const LabelImportEntry& e : entries) {
        for (const std::string& name : e.categories) ensure(name, nullptr);
        for (const LabelImportEntry::Box& b : e.boxes) ensure(b.category, nullptr);
      }
      for (const LabelImportEntry& e : entries) {
        for (const std::string& name : e.categories) {
          AddCategoryTo(e.target, ids.at(AsciiLower(Trim(name))));
        }
        for (const LabelImportEntry::Box& b : e.boxes) {
          const int64_t cat = ids.at(AsciiLower(Trim(b.category)));
          AddCategoryTo(e.target, cat);
          const BoxRow row{e.target, cat, b.x, b.y, b.width, b.height};
          bool exists = false;
          for (int64_t id : BoxIds(e.target, cat)) exists = exists || *ReadBox(id) == row;
          if (!exists) {
            ChangeBox(QueryInt("SELECT coalesce(max(id), 0) + 1 FROM label_boxes"), row);
          }
        }
        LabelState s = ReadLabelState(e.target);
        if (!e.note.empty()) s.note = e.note;
        if (e.clean && !HasAnyCategory(e.target)) s.clean = true;
        ChangeLabelState(e.target, s);
        if (e.image_width > 0 || e.image_height > 0) {
          SQLite::Statement q(*db_,
                              "UPDATE image_labels SET width = ?, height = ? WHERE source = ? AND "
                              "image_id = ?");
          q.bind(1, e.image_width);
          q.bind(2, e.image_height);
          q.bind(3, e.target.source);
          q.bind(4, e.target.image_id);
          if (LabelId(e.target, false) == 0) LabelId(e.target, true);
          q.exec();
          size_changed_ = true;
        }
      }
      return std::make_pair(0, action_text);
    });
    return static_cast<int64_t>(entries.size());
  }

 private:
  // Runs one labelling action: a write transaction in which fn changes rows (logged into a new
  // label_actions row) and returns (result, undo text). An action that changed nothing leaves
  // no undo step and keeps the redo steps.
  template <typename Fn>
  typename std::invoke_result_t<Fn&>::first_type Action(const std::string& what, Fn&& fn) {
    return Locked(what, [&]() -> typename std::invoke_result_t<Fn&>::first_type {
      WriteTransaction transaction(*db_);
      SQLite::Statement insert(*db_, "INSERT INTO label_actions (text, undone) VALUES ('', 0)");
      insert.exec();
      action_id_ = db_->getLastInsertRowid();
      seq_ = 0;
      size_changed_ = false;
      struct Reset {
        int64_t& id;
        ~Reset() { id = 0; }
      } reset{action_id_};
      auto [result, text] = fn();
      if (seq_ > 0) {
        SQLite::Statement set_text(*db_, "UPDATE label_actions SET text = ? WHERE id = ?");
        set_text.bind(1, text);
        set_text.bind(2, action_id_);
        set_text.exec();
        SQLite::Statement drop(*db_, "DELETE FROM label_actions WHERE undone = 1");
        drop.exec();
      } else {
        SQLite::Statement drop(*db_, "DELETE FROM label_actions WHERE id = ?");
        drop.bind(1, action_id_);
        drop.exec();
      }
      if (seq_ > 0 || size_changed_) BumpRevision();
      transaction.Commit();
      return result;
    });
  }

  template <typename Fn>
  std::invoke_result_t<Fn&> Locked(const std::string& action, Fn&& fn) const {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      return fn();
    } catch (const SQLite::Exception& e) {
      internal::ThrowSqlError(path_, action, e, options_.busy_timeout_ms);
    } catch (const json::exception& e) {
      SL_THROW(path_ << ": " << action << " failed: the label history is damaged (" << e.what()
                     << ")");
    }
  }

  int64_t QueryInt(const char* sql) const { return internal::QueryInt(*db_, sql); }

  std::string TextOf(const char* sql) const {
    SQLite::Statement q(*db_, sql);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
  }

  void BumpRevision() {
    db_->exec("UPDATE label_meta SET value = value + 1 WHERE key = 'revision'");
  }

  // --- validation (before any SQL) ---

  std::string CheckCategoryName(const std::string& name) const {
    const std::string trimmed = Trim(name);
    if (trimmed.empty()) SL_THROW(path_ << ": a label category needs a name");
    if (trimmed.find_first_of(";\n\r") != std::string::npos) {
      SL_THROW(path_ << ": label category name '" << trimmed
                     << "' may not contain ';' or line breaks");
    }
    CheckText(trimmed, "category name");
    return trimmed;
  }

  void CheckColor(const std::string& color) const {
    if (!IsValidColor(color)) {
      SL_THROW(path_ << ": label category color '" << color << "' is not #rrggbb");
    }
  }

  void CheckText(const std::string& text, const char* what) const {
    if (!IsValidUtf8(text)) SL_THROW(path_ << ": the " << what << " is not valid UTF-8");
  }

  void CheckTarget(const LabelTarget& t) const {
    if (t.image_id.empty()) SL_THROW(path_ << ": a label target needs an image id");
    CheckText(t.source, "image source");
    CheckText(t.image_id, "image id");
  }

  std::vector<LabelTarget> Unique(const std::vector<LabelTarget>& targets) const {
    std::vector<LabelTarget> out;
    std::set<LabelTarget> seen;
    for (const LabelTarget& t : targets) {
      CheckTarget(t);
      if (seen.insert(t).second) out.push_back(t);
    }
    return out;
  }

  // --- categories ---

  std::vector<LabelCategory> CategoriesLocked() const {
    SQLite::Statement q(*db_,
                        "SELECT id, name, description, color, position FROM label_categories "
                        "ORDER BY position, id");
    std::vector<LabelCategory> out;
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                     q.getColumn(2).getString(), q.getColumn(3).getString(),
                     q.getColumn(4).getInt()});
    }
    return out;
  }

  std::optional<CategoryRow> ReadCategory(int64_t id) const {
    SQLite::Statement q(*db_,
                        "SELECT name, description, color, position FROM label_categories WHERE "
                        "id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return CategoryRow{q.getColumn(0).getString(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getInt()};
  }

  CategoryRow RequireCategory(int64_t id) const {
    auto row = ReadCategory(id);
    if (!row) SL_THROW(path_ << ": no label category with id " << id);
    return *row;
  }

  void CheckNameFree(const std::string& name) const {
    SQLite::Statement q(*db_, "SELECT 1 FROM label_categories WHERE name = ? COLLATE NOCASE");
    q.bind(1, name);
    if (q.executeStep()) SL_THROW(path_ << ": a label category named '" << name << "' exists");
  }

  int64_t CreateCategoryLocked(const std::string& name, const std::string& color,
                               const std::string& description) {
    CheckNameFree(name);
    const int64_t id = QueryInt("SELECT coalesce(max(id), 0) + 1 FROM label_categories");
    const int position =
        static_cast<int>(QueryInt("SELECT coalesce(max(position) + 1, 0) FROM label_categories"));
    ChangeCategory(id, CategoryRow{name, description, color, position});
    return id;
  }

  // Gives the categories positions 0..n-1 in the given order.
  void Renumber(const std::vector<LabelCategory>& ordered) {
    for (size_t i = 0; i < ordered.size(); ++i) {
      if (ordered[i].position == static_cast<int>(i)) continue;
      CategoryRow row = *ReadCategory(ordered[i].id);
      row.position = static_cast<int>(i);
      ChangeCategory(ordered[i].id, row);
    }
  }

  void WriteCategory(int64_t id, const std::optional<CategoryRow>& row) {
    if (!row) {
      SQLite::Statement q(*db_, "DELETE FROM label_categories WHERE id = ?");
      q.bind(1, id);
      q.exec();
      return;
    }
    SQLite::Statement q(*db_,
                        "INSERT INTO label_categories (id, name, description, color, position) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = "
                        "excluded.name, description = excluded.description, color = "
                        "excluded.color, position = excluded.position");
    q.bind(1, id);
    q.bind(2, row->name);
    q.bind(3, row->description);
    q.bind(4, row->color);
    q.bind(5, row->position);
    q.exec();
  }

  void ChangeCategory(int64_t id, const std::optional<CategoryRow>& after) {
    const std::optional<CategoryRow> before = ReadCategory(id);
    if (before == after) return;
    WriteCategory(id, after);
    Log("category", {{"id", id}}, before ? CategoryJson(*before) : json(),
        after ? CategoryJson(*after) : json());
  }

  // --- image label rows ---

  // The image_labels row id of a target; 0 when absent and !create. Creating a row is not a
  // logged change: an empty row means "unlabelled" (it may hold a known size).
  int64_t LabelId(const LabelTarget& t, bool create) {
    SQLite::Statement q(*db_, "SELECT id FROM image_labels WHERE source = ? AND image_id = ?");
    q.bind(1, t.source);
    q.bind(2, t.image_id);
    if (q.executeStep()) return q.getColumn(0).getInt64();
    if (!create) return 0;
    SQLite::Statement insert(*db_, "INSERT INTO image_labels (source, image_id) VALUES (?, ?)");
    insert.bind(1, t.source);
    insert.bind(2, t.image_id);
    insert.exec();
    return db_->getLastInsertRowid();
  }

  // Marks a target's labels as changed now; returns its row id.
  int64_t Touch(const LabelTarget& t) {
    const int64_t id = LabelId(t, true);
    SQLite::Statement q(*db_, std::string("UPDATE image_labels SET updated_at = ") + kNow +
                                  " WHERE id = ?");
    q.bind(1, id);
    q.exec();
    return id;
  }

  LabelState ReadLabelState(const LabelTarget& t) const {
    SQLite::Statement q(*db_,
                        "SELECT clean, note FROM image_labels WHERE source = ? AND image_id = ?");
    q.bind(1, t.source);
    q.bind(2, t.image_id);
    if (!q.executeStep()) return {};
    return {q.getColumn(0).getInt() != 0, q.getColumn(1).getString()};
  }

  void WriteLabelState(const LabelTarget& t, const LabelState& s) {
    const int64_t id = Touch(t);
    SQLite::Statement q(*db_, "UPDATE image_labels SET clean = ?, note = ? WHERE id = ?");
    q.bind(1, s.clean ? 1 : 0);
    q.bind(2, s.note);
    q.bind(3, id);
    q.exec();
  }

  void ChangeLabelState(const LabelTarget& t, const LabelState& after) {
    const LabelState before = ReadLabelState(t);
    if (before == after) return;
    WriteLabelState(t, after);
    Log("label", TargetJson(t), json{{"clean", before.clean}, {"note", before.note}},
        json{{"clean", after.clean}, {"note", after.note}});
  }

  // --- assignments ---

  bool HasAssignment(const LabelTarget& t, int64_t category) const {
    SQLite::Statement q(*db_,
                        "SELECT 1 FROM label_assignments a JOIN image_labels l ON l.id = "
                        "a.label_id WHERE l.source = ? AND l.image_id = ? AND a.category_id = ?");
    q.bind(1, t.source);
    q.bind(2, t.image_id);
    q.bind(3, category);
    return q.executeStep();
  }

  bool HasAnyCategory(const LabelTarget& t) const {
    SQLite::Statement q(*db_,
                        "SELECT 1 FROM label_assignments a JOIN image_labels l ON l.id = "
                        "a.label_id WHERE l.source = ? AND l.image_id = ?");
    q.bind(1, t.source);
    q.bind(2, t.image_id);
    return q.executeStep();
  }

  void WriteAssignment(const LabelTarget& t, int64_t category, bool present) {
    const int64_t id = Touch(t);
    SQLite::Statement q(*db_, present ? "INSERT OR IGNORE INTO label_assignments (label_id, "
                                        "category_id) VALUES (?, ?)"
                                      : "DELETE FROM label_assignments WHERE label_id = ? AND "
                                        "category_id = ?");
    q.bind(1, id);
    q.bind(2, category);
    q.exec();
  }

  void ChangeAssignment(const LabelTarget& t, int64_t category, bool after) {
    const bool before = HasAssignment(t, category);
    if (before == after) return;
    WriteAssignment(t, category, after);
    json key = TargetJson(t);
    key["category_id"] = category;
    Log("assignment", key, before ? json(true) : json(), after ? json(true) : json());
  }

  // Adds a category to an image (clearing its clean mark).
  void AddCategoryTo(const LabelTarget& t, int64_t category) {
    ChangeAssignment(t, category, true);
    LabelState s = ReadLabelState(t);
    if (s.clean) {
      s.clean = false;
      ChangeLabelState(t, s);
    }
  }

  void StripCategoriesAndBoxes(const LabelTarget& t) {
    for (int64_t box : BoxIds(t, 0)) ChangeBox(box, std::nullopt);
    std::vector<int64_t> cats;
    {
      SQLite::Statement q(*db_,
                          "SELECT a.category_id FROM label_assignments a JOIN image_labels l ON "
                          "l.id = a.label_id WHERE l.source = ? AND l.image_id = ? ORDER BY 1");
      q.bind(1, t.source);
      q.bind(2, t.image_id);
      while (q.executeStep()) cats.push_back(q.getColumn(0).getInt64());
    }
    for (int64_t c : cats) ChangeAssignment(t, c, false);
  }

  // --- boxes ---

  // Box ids of a target, of one category when category > 0.
  std::vector<int64_t> BoxIds(const LabelTarget& t, int64_t category) const {
    SQLite::Statement q(*db_,
                        "SELECT b.id FROM label_boxes b JOIN image_labels l ON l.id = b.label_id "
                        "WHERE l.source = ? AND l.image_id = ? AND (? = 0 OR b.category_id = ?) "
                        "ORDER BY b.id");
    q.bind(1, t.source);
    q.bind(2, t.image_id);
    q.bind(3, category);
    q.bind(4, category);
    std::vector<int64_t> ids;
    while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
    return ids;
  }

  std::optional<BoxRow> ReadBox(int64_t id) const {
    SQLite::Statement q(*db_,
                        "SELECT l.source, l.image_id, b.category_id, b.x, b.y, b.width, b.height "
                        "FROM label_boxes b JOIN image_labels l ON l.id = b.label_id WHERE b.id = "
                        "?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return BoxRow{{q.getColumn(0).getString(), q.getColumn(1).getString()},
                  q.getColumn(2).getInt64(),
                  q.getColumn(3).getDouble(),
                  q.getColumn(4).getDouble(),
                  q.getColumn(5).getDouble(),
                  q.getColumn(6).getDouble()};
  }

  void WriteBox(int64_t id, const std::optional<BoxRow>& row) {
    if (!row) {
      if (auto old = ReadBox(id)) Touch(old->target);
      SQLite::Statement q(*db_, "DELETE FROM label_boxes WHERE id = ?");
      q.bind(1, id);
      q.exec();
      return;
    }
    const int64_t label = Touch(row->target);
    SQLite::Statement q(*db_,
                        "INSERT OR REPLACE INTO label_boxes (id, label_id, category_id, x, y, "
                        "width, height) VALUES (?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, id);
    q.bind(2, label);
    q.bind(3, row->category_id);
    q.bind(4, row->x);
    q.bind(5, row->y);
    q.bind(6, row->width);
    q.bind(7, row->height);
    q.exec();
  }

  void ChangeBox(int64_t id, const std::optional<BoxRow>& after) {
    const std::optional<BoxRow> before = ReadBox(id);
    if (before == after) return;
    WriteBox(id, after);
    Log("box", {{"id", id}}, before ? BoxJson(*before) : json(), after ? BoxJson(*after) : json());
  }

  // --- the log ---

  void Log(const char* kind, const json& key, const json& before, const json& after) {
    SL_CHECK(action_id_ != 0, "label change outside an action");
    SQLite::Statement q(*db_,
                        "INSERT INTO label_changes (action_id, seq, kind, key, before, after) "
                        "VALUES (?, ?, ?, ?, ?, ?)");
    q.bind(1, action_id_);
    q.bind(2, seq_++);
    q.bind(3, kind);
    q.bind(4, key.dump());
    if (before.is_null()) q.bind(5); else q.bind(5, before.dump());
    if (after.is_null()) q.bind(6); else q.bind(6, after.dump());
    q.exec();
  }

  // Applies one logged state (column 2 of a (kind, key, state) row) without logging.
  void ApplyLogged(SQLite::Statement& row) {
    const std::string kind = row.getColumn(0).getString();
    const json key = json::parse(row.getColumn(1).getString());
    const SQLite::Column state_col = row.getColumn(2);
    const json state = state_col.isNull() ? json() : json::parse(state_col.getString());
    if (kind == "category") {
      WriteCategory(key.at("id").get<int64_t>(),
                    state.is_null() ? std::nullopt : std::optional(CategoryFromJson(state)));
    } else if (kind == "label") {
      WriteLabelState(TargetFromJson(key),
                      {state.at("clean").get<bool>(), state.at("note").get<std::string>()});
    } else if (kind == "assignment") {
      WriteAssignment(TargetFromJson(key), key.at("category_id").get<int64_t>(),
                      !state.is_null());
    } else if (kind == "box") {
      WriteBox(key.at("id").get<int64_t>(),
               state.is_null() ? std::nullopt : std::optional(BoxFromJson(state)));
    } else {
      SL_THROW(path_ << ": the label history has an unknown change kind '" << kind << "'");
    }
  }

  // --- reading ---

  static bool IsLabelled(const ImageLabels& l) {
    return l.clean || !l.note.empty() || !l.category_ids.empty() || !l.boxes.empty();
  }

  // Labels of the image_labels rows matching `where` (alias l), ordered by (source, image_id).
  std::vector<ImageLabels> Load(const std::string& where, const std::vector<std::string>& args,
                                bool labelled_only) const {
    std::vector<ImageLabels> out;
    std::map<int64_t, size_t> index;
    {
      SQLite::Statement q(*db_,
                          "SELECT l.id, l.source, l.image_id, l.clean, l.note, l.width, l.height, "
                          "l.updated_at FROM image_labels l" +
                              where + " ORDER BY l.source, l.image_id");
      for (size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
      while (q.executeStep()) {
        ImageLabels l;
        l.target = {q.getColumn(1).getString(), q.getColumn(2).getString()};
        l.clean = q.getColumn(3).getInt() != 0;
        l.note = q.getColumn(4).getString();
        l.image_width = q.getColumn(5).getInt();
        l.image_height = q.getColumn(6).getInt();
        l.updated_at = q.getColumn(7).getString();
        index[q.getColumn(0).getInt64()] = out.size();
        out.push_back(std::move(l));
      }
    }
    {
      SQLite::Statement q(*db_,
                          "SELECT a.label_id, a.category_id FROM label_assignments a JOIN "
                          "image_labels l ON l.id = a.label_id" +
                              where + " ORDER BY a.label_id, a.category_id");
      for (size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
      while (q.executeStep()) {
        auto it = index.find(q.getColumn(0).getInt64());
        if (it != index.end()) out[it->second].category_ids.push_back(q.getColumn(1).getInt64());
      }
    }
    {
      SQLite::Statement q(*db_,
                          "SELECT b.label_id, b.id, b.category_id, b.x, b.y, b.width, b.height "
                          "FROM label_boxes b JOIN image_labels l ON l.id = b.label_id" +
                              where + " ORDER BY b.id");
      for (size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
      while (q.executeStep()) {
        auto it = index.find(q.getColumn(0).getInt64());
        if (it == index.end()) continue;
        out[it->second].boxes.push_back({q.getColumn(1).getInt64(), q.getColumn(2).getInt64(),
                                         q.getColumn(3).getDouble(), q.getColumn(4).getDouble(),
                                         q.getColumn(5).getDouble(), q.getColumn(6).getDouble()});
      }
    }
    if (labelled_only) {
      out.erase(std::remove_if(out.begin(), out.end(),
                               [](const ImageLabels& l) { return !IsLabelled(l); }),
                out.end());
    }
    return out;
  }

  const std::string path_;
  const ProjectOpenOptions options_;
  std::unique_ptr<SQLite::Database> db_;
  mutable std::mutex mutex_;
  // The action being recorded (0 outside Action) and its next change number.
  int64_t action_id_ = 0;
  int64_t seq_ = 0;
  bool size_changed_ = false;
};

}  // namespace

std::unique_ptr<LabelStore> LabelStore::Open(const std::string& project_path,
                                             const ProjectOpenOptions& options) {
  std::unique_ptr<SQLite::Database> db =
      internal::OpenProjectDatabase(project_path, options, internal::ProjectMigrations());
  return std::make_unique<SqliteLabelStore>(project_path, options, std::move(db));
}

}  // namespace synthlens
