// Checkpoints as directories (DESIGN.md §8), holding what MMEngine's .pth files hold:
//
//   work_dir/epoch_3.ckpt/
//     model.safetensors       the model's state dict
//     optimizer.safetensors   optimizer state tensors, "<optimizer>.<param index>.<state key>"
//     state.json              meta, optimizer groups and scaler, JSON states (message hub,
//                             schedulers, ...), and the byte size and CRC-32C of both files
//
// state.json is {"crc32c": "0x...", "checkpoint": {...}} where the CRC covers the bytes of the
// "checkpoint" value, so every byte of a checkpoint is checked on load: a truncated, bit-flipped
// or missing file is an error naming the checkpoint, the file and the fault, never a silently
// wrong resume.
//
// A checkpoint appears whole or not at all: it is written into a temporary sibling directory,
// every file and the directory are fsync'd, and the directory is renamed into place (atomically
// exchanged with an older checkpoint of the same name, which is deleted afterwards), then the
// parent is fsync'd. work_dir/last_checkpoint (the path of the latest, as MMEngine) is written
// atomically after that, so a crash at any moment leaves it pointing at a complete checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/optim/optim_wrapper.h"
#include "nn/module.h"
#include "tensor/error.h"

namespace anvil::engine {

// A checkpoint that is missing, truncated, corrupt or not a checkpoint. The message names the
// checkpoint, the file and the fault.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// MMEngine's `meta`.
struct CheckpointMeta {
  int64_t epoch = 0;  // MMEngine's counts: epochs / iterations completed
  int64_t iter = 0;
  std::optional<int64_t> seed = std::nullopt;
  std::string time;  // "%Y%m%d_%H%M%S"; save_checkpoint fills in the current time when empty
  std::string cfg;   // the config's text
  std::string experiment_name;
  std::string anvil_version;  // written by save_checkpoint (the library's version), read back
};

struct Checkpoint {
  CheckpointMeta meta;
  // The model's state dict (no "module." prefix). Loaded tensors view the file's private mapping.
  nn::NamedTensors model;
  // Optimizer wrapper states by name: "optimizer" for one wrapper, OptimWrapperDict's names for
  // several (MMEngine's `optimizer` entry).
  std::map<std::string, OptimWrapperState> optimizers;
  // Other states as JSON text by name: "message_hub" (MessageHub::state_dict), "param_schedulers",
  // "data_loader", "rng", ... Stored as JSON values in state.json; loaded back as compact JSON
  // text (equal in value, not necessarily in spacing).
  std::map<std::string, std::string> states;
};

// Writes `checkpoint` as the directory `dir` (parents created), atomically; replaces an existing
// checkpoint `dir` only once the new one is complete (an existing `dir` that is not a checkpoint
// is an error). On failure nothing of the new checkpoint remains and the old one is untouched.
// Throws ValueError for invalid contents (a state that is not JSON), IOError for the file system.
void save_checkpoint(const std::filesystem::path& dir, const Checkpoint& checkpoint);

// Reads and validates every file of `dir` (sizes, CRCs, JSON, safetensors) and returns the
// contents; CheckpointError on any fault. Reads only.
Checkpoint load_checkpoint(const std::filesystem::path& dir);

// work_dir/last_checkpoint := the path of `checkpoint` as given (MMEngine's text file), atomically
// (temporary files of a process killed while writing it are removed first).
void write_last_checkpoint(const std::filesystem::path& work_dir,
                           const std::filesystem::path& checkpoint);

// The checkpoint work_dir/last_checkpoint names (a relative path is relative to the current
// directory, as MMEngine writes and reads it); nullopt when there is no last_checkpoint (nothing
// to resume, as MMEngine). A last_checkpoint naming a directory that does not exist is a
// CheckpointError saying so (MMEngine would fail later, when loading it).
std::optional<std::filesystem::path> find_latest_checkpoint(const std::filesystem::path& work_dir);

// What load_weights found; the keys are after revision.
struct LoadWeightsResult {
  std::vector<std::string> missing_keys;     // in the model, not in the weights
  std::vector<std::string> unexpected_keys;  // in the weights, not in the model
  std::vector<std::string> mismatched_keys;  // "name: checkpoint [a, b] vs model [c, d]"
};

// Where EMAHook stores the raw (non-averaged) weights and its step count in Checkpoint::model:
// "ema_state_dict.module.<name>", "ema_state_dict.steps" (MMEngine's ema_state_dict entry).
inline constexpr std::string_view kEmaPrefix = "ema_state_dict.";

// MMEngine's load_from: the weights of a checkpoint directory (its state.json and
// model.safetensors validated as load_checkpoint does) or of a .safetensors file into `model`.
// Every key is revised by each (regex, replacement) in order (ECMAScript std::regex_replace; the
// default strips a DDP "module." prefix). Tensors whose shapes differ are not copied. strict: any
// missing (num_batches_tracked excepted, as MMEngine), unexpected or mismatched key is a ValueError
// listing them and nothing is loaded; otherwise the rest is loaded and a warning (stderr) lists
// them. Keys under kEmaPrefix (EMAHook's copy of the raw weights) are skipped.
LoadWeightsResult load_weights(
    nn::Module& model, const std::filesystem::path& path, bool strict = false,
    const std::vector<std::pair<std::string, std::string>>& revise_keys = {{"^module\\.", ""}});

// ---- CheckpointHook's file management
// ------------------------------------------------------------

// "epoch_3.ckpt" / "iter_500.ckpt" (n 1-based, as MMEngine's epoch_{}.pth).
std::string checkpoint_name(bool by_epoch, int64_t n);
// "best_accuracy_top1_epoch_2.ckpt" for the metric "accuracy/top1" ('/' becomes '_').
std::string best_checkpoint_name(const std::string& metric, bool by_epoch, int64_t n);

// Deletes the checkpoint directory `dir` if it exists; a directory that is not a checkpoint (no
// state.json) is left alone and is an error, so a wrong path never deletes user data.
void remove_checkpoint(const std::filesystem::path& dir);

// max_keep_ckpts: records `n` (the checkpoint just saved as checkpoint_name(by_epoch, n) in
// `dir`) in `keep_ids` (MMEngine's keep_ckpt_ids, oldest first; resumed from the message hub),
// then deletes the oldest checkpoints until at most `max_keep` remain. Unlike MMEngine, which
// deletes before saving, it runs after the new checkpoint is complete. max_keep <= 0 keeps all.
void keep_last_checkpoints(const std::filesystem::path& dir, std::vector<int64_t>& keep_ids,
                           int64_t n, int64_t max_keep, bool by_epoch);

// save_best: saves `checkpoint` as `dir`/best_checkpoint_name(metric, by_epoch, n), then deletes
// `previous_best` (the last best's path; empty for none) when it is another directory. Returns
// the new best's path (MMEngine's best_ckpt runtime info).
std::filesystem::path save_best_checkpoint(const std::filesystem::path& dir,
                                           const std::string& metric, bool by_epoch, int64_t n,
                                           const Checkpoint& checkpoint,
                                           const std::filesystem::path& previous_best);

}  // namespace anvil::engine
