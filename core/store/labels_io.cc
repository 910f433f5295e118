// CSV and COCO JSON export/import of hand labels (formats in docs/labels.md).

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "core/store/labels.h"
#include "core/util/file_util.h"

namespace synthlens {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kCsvColumns[] = {"source", "image_id", "clean", "categories", "note",
                                       "box_category", "x", "y", "width", "height"};
constexpr size_t kCsvColumnCount = sizeof(kCsvColumns) / sizeof(*kCsvColumns);

// Shortest text that reads back as the same double.
std::string FormatDouble(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf, end);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::map<int64_t, std::string> CategoryNames(const LabelStore& store) {
  std::map<int64_t, std::string> names;
  for (const LabelCategory& c : store.Categories()) names[c.id] = c.name;
  return names;
}

template <typename Fn>
auto Guard(const std::string& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return decltype(fn())::Failure(e.what());
  }
}

struct CsvRecord {
  int line = 0;  // where the record starts (1-based)
  std::vector<std::string> fields;
};

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; records end
// with CRLF or LF. Fails with "PATH:LINE: why".
Result<std::vector<CsvRecord>> ParseCsv(const std::string& path, const std::string& text) {
  std::vector<CsvRecord> records;
  size_t i = 0;
  const size_t n = text.size();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 BOM
  int line = 1;
  while (i < n) {
    CsvRecord record;
    record.line = line;
    std::string field;
    bool done = false;
    while (!done) {
      field.clear();
      if (i < n && text[i] == '"') {
        const int start_line = line;
        ++i;
        while (true) {
          if (i >= n) {
            return Result<std::vector<CsvRecord>>::Failure(
                path + ":" + std::to_string(start_line) + ": unterminated quoted field");
          }
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        if (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
          return Result<std::vector<CsvRecord>>::Failure(
              path + ":" + std::to_string(line) + ": unexpected text after a quoted field");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
          if (text[i] == '"') {
            return Result<std::vector<CsvRecord>>::Failure(
                path + ":" + std::to_string(line) +
                ": a quote inside an unquoted field (quote the whole field)");
          }
          field += text[i++];
        }
      }
      record.fields.push_back(field);
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') {
        ++i;
        ++line;
      }
      done = true;
    }
    // A blank line (a single empty field) is skipped.
    if (record.fields.size() == 1 && record.fields[0].empty()) continue;
    records.push_back(std::move(record));
  }
  return records;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

std::vector<std::string> SplitNames(const std::string& s) {
  std::vector<std::string> names;
  std::string current;
  std::istringstream in(s);
  while (std::getline(in, current, ';')) {
    const size_t b = current.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    const size_t e = current.find_last_not_of(" \t");
    names.push_back(current.substr(b, e - b + 1));
  }
  return names;
}

Result<int64_t> WriteCoco(const LabelStore& store, const std::string& path,
                          const std::string& source, const LabelImageSizeFn* size_of) {
  ojson root;
  root["info"] = {{"description", "SynthLens hand labels"}, {"version", "1"}};
  root["licenses"] = ojson::array();
  ojson categories = ojson::array();
  for (const LabelCategory& c : store.Categories()) {
    categories.push_back({{"id", c.id},
                          {"name", c.name},
                          {"supercategory", "artifact"},
                          {"color", c.color},
                          {"description", c.description},
                          {"position", c.position}});
  }
  root["categories"] = categories;
  ojson images = ojson::array();
  ojson annotations = ojson::array();
  int64_t image_id = 0, annotation_id = 0;
  for (const ImageLabels& l : store.All(source)) {
    ++image_id;
    int width = l.image_width, height = l.image_height;
    if ((width <= 0 || height <= 0) && size_of && *size_of) {
      int w = 0, h = 0;
      if ((*size_of)(l.target, &w, &h) && w > 0 && h > 0) {
        width = w;
        height = h;
      }
    }
    images.push_back({{"id", image_id},
                      {"file_name", l.target.image_id},
                      {"width", width},
                      {"height", height},
                      {"synthlens_source", l.target.source},
                      {"clean", l.clean},
                      {"note", l.note},
                      {"category_ids", l.category_ids}});
    for (const LabelBox& b : l.boxes) {
      annotations.push_back({{"id", ++annotation_id},
                             {"image_id", image_id},
                             {"category_id", b.category_id},
                             {"bbox", {b.x, b.y, b.width, b.height}},
                             {"area", b.width * b.height},
                             {"iscrowd", 0}});
    }
  }
  root["images"] = images;
  root["annotations"] = annotations;
  const std::string error = WriteFileAtomic(path, root.dump(2) + "\n");
  if (!error.empty()) return Result<int64_t>::Failure(error);
  return image_id;
}

// Reads a JSON field with a message naming the file and the field when it has the wrong type.
class CocoReader {
 public:
  explicit CocoReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& why) const {
    throw Error(path_ + ": " + field + ": " + why);
  }
  const ojson& Member(const ojson& obj, const std::string& where, const char* key,
                      bool required) const {
    static const ojson kNull;
    if (!obj.is_object()) Fail(where, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) Fail(where + "." + key, "missing");
      return kNull;
    }
    return *it;
  }
  int64_t Int(const ojson& v, const std::string& where) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
    }
    Fail(where, "expected an integer");
  }
  double Number(const ojson& v, const std::string& where) const {
    if (!v.is_number() || !std::isfinite(v.get<double>())) Fail(where, "expected a number");
    return v.get<double>();
  }
  std::string String(const ojson& v, const std::string& where) const {
    if (!v.is_string()) Fail(where, "expected a string");
    return v.get<std::string>();
  }
  bool Bool(const ojson& v, const std::string& where) const {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) {
      return v.get<int64_t>() == 1;
    }
    Fail(where, "expected true or false");
  }
  const ojson& Array(const ojson& v, const std::string& where) const {
    if (!v.is_array()) Fail(where, "expected an array");
    return v;
  }

 private:
  std::string path_;
};

}  // namespace

Result<int64_t> ExportLabelsCsv(const LabelStore& store, const std::string& path,
                                const std::string& source) {
  return Guard(path, [&]() -> Result<int64_t> {
    const std::map<int64_t, std::string> names = CategoryNames(store);
    auto name_of = [&](int64_t id) {
      auto it = names.find(id);
      return it != names.end() ? it->second : std::to_string(id);
    };
    std::string out;
    for (size_t i = 0; i < kCsvColumnCount; ++i) {
      out += (i ? "," : "");
      out += kCsvColumns[i];
    }
    out += "\r\n";
    int64_t images = 0;
    for (const ImageLabels& l : store.All(source)) {
      ++images;
      std::string categories;
      for (int64_t id : l.category_ids) {
        if (!categories.empty()) categories += ';';
        categories += name_of(id);
      }
      const std::string prefix = CsvField(l.target.source) + "," + CsvField(l.target.image_id) +
                                 "," + (l.clean ? "1" : "0") + "," + CsvField(categories) + "," +
                                 CsvField(l.note) + ",";
      if (l.boxes.empty()) {
        out += prefix + ",,,,\r\n";
        continue;
      }
      for (const LabelBox& b : l.boxes) {
        out += prefix + CsvField(name_of(b.category_id)) + "," + FormatDouble(b.x) + "," +
               FormatDouble(b.y) + "," + FormatDouble(b.width) + "," + FormatDouble(b.height) +
               "\r\n";
      }
    }
    const std::string error = WriteFileAtomic(path, out);
    if (!error.empty()) return Result<int64_t>::Failure(error);
    return images;
  });
}

Result<int64_t> ExportLabelsCoco(const LabelStore& store, const std::string& path,
                                 const std::string& source) {
  return Guard(path, [&] { return WriteCoco(store, path, source, nullptr); });
}

Result<int64_t> ExportLabelsCoco(const LabelStore& store, const std::string& path,
                                 const std::string& source, const LabelImageSizeFn& size_of) {
  return Guard(path, [&] { return WriteCoco(store, path, source, &size_of); });
}

Result<int64_t> ImportLabelsCsv(LabelStore& store, const std::string& path) {
  return Guard(path, [&]() -> Result<int64_t> {
    Result<std::string> text = ReadFileBytes(path);
    if (!text) return Result<int64_t>::Failure(text.error());
    Result<std::vector<CsvRecord>> parsed = ParseCsv(path, *text);
    if (!parsed) return Result<int64_t>::Failure(parsed.error());
    const std::vector<CsvRecord>& records = *parsed;
    if (records.empty()) return Result<int64_t>::Failure(path + ": empty file (no CSV header)");
    // Columns by name, so a reordered file (a spreadsheet) still reads.
    std::map<std::string, size_t> column;
    for (size_t i = 0; i < records[0].fields.size(); ++i) column[records[0].fields[i]] = i;
    for (const char* name : kCsvColumns) {
      if (!column.count(name)) {
        return Result<int64_t>::Failure(path + ":1: missing column '" + name +
                                        "' (expected header source,image_id,clean,categories,"
                                        "note,box_category,x,y,width,height)");
      }
    }
    std::vector<LabelImportEntry> entries;
    std::map<LabelTarget, size_t> index;
    for (size_t r = 1; r < records.size(); ++r) {
      const CsvRecord& rec = records[r];
      const std::string where = path + ":" + std::to_string(rec.line) + ": ";
      if (rec.fields.size() != records[0].fields.size()) {
        return Result<int64_t>::Failure(where + "expected " +
                                        std::to_string(records[0].fields.size()) +
                                        " fields, found " + std::to_string(rec.fields.size()));
      }
      auto field = [&](const char* name) -> const std::string& {
        return rec.fields[column.at(name)];
      };
      LabelTarget target{field("source"), field("image_id")};
      if (target.image_id.empty()) return Result<int64_t>::Failure(where + "empty image_id");
      std::string clean_text = field("clean");
      for (char& c : clean_text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool clean = false;
      if (clean_text == "1" || clean_text == "true" || clean_text == "yes") {
        clean = true;
      } else if (!(clean_text.empty() || clean_text == "0" || clean_text == "false" ||
                   clean_text == "no")) {
        return Result<int64_t>::Failure(where + "column 'clean': expected 0 or 1, found '" +
                                        field("clean") + "'");
      }
      auto [it, inserted] = index.emplace(target, entries.size());
      if (inserted) {
        LabelImportEntry e;
        e.target = target;
        e.clean = clean;
        e.note = field("note");
        entries.push_back(std::move(e));
      }
      LabelImportEntry& e = entries[it->second];
      for (const std::string& name : SplitNames(field("categories"))) {
        if (std::find(e.categories.begin(), e.categories.end(), name) == e.categories.end()) {
          e.categories.push_back(name);
        }
      }
      if (e.note.empty()) e.note = field("note");
      const std::string& box_category = field("box_category");
      const char* coords[] = {"x", "y", "width", "height"};
      if (box_category.empty()) {
        for (const char* c : coords) {
          if (!field(c).empty()) {
            return Result<int64_t>::Failure(where + "column '" + c +
                                            "' is set but box_category is empty");
          }
        }
        continue;
      }
      LabelImportEntry::Box box;
      box.category = box_category;
      double* values[] = {&box.x, &box.y, &box.width, &box.height};
      for (int k = 0; k < 4; ++k) {
        if (!ParseDouble(field(coords[k]), values[k])) {
          return Result<int64_t>::Failure(where + "column '" + coords[k] +
                                          "': expected a number, found '" + field(coords[k]) +
                                          "'");
        }
      }
      if (box.width < 0 || box.height < 0) {
        return Result<int64_t>::Failure(where + "negative box width or height");
      }
      e.boxes.push_back(box);
    }
    return store.MergeLabels({}, entries, "import " + std::to_string(entries.size()) +
                                              " images from '" + path + "'");
  });
}

Result<int64_t> ImportLabelsCoco(LabelStore& store, const std::string& path,
                                 const std::string& default_source) {
  return Guard(path, [&]() -> Result<int64_t> {
    Result<std::string> text = ReadFileBytes(path);
    if (!text) return Result<int64_t>::Failure(text.error());
    ojson root;
    try {
      root = ojson::parse(*text);
    } catch (const ojson::parse_error& e) {
      return Result<int64_t>::Failure(path + ": not valid JSON: " + e.what());
    }
    CocoReader in(path);
    if (!root.is_object()) in.Fail("(top level)", "expected an object");
    std::vector<LabelCategory> categories;
    std::map<int64_t, std::string> names;
    const ojson& cats = in.Array(in.Member(root, "(top level)", "categories", true), "categories");
    for (size_t i = 0; i < cats.size(); ++i) {
      const std::string where = "categories[" + std::to_string(i) + "]";
      LabelCategory c;
      c.id = in.Int(in.Member(cats[i], where, "id", true), where + ".id");
      c.name = in.String(in.Member(cats[i], where, "name", true), where + ".name");
      const ojson& color = in.Member(cats[i], where, "color", false);
      if (!color.is_null()) c.color = in.String(color, where + ".color");
      const ojson& description = in.Member(cats[i], where, "description", false);
      if (!description.is_null()) c.description = in.String(description, where + ".description");
      if (names.count(c.id)) {
        in.Fail(where + ".id", "duplicate category id " + std::to_string(c.id));
      }
      names[c.id] = c.name;
      categories.push_back(c);
    }
    auto category_name = [&](int64_t id, const std::string& where) {
      auto it = names.find(id);
      if (it == names.end()) in.Fail(where, "unknown category id " + std::to_string(id));
      return it->second;
    };
    std::vector<LabelImportEntry> entries;
    std::map<int64_t, size_t> by_id;
    const ojson& images = in.Array(in.Member(root, "(top level)", "images", true), "images");
    for (size_t i = 0; i < images.size(); ++i) {
      const std::string where = "images[" + std::to_string(i) + "]";
      const ojson& img = images[i];
      const int64_t id = in.Int(in.Member(img, where, "id", true), where + ".id");
      if (by_id.count(id)) in.Fail(where + ".id", "duplicate image id " + std::to_string(id));
      LabelImportEntry e;
      e.target.image_id =
          in.String(in.Member(img, where, "file_name", true), where + ".file_name");
      if (e.target.image_id.empty()) in.Fail(where + ".file_name", "empty");
      const ojson& source = in.Member(img, where, "synthlens_source", false);
      e.target.source = source.is_null() ? default_source
                                         : in.String(source, where + ".synthlens_source");
      if (e.target.source.empty() && source.is_null() && default_source.empty()) {
        in.Fail(where, "no synthlens_source and no default source given (--source)");
      }
      const ojson& width = in.Member(img, where, "width", false);
      const ojson& height = in.Member(img, where, "height", false);
      if (!width.is_null()) e.image_width = static_cast<int>(in.Int(width, where + ".width"));
      if (!height.is_null()) e.image_height = static_cast<int>(in.Int(height, where + ".height"));
      if (e.image_width < 0 || e.image_height < 0) in.Fail(where, "negative width or height");
      const ojson& clean = in.Member(img, where, "clean", false);
      if (!clean.is_null()) e.clean = in.Bool(clean, where + ".clean");
      const ojson& note = in.Member(img, where, "note", false);
      if (!note.is_null()) e.note = in.String(note, where + ".note");
      const ojson& ids = in.Member(img, where, "category_ids", false);
      if (!ids.is_null()) {
        in.Array(ids, where + ".category_ids");
        for (size_t k = 0; k < ids.size(); ++k) {
          const std::string at = where + ".category_ids[" + std::to_string(k) + "]";
          e.categories.push_back(category_name(in.Int(ids[k], at), at));
        }
      }
      by_id[id] = entries.size();
      entries.push_back(std::move(e));
    }
    const ojson& annotations = in.Member(root, "(top level)", "annotations", false);
    if (!annotations.is_null()) {
      in.Array(annotations, "annotations");
      for (size_t i = 0; i < annotations.size(); ++i) {
        const std::string where = "annotations[" + std::to_string(i) + "]";
        const ojson& a = annotations[i];
        const int64_t image = in.Int(in.Member(a, where, "image_id", true), where + ".image_id");
        auto it = by_id.find(image);
        if (it == by_id.end()) {
          in.Fail(where + ".image_id", "no image with id " + std::to_string(image));
        }
        LabelImportEntry& e = entries[it->second];
        const std::string name = category_name(
            in.Int(in.Member(a, where, "category_id", true), where + ".category_id"),
            where + ".category_id");
        const ojson& bbox = in.Member(a, where, "bbox", false);
        if (bbox.is_null()) {  // an image-level label written as an annotation without a box
          e.categories.push_back(name);
          continue;
        }
        in.Array(bbox, where + ".bbox");
        if (bbox.size() != 4) in.Fail(where + ".bbox", "expected [x, y, width, height]");
        LabelImportEntry::Box box;
        box.category = name;
        box.x = in.Number(bbox[0], where + ".bbox[0]");
        box.y = in.Number(bbox[1], where + ".bbox[1]");
        box.width = in.Number(bbox[2], where + ".bbox[2]");
        box.height = in.Number(bbox[3], where + ".bbox[3]");
        if (box.width < 0 || box.height < 0) in.Fail(where + ".bbox", "negative width or height");
        e.boxes.push_back(box);
      }
    }
    return store.MergeLabels(categories, entries, "import " + std::to_string(entries.size()) +
                                                      " images from '" + path + "'");
  });
}

}  // namespace synthlens
