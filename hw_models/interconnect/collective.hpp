#pragma once
/// Collectives as schedules of messages (pure C++), and their execution on a Network.
///
/// A schedule lists the messages a collective algorithm sends, each with the messages that
/// must have arrived before it may start (a relay forwards only what it has received; a
/// ring step waits for the previous step). Byte conservation: an all-to-all-v schedule
/// delivers exactly bytes[src][dst] from every src to every dst, once.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hw_models/interconnect/network.hpp"
#include "hw_models/interconnect/topology.hpp"

namespace moesim {

enum class CollectiveKind : uint8_t { kAllToAllV, kAllReduce, kAllGather, kReduceScatter };
enum class CollectiveAlgo : uint8_t { kDirect, kRing, kHierarchical, kTree };
const char* collective_kind_name(CollectiveKind k);
const char* collective_algo_name(CollectiveAlgo a);

/// One message of a schedule.
struct ScheduledMessage {
  ChipId src = 0;
  ChipId dst = 0;
  uint64_t bytes = 0;
  uint32_t dep_begin = 0;  ///< into CollectiveSchedule::deps: messages that must arrive first
  uint32_t dep_count = 0;
  /// Payload this message carries for its final destination (relays forward it): the part
  /// of the all-to-all-v matrix it delivers, for the byte-conservation check. 0 for
  /// reductions and gathers.
  ChipId final_src = 0;
  ChipId final_dst = 0;
  bool final_hop = true;  ///< this message delivers its payload at final_dst
};

/// The messages of one collective over a group of chips.
struct CollectiveSchedule {
  CollectiveKind kind = CollectiveKind::kAllToAllV;
  CollectiveAlgo algo = CollectiveAlgo::kDirect;
  std::vector<ChipId> group;  ///< participating chips
  std::vector<ScheduledMessage> messages;
  std::vector<uint32_t> deps;
  uint64_t bytes_per_chip = 0;  ///< nccl-tests' size (algbw = bytes_per_chip / time)
};

/// All-to-all-v over `group`: `bytes[i * group.size() + j]` from group[i] to group[j]
/// (diagonal ignored). kDirect: one message per pair. kRing: messages forwarded around the
/// ring of the group in order. kHierarchical: gather within the source node, one message per
/// destination node across the network, scatter within the destination node (nodes from
/// Topology::chips_per_node()).
CollectiveSchedule all_to_all_v(const Topology& topo, const std::vector<ChipId>& group,
                                const std::vector<uint64_t>& bytes, CollectiveAlgo algo);
/// All-reduce of `bytes` per chip: kRing (reduce-scatter then all-gather, 2(n-1) steps of
/// bytes/n) or kTree (reduce up a binary tree, broadcast down).
CollectiveSchedule all_reduce(const Topology& topo, const std::vector<ChipId>& group,
                              uint64_t bytes, CollectiveAlgo algo);
/// All-gather (each chip ends with n x bytes/n... see docs/multichip.md) and reduce-scatter,
/// ring algorithm; `bytes` is the per-chip output (all-gather) or input (reduce-scatter).
CollectiveSchedule all_gather(const Topology& topo, const std::vector<ChipId>& group,
                              uint64_t bytes, CollectiveAlgo algo);
CollectiveSchedule reduce_scatter(const Topology& topo, const std::vector<ChipId>& group,
                                  uint64_t bytes, CollectiveAlgo algo);

/// Runs collective schedules on a Network. A chip `arrive()`s at a collective when its
/// plan reaches it; a message starts once its source chip has arrived and its deps have
/// arrived. A chip's part is done when it has arrived and every message it sends or receives
/// has arrived; `done(instance, chip)` is then called once for that chip.
class CollectiveExecutor final : public NetworkClient {
 public:
  using Done = std::function<void(uint32_t instance, ChipId chip)>;
  CollectiveExecutor(Network& net, Done done);

  /// Registers a collective (copied); returns its instance id (0, 1, ... in call order).
  uint32_t add(CollectiveSchedule schedule);
  /// Chip `chip` reached collective `instance`.
  void arrive(uint32_t instance, ChipId chip);
  /// Forgets every finished collective (between steps); instance ids restart at 0.
  void reset();
  void message_done(uint64_t tag) override;

 private:
  struct Instance;
  Network& m_net;
  Done m_done;
  std::vector<Instance> m_instances;
};

}  // namespace moesim
