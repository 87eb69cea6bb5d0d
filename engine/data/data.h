// engine/data: datasets, readers, transforms, samplers and the DataLoader (DESIGN.md §7).
#pragma once

#include "engine/data/data_loader.h"
#include "engine/data/dataset.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_io.h"
#include "engine/data/random.h"
#include "engine/data/readers.h"
#include "engine/data/sample.h"
#include "engine/data/sampler.h"
#include "engine/data/transforms.h"
