// Intra-op parallelism on the CPU. The thread count starts from ANVIL_NUM_THREADS, then
// OMP_NUM_THREADS, then the number of cores.
#pragma once

namespace anvil {

int num_threads();
void set_num_threads(int n);

}  // namespace anvil
