// A dataset of image files, as torchvision's ImageFolder and MMPretrain's CustomDataset. The
// images are under data_root/data_prefix and are found one of two ways:
//   - a folder scan: data_root/data_prefix/<class_name>/**/<file>, the classes being the sorted
//     subdirectory names and each class's label its position among them; files ending in .png,
//     .jpg or .jpeg (any case), each class's in torchvision's order (sorted by directory, then
//     name). An empty class folder keeps its label. Metainfo `classes` lists the classes.
//   - an annotation file (ann_file, relative to data_root unless absolute): one
//     "relative/path label" line per image (the label after the last space), paths relative to
//     data_root/data_prefix, in the file's order. Classes come only from the metainfo argument;
//     when it has them, labels must be below their number.
// Only the list is loaded (once, lazily or not, as every BaseDataset); each get decodes its file
// (read_image), so samples have `inputs` u8 [C, H, W], `label`, and meta `img_path`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/image_io.h"

namespace anvil::engine {

struct ImageFolderOptions {
  std::string data_prefix = {};      // the images' folder under data_root
  std::string ann_file = {};         // empty: scan the class folders
  ImageMode color = ImageMode::rgb;  // MMCV's default color_type "color", torchvision's RGB
};

class ImageFolderDataset : public BaseDataset {
 public:
  explicit ImageFolderDataset(DatasetOptions options, ImageFolderOptions folder = {});
  const ImageFolderOptions& folder_options() const { return folder_; }
  // Every image found and its label (after full_init()).
  const std::vector<std::filesystem::path>& files() const { return files_; }
  const std::vector<int64_t>& labels() const { return labels_; }

 protected:
  int64_t load_data_list() override;
  Sample raw_sample(int64_t i) const override;
  Metainfo class_metainfo() const override;
  std::shared_ptr<BaseDataset> clone() const override;

 private:
  void scan_folders(const std::filesystem::path& root);
  void read_ann_file(const std::filesystem::path& root);

  ImageFolderOptions folder_;
  std::vector<std::filesystem::path> files_;
  std::vector<int64_t> labels_;
  std::vector<std::string> classes_;  // from the folder scan
};

// Whether a file name ends in .png, .jpg or .jpeg (any case): the files ImageFolder reads.
bool is_image_name(const std::string& name);

}  // namespace anvil::engine
