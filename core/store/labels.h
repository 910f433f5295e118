#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/store/project.h"
#include "core/util/result.h"

namespace synthlens {

// One entry of the editable artifact taxonomy.
struct LabelCategory {
  int64_t id = 0;
  std::string name;         // unique (case-insensitive) among live categories
  std::string description;
  std::string color;        // "#rrggbb"
  int position = 0;         // display order; number keys 1..9 map to positions 0..8 by default
};

// Which image a label belongs to: the image source spec ("fashion-mnist:test", an absolute folder,
// or "views:<output set name>" for generated/augmented views) and the image id within it.
struct LabelTarget {
  std::string source;
  std::string image_id;
  bool operator==(const LabelTarget& o) const;
  bool operator!=(const LabelTarget& o) const { return !(*this == o); }
  bool operator<(const LabelTarget& o) const;
};

struct LabelBox {
  int64_t id = 0;
  int64_t category_id = 0;
  double x = 0, y = 0, width = 0, height = 0;  // image pixel coordinates, top-left origin
};

struct ImageLabels {
  LabelTarget target;
  bool clean = false;                  // explicitly reviewed and clean (key 0)
  std::vector<int64_t> category_ids;   // image-level categories, ascending id
  std::string note;
  std::vector<LabelBox> boxes;         // ascending box id
  int image_width = 0, image_height = 0;  // when known (given by the labeller), for COCO export
  std::string updated_at;              // UTC ISO 8601
};

struct LabelCounts {
  int64_t labelled = 0;   // images with any category, box, note or clean mark
  int64_t clean = 0;
  int64_t with_artifacts = 0;  // at least one category
  std::map<int64_t, int64_t> per_category;  // live category id -> images carrying it
};

// One image's labels as read from an export file: categories by name, so a file from another
// project (other ids) merges by meaning. See LabelStore::MergeLabels.
struct LabelImportEntry {
  struct Box {
    std::string category;
    double x = 0, y = 0, width = 0, height = 0;
  };
  LabelTarget target;
  bool clean = false;
  std::vector<std::string> categories;  // image-level category names
  std::string note;
  std::vector<Box> boxes;
  int image_width = 0, image_height = 0;  // 0 = unknown (kept as stored)
};

// Hand labels of a project, stored in the project's SQLite file (schema v4). Every action is one
// BEGIN IMMEDIATE transaction that applies the change and records its undo information, so a
// killed process loses nothing committed and undo/redo survive restarts. Errors throw
// synthlens::Error naming the file. Calls are serialised; several processes may open the file.
class LabelStore {
 public:
  // Opens the project file (creating/migrating as OpenSqliteProject does); seeds the default
  // taxonomy on first use: distorted shape, texture/pattern artifact, colour shift, blur, noise,
  // semantic change of class, duplicate or copy, other.
  static std::unique_ptr<LabelStore> Open(const std::string& project_path,
                                          const ProjectOpenOptions& options = {});
  virtual ~LabelStore();

  virtual std::string path() const = 0;

  // Taxonomy (each call one transaction; undoable like labelling actions).
  virtual std::vector<LabelCategory> Categories() const = 0;  // live ones, by position
  // The live category with this name (case-insensitive), if any.
  virtual std::optional<LabelCategory> FindCategory(const std::string& name) const = 0;
  // Throws for an empty or taken name or a color that is not "#rrggbb".
  virtual int64_t AddCategory(const std::string& name, const std::string& color,
                              const std::string& description = "") = 0;
  virtual void RenameCategory(int64_t id, const std::string& name) = 0;
  virtual void SetCategoryColor(int64_t id, const std::string& color) = 0;
  virtual void SetCategoryDescription(int64_t id, const std::string& description) = 0;
  // new_position is clamped to [0, live categories - 1]; the others shift to make room.
  virtual void MoveCategory(int64_t id, int new_position) = 0;
  virtual void RemoveCategory(int64_t id) = 0;  // also removes its assignments and boxes; undo restores them

  // Labelling actions: each is one transaction and one undo step, for one or many images.
  // Toggle: if every target has the category it is removed from all, else added to all; adding
  // clears the clean mark.
  virtual void ToggleCategory(const std::vector<LabelTarget>& targets, int64_t category_id) = 0;
  virtual void MarkClean(const std::vector<LabelTarget>& targets) = 0;  // removes categories + boxes
  virtual void ClearLabels(const std::vector<LabelTarget>& targets) = 0;  // back to unlabelled
  virtual void SetNote(const LabelTarget& target, const std::string& note) = 0;
  virtual int64_t AddBox(const LabelTarget& target, const LabelBox& box) = 0;  // adds its category too
  virtual void RemoveBox(int64_t box_id) = 0;
  virtual void SetImageSize(const LabelTarget& target, int width, int height) = 0;  // not an undo step

  // Undo/redo survive restarts (stored). A new action after undo drops the redo steps.
  virtual bool Undo() = 0;  // false when nothing to undo
  virtual bool Redo() = 0;
  virtual bool CanUndo() const = 0;
  virtual bool CanRedo() const = 0;
  virtual std::string UndoText() const = 0;  // e.g. "toggle 'blur' on 3 images"; empty if none
  virtual std::string RedoText() const = 0;

  // Queries.
  // nullopt when the image has neither labels nor a known size.
  virtual std::optional<ImageLabels> Get(const LabelTarget& target) const = 0;
  // Labelled images ordered by (source, image_id).
  virtual std::vector<ImageLabels> All(const std::string& source = "") const = 0;  // "" = every source
  virtual LabelCounts Counts(const std::string& source = "") const = 0;
  virtual int64_t Revision() const = 0;  // increases with every committed change (for UI refresh)

  // "ok" when healthy, else the problems found (SQLite integrity and foreign-key checks).
  virtual std::string IntegrityCheck() const = 0;

  // Merges labels (e.g. an imported file) as ONE undoable action. First every category of
  // `categories` and every name used by `entries` that has no live category (case-insensitive)
  // is created (color/description from `categories`, else a palette color). Then per entry:
  // categories are unioned, boxes appended unless an identical one exists, a non-empty note
  // replaces the note, the clean mark is set when the entry is clean and the image ends up with
  // no category (adding categories clears it), known sizes are stored. Returns how many images
  // were given; nothing is changed (and no undo step made) when nothing differs.
  virtual int64_t MergeLabels(const std::vector<LabelCategory>& categories,
                              const std::vector<LabelImportEntry>& entries,
                              const std::string& action_text) = 0;
};

// Export / import (round-trip exact for categories, clean marks, notes, boxes); see docs/labels.md.
// CSV: header `source,image_id,clean,categories,note,box_category,x,y,width,height`, one row per
// box or one row per image without boxes; categories joined by ';' (names); RFC 4180 quoting.
// Returns the number of images written. Files are written atomically.
Result<int64_t> ExportLabelsCsv(const LabelStore& store, const std::string& path,
                                const std::string& source = "");
// COCO JSON; image-level labels live in each image entry's extra fields (docs/labels.md).
Result<int64_t> ExportLabelsCoco(const LabelStore& store, const std::string& path,
                                 const std::string& source = "");
// Fills the width/height of labels that lack them (the CLI opens the image source); returns
// false when the size is unknown. Keeps the store free of image I/O.
using LabelImageSizeFn = std::function<bool(const LabelTarget& target, int* width, int* height)>;
Result<int64_t> ExportLabelsCoco(const LabelStore& store, const std::string& path,
                                 const std::string& source, const LabelImageSizeFn& size_of);
// Import adds/merges into the store as ONE undoable action; unknown category names are created;
// errors name the file and line/field. Returns the number of images touched.
Result<int64_t> ImportLabelsCsv(LabelStore& store, const std::string& path);
Result<int64_t> ImportLabelsCoco(LabelStore& store, const std::string& path,
                                 const std::string& default_source = "");

}  // namespace synthlens
