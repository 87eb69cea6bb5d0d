// The CUDA runtime seen from anvil: devices, the current device, and error checking. Only files
// built with the CUDA backend include this.
#pragma once

#include <string>

namespace anvil::cuda {

// Number of visible devices; 0 (never an exception) when the driver or devices are missing.
int device_count();
// The driver's explanation when device_count() is 0, else "".
std::string unavailable_reason();

}  // namespace anvil::cuda
