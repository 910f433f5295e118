#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synthlens {

// What an image set holds; stored as its lower-case name ("real", "synthetic", "augmented").
enum class SetRole { kReal, kSynthetic, kAugmented };
const char* SetRoleName(SetRole role);
std::optional<SetRole> ParseSetRole(std::string_view name);

// How a view was made; stored as "classic" or "generative".
enum class ViewKind { kClassic, kGenerative };
const char* ViewKindName(ViewKind kind);
std::optional<ViewKind> ParseViewKind(std::string_view name);

struct ImageSetRecord {
  int64_t id = 0;
  std::string name;    // unique within a project
  std::string source;  // how to find the images again: a folder, "fashion-mnist:test", ...
  SetRole role = SetRole::kReal;
  std::string created_at;  // UTC, ISO 8601, set by the store
};

// One image of a set, addressed by a string id (a file name, a dataset index) so sets can be
// registered without copying pixels.
struct StoredImage {
  std::string image_id;
  std::string label;  // class label; empty when unknown
};

// One augmented or generated view of a source image, with everything needed to reproduce it.
struct ViewRecord {
  int64_t id = 0;             // set by the store
  int64_t set_id = 0;         // the output set the view belongs to
  int64_t source_set_id = 0;  // the set of the source image
  std::string source_id;      // the source image's id within source_set_id
  int64_t view_index = 0;     // unique per (set_id, source_id)
  ViewKind kind = ViewKind::kClassic;
  std::string recipe;       // classic: recipe name or file
  std::string model;        // generative: model package
  uint64_t seed = 0;        // full 64-bit range round-trips
  std::string params_json;  // sampled parameters; must be valid JSON, empty is stored as "{}"
  std::string output_path;  // where the pixels live, or empty when stored inline
  std::string blob;         // PNG bytes when stored inline, else empty
  std::string created_at;   // UTC, ISO 8601; empty on insert means "now"
};

// What identifies a cached embedding matrix: the same images, in the same order, through the same
// encoder bytes with the same preprocessing and compute precision give the same rows.
struct EmbeddingSetKey {
  std::string source;         // the image source spec (folders as absolute paths)
  std::string listing_hash;   // hex SHA-256 of the source's ordered listing (ids, labels, files)
  std::string encoder_hash;   // ModelManifest::hash of the encoder package
  std::string preprocessing;  // canonical preprocessing JSON (PreprocessingJson)
  std::string compute;        // device type and precision, e.g. "cpu fp32"

  bool operator==(const EmbeddingSetKey& other) const;
};

// Why an image of the set has no row (unreadable file, ...), kept so a cached result reports the
// same skipped inputs as the run that computed it.
struct EmbeddingIssue {
  std::string file;
  std::string reason;
};

// One cached embedding set: an N x D float32 matrix whose row i embeds ids[i].
struct EmbeddingSetRecord {
  int64_t id = 0;  // set by the store
  EmbeddingSetKey key;
  std::string encoder_name;
  cv::Mat matrix;                    // N x D CV_32F (empty in listings)
  std::vector<std::string> ids;      // N image ids, row order (empty in listings)
  std::vector<int> labels;           // N labels, -1 unknown (empty in listings)
  int64_t rows = 0;                  // N (also in listings)
  int dims = 0;                      // D (also in listings)
  std::vector<EmbeddingIssue> issues;  // the skipped inputs, in source order
  double seconds = 0;                // how long computing took
  std::string created_at;            // UTC, ISO 8601, set by the store
};

struct ProjectOpenOptions {
  // How long a call waits for another process's write to finish before failing with a "busy"
  // error; a second process (CLI next to the studio) waits instead of failing at once.
  int busy_timeout_ms = 5000;
  // false: WAL + synchronous=NORMAL, every commit survives a killed process (the WAL is written
  // before COMMIT returns) but the last commits may be lost on power loss (never corrupted).
  // true: synchronous=FULL, fsync on every commit, survives power loss too; slower commits.
  bool durable_against_power_loss = false;
  // false: a missing file is an error (the CLI's "open", so a typo does not create a project).
  bool create_if_missing = true;

  bool Check() const;
};

// A SynthLens project: one SQLite file with image sets, their images, per-view provenance and
// cached embeddings.
// Every mutating call is one transaction (all or nothing). Errors throw synthlens::Error with a
// message naming the file. A Project may be shared between threads (calls are serialised);
// several processes may open the same file at once.
class Project {
 public:
  virtual ~Project();

  virtual std::string path() const = 0;
  virtual int SchemaVersion() const = 0;

  // Throws if the name is already taken.
  virtual int64_t AddImageSet(const std::string& name, const std::string& source, SetRole role) = 0;
  // Returns the existing set's id if the name is taken (throws if its role differs).
  virtual int64_t GetOrAddImageSet(const std::string& name, const std::string& source,
                                   SetRole role) = 0;
  virtual std::optional<ImageSetRecord> FindImageSet(const std::string& name) const = 0;
  virtual std::optional<ImageSetRecord> GetImageSet(int64_t set_id) const = 0;
  virtual std::vector<ImageSetRecord> ImageSets() const = 0;  // ordered by id

  // Adds images to a set; an id already in the set is an error (nothing is added then).
  virtual void AddImages(int64_t set_id, const std::vector<StoredImage>& images) = 0;
  virtual std::vector<StoredImage> Images(int64_t set_id) const = 0;  // in insertion order
  virtual int64_t CountImages(int64_t set_id) const = 0;

  // Adds views in one transaction: all or nothing. Returns their ids in order.
  virtual std::vector<int64_t> AddViews(const std::vector<ViewRecord>& views) = 0;
  // Views of an output set, of one source image when source_id is not empty; ordered by
  // (source_id, view_index).
  virtual std::vector<ViewRecord> Views(int64_t set_id,
                                        const std::string& source_id = "") const = 0;
  // All views of one source image, across every output set ("views of image X").
  virtual std::vector<ViewRecord> ViewsOfImage(int64_t source_set_id,
                                               const std::string& source_id) const = 0;
  // Views in one set, or in the whole project when set_id is -1.
  virtual int64_t CountViews(int64_t set_id = -1) const = 0;
  // Deletes the views of one source image in a set (all views of the set when source_id is
  // empty). Returns how many were deleted.
  virtual int64_t DeleteViews(int64_t set_id, const std::string& source_id) = 0;

  // Embedding cache. Saves a complete set in one transaction, replacing a set with the same key;
  // returns its id. The matrix (CV_32F, rows x dims, matching ids and labels) is written in
  // chunks straight from the caller's memory, so saving needs no second copy of it. Throws for a
  // record whose sizes disagree.
  virtual int64_t SaveEmbeddings(const EmbeddingSetRecord& record) = 0;
  // The complete set for exactly this key, or nullopt. Throws if the stored set is inconsistent.
  virtual std::optional<EmbeddingSetRecord> FindEmbeddings(const EmbeddingSetKey& key) const = 0;
  // Every cached set without matrix, ids and labels (rows and dims are filled), ordered by id.
  virtual std::vector<EmbeddingSetRecord> EmbeddingSets() const = 0;
  // Returns whether a set with that id existed.
  virtual bool DeleteEmbeddings(int64_t id) = 0;

  // "ok" when healthy, else the problems found (SQLite integrity and foreign-key checks).
  virtual std::string IntegrityCheck() const = 0;

  // Every source name the project holds (image sets' sources, embedding sets, hand labels),
  // sorted, without duplicates.
  virtual std::vector<std::string> SourceNames() const = 0;
  // Renames a source everywhere in one transaction: image sets named by it (the name itself, or
  // "...:" + it for sets of views made from it) and their source, the embedding cache and the hand
  // labels. A row whose new name is taken stays under the old name. Returns the rows changed.
  virtual int64_t RenameSource(const std::string& from, const std::string& to) = 0;

  // Small per-project key/value settings (last opened set, UI state, ...).
  virtual void SetSetting(const std::string& key, const std::string& value) = 0;
  virtual std::optional<std::string> Setting(const std::string& key) const = 0;
};

// The schema version this binary writes; older files are migrated on open.
int LatestSchemaVersion();

// Opens (creating if allowed) a project file; ":memory:" gives a private in-memory project for
// tests. Throws synthlens::Error naming the file and the problem: not an SQLite file, another
// application's database, a schema newer than this binary, busy for too long, a missing or
// unwritable folder. A refused file (not SQLite, foreign, newer) is left byte-identical; a failed
// migration step leaves the file at its previous version. A zero-byte file is treated as a new
// project (e.g. created by `touch` or a crash before the first write).
std::unique_ptr<Project> OpenSqliteProject(const std::string& path,
                                           const ProjectOpenOptions& options = {});

}  // namespace synthlens
