#include "hw_models/interconnect/network.hpp"

namespace moesim {

LinkStats::LinkStats(const std::string& name, StatGroup* parent, double bytes_per_s)
    : StatGroup(name, parent),
      utilisation(this, "utilisation", "1", "bytes carried / (peak bandwidth x simulated time)",
                  [this] {
                    const double t = sc_core::sc_time_stamp().to_seconds();
                    return t > 0 && peak > 0 ? static_cast<double>(bytes.get()) / (peak * t) : 0.0;
                  }),
      mean_queueing_delay(this, "mean_queueing_delay", "s", "queueing_time / transfers",
                          [this] {
                            const uint64_t n = transfers.get();
                            return n > 0 ? queue_s.get() / static_cast<double>(n) : 0.0;
                          }),
      peak(bytes_per_s) {}

}  // namespace moesim
