#include "engine/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <utility>

#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace anvil::engine {

namespace fs = std::filesystem;

namespace {

constexpr const char* kExtensions = ".png, .jpg, .jpeg (any case)";

std::string trim(const std::string& s) {
  const char* space = " \t\r\n\f\v";
  const size_t begin = s.find_first_not_of(space);
  if (begin == std::string::npos) return {};
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

}  // namespace

bool is_image_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* ext : {".png", ".jpg", ".jpeg"}) {
    if (lower.ends_with(ext)) return true;
  }
  return false;
}

ImageFolderDataset::ImageFolderDataset(DatasetOptions options, ImageFolderOptions folder)
    : BaseDataset(std::move(options)), folder_(std::move(folder)) {
  init_unless_lazy();
}

int64_t ImageFolderDataset::load_data_list() {
  fs::path root = options().data_root;
  if (!folder_.data_prefix.empty()) root /= folder_.data_prefix;
  // A failed load may have left a part behind; full_init() tries again on the next access.
  files_.clear();
  labels_.clear();
  classes_.clear();
  if (folder_.ann_file.empty()) {
    scan_folders(root);
  } else {
    read_ann_file(root);
  }
  return int64_t(files_.size());
}

// torchvision's find_classes and make_dataset: os.scandir for the classes, sorted os.walk
// (following links) for each class's files.
void ImageFolderDataset::scan_folders(const fs::path& root) {
  ANVIL_CHECK(
      fs::is_directory(root),
      "ImageFolder: \"{}\" is not a directory (data_root \"{}\", data_prefix \"{}\"); expected "
      "images under <root>/<class_name>/ or an ann_file",
      root.string(), options().data_root, folder_.data_prefix);
  try {
    for (const auto& entry : fs::directory_iterator(root)) {
      if (entry.is_directory()) classes_.push_back(entry.path().filename().string());
    }
    std::sort(classes_.begin(), classes_.end());
    for (size_t label = 0; label < classes_.size(); ++label) {
      std::vector<std::pair<std::string, std::string>> found;  // (directory, file name)
      for (const auto& entry : fs::recursive_directory_iterator(
               root / classes_[label], fs::directory_options::follow_directory_symlink)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_directory() && is_image_name(name))
          found.emplace_back(entry.path().parent_path().string(), name);
      }
      std::sort(found.begin(), found.end());
      for (const auto& [dir, name] : found) {
        files_.push_back(fs::path(dir) / name);
        labels_.push_back(int64_t(label));
      }
    }
  } catch (const fs::filesystem_error& e) {
    throw IOError(fmt::format("ImageFolder: cannot scan {}: {}", root.string(), e.what()));
  }
  ANVIL_CHECK(!files_.empty(),
              "ImageFolder: found no images in {}: expected files with the extensions {} in "
              "class subdirectories <class_name>/ of it, and found {} subdirector{}",
              root.string(), kExtensions, classes_.size(), classes_.size() == 1 ? "y" : "ies");
}

// MMPretrain's annotation lines: "path label", split at the last space.
void ImageFolderDataset::read_ann_file(const fs::path& root) {
  const fs::path ann_file = fs::path(options().data_root) / folder_.ann_file;
  std::ifstream in(ann_file);
  if (!in) {
    throw IOError(fmt::format("ImageFolder: cannot open the ann_file {}: {}", ann_file.string(),
                              std::strerror(errno)));
  }
  int64_t num_classes = -1;
  if (const auto it = options().metainfo.find("classes"); it != options().metainfo.end()) {
    if (const auto* names = std::get_if<std::vector<std::string>>(&it->second))
      num_classes = int64_t(names->size());
  }
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line);
    if (text.empty()) continue;
    const size_t space = text.rfind(' ');
    int64_t label = -1;
    bool parsed = false;
    if (space != std::string::npos) {
      const char* end = text.data() + text.size();
      const auto [stop, error] = std::from_chars(text.data() + space + 1, end, label);
      parsed = stop == end && error == std::errc();
    }
    ANVIL_CHECK(parsed && label >= 0,
                "ImageFolder: {}:{}: expected \"relative/path label\" with a label >= 0, got "
                "\"{}\"",
                ann_file.string(), number, text);
    ANVIL_CHECK(num_classes < 0 || label < num_classes,
                "ImageFolder: {}:{}: label {} is out of range for the {} classes of the metainfo",
                ann_file.string(), number, label, num_classes);
    files_.push_back(root / trim(text.substr(0, space)));
    labels_.push_back(label);
  }
  ANVIL_CHECK(!files_.empty(), "ImageFolder: the ann_file {} lists no images", ann_file.string());
}

Sample ImageFolderDataset::raw_sample(int64_t i) const {
  Sample sample;
  sample.inputs = read_image(files_[size_t(i)], folder_.color);
  sample.label = labels_[size_t(i)];
  sample.meta["img_path"] = files_[size_t(i)].string();
  return sample;
}

Metainfo ImageFolderDataset::class_metainfo() const {
  if (!folder_.ann_file.empty()) return {};
  full_init();  // the classes are the folders found by the scan
  return {{"classes", MetaValue(classes_)}};
}

std::shared_ptr<BaseDataset> ImageFolderDataset::clone() const {
  return std::make_shared<ImageFolderDataset>(*this);
}

}  // namespace anvil::engine
