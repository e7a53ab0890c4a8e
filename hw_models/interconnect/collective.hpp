#pragma once
/// Collectives as schedules of messages (pure C++), and their execution on a Network.
///
/// A schedule lists the messages a collective algorithm sends, each with the messages that
/// must have arrived before it may start (a relay forwards only what it has received; a
/// ring step waits for the previous step). Byte conservation: an all-to-all-v schedule
/// delivers exactly bytes[src][dst] from every src to every dst, once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw_models/interconnect/network.hpp"
#include "hw_models/interconnect/topology.hpp"

namespace moesim {

enum class CollectiveKind : uint8_t { kAllToAllV, kAllReduce, kAllGather, kReduceScatter };
enum class CollectiveAlgo : uint8_t { kDirect, kRing, kHierarchical, kTree };
const char* collective_kind_name(CollectiveKind k);
const char* collective_algo_name(CollectiveAlgo a);

/// A piece of an all-to-all-v (or all-gather) payload a message carries: `bytes` of what
/// `final_src` sends to `final_dst`. It is delivered when the message's dst is `final_dst`;
/// otherwise the message's dst relays it on.
struct Payload {
  ChipId final_src = 0;
  ChipId final_dst = 0;
  uint64_t bytes = 0;
};

/// One message of a schedule.
struct ScheduledMessage {
  ChipId src = 0;
  ChipId dst = 0;
  uint64_t bytes = 0;      ///< may be 0 (a ring step of an empty chunk): completes when started
  uint32_t dep_begin = 0;  ///< into CollectiveSchedule::deps: messages that must arrive first
  uint32_t dep_count = 0;
  /// Into CollectiveSchedule::payloads: what this message carries, for the byte-conservation
  /// check (all-to-all-v and all-gather; empty for reductions). Pieces sum to `bytes`.
  uint32_t payload_begin = 0;
  uint32_t payload_count = 0;
  /// The 1/n slice of the buffer carried (ring reductions and gathers: slice k is
  /// bytes / n, plus one byte when k < bytes % n); 0 otherwise.
  uint32_t chunk = 0;
  bool final_hop = true;  ///< every piece this message carries is delivered at its dst
};

/// The messages of one collective over a group of chips.
struct CollectiveSchedule {
  CollectiveKind kind = CollectiveKind::kAllToAllV;
  CollectiveAlgo algo = CollectiveAlgo::kDirect;
  std::vector<ChipId> group;  ///< participating chips
  std::vector<ScheduledMessage> messages;
  std::vector<uint32_t> deps;  ///< message indices, each lower than the depending message's
  std::vector<Payload> payloads;
  uint64_t bytes_per_chip = 0;  ///< nccl-tests' size (algbw = bytes_per_chip / time)
};

/// Bytes of slice `k` when `bytes` is cut into `n` slices (the first bytes % n get one more).
uint64_t slice_bytes(uint64_t bytes, uint32_t n, uint32_t k);

/// All-to-all-v over `group`: `bytes[i * group.size() + j]` from group[i] to group[j]
/// (diagonal ignored; throws InternalError when the size is not n x n).
/// - kDirect: one message per ordered pair with bytes > 0, in order of source, then offset
///   (group[i] to group[i+1], group[i+2], ...), no deps.
/// - kRing: each pair's data walks the ring of the group (group order, both directions) the
///   shorter way, one message per hop, each depending on the previous hop; at equal distance
///   (n even, opposite chips) the data is split, the odd byte going forward.
/// - kHierarchical: nodes from Topology::node_of(). Pairs in one node: direct. For each
///   (source node a, destination node b) with data, relays R_out in a and R_in in b are the
///   group members of each node at position (a + b) mod (members of that node) (rail-aligned
///   when the group is every chip: both have local index (a + b) mod chips_per_node, and each
///   chip relays for different node pairs). Every source in a sends its data for b to R_out
///   (one message per source), R_out sends all of it to R_in in one message (the only one
///   from a to b that crosses between the nodes), R_in sends each destination in b its part
///   (one message per destination).
CollectiveSchedule all_to_all_v(const Topology& topo, const std::vector<ChipId>& group,
                                const std::vector<uint64_t>& bytes, CollectiveAlgo algo);
/// All-reduce of `bytes` per chip: kRing (reduce-scatter then all-gather around the group's
/// ring, 2(n-1) steps; step s sends slice (i - s) mod n from group[i] to group[i+1], each
/// step depending on the previous step's arrival at that chip) or kTree (binary tree over
/// group order, parent of i is (i-1)/2: reduce up, whole buffer per message, then broadcast
/// down; not pipelined).
CollectiveSchedule all_reduce(const Topology& topo, const std::vector<ChipId>& group,
                              uint64_t bytes, CollectiveAlgo algo);
/// All-gather, ring algorithm only; `bytes` is the per-chip output buffer (nccl-tests' size):
/// group[k] contributes slice k and receives the n-1 others, forwarded around the ring.
CollectiveSchedule all_gather(const Topology& topo, const std::vector<ChipId>& group,
                              uint64_t bytes, CollectiveAlgo algo);
/// Reduce-scatter, ring algorithm only; `bytes` is the per-chip input buffer (nccl-tests'
/// size): group[k] ends with slice k reduced over all chips (n-1 steps).
CollectiveSchedule reduce_scatter(const Topology& topo, const std::vector<ChipId>& group,
                                  uint64_t bytes, CollectiveAlgo algo);

/// Bytes of payload delivered from `src` to `dst` (pieces whose message ends at their
/// final_dst), n x n in group order: equals the all-to-all-v matrix off the diagonal.
std::vector<uint64_t> delivered_matrix(const CollectiveSchedule& s);

/// Runs collective schedules on a Network. A chip `arrive()`s at a collective when its
/// plan reaches it; a message starts once its source chip has arrived and its deps have
/// arrived. A chip's part is done when it has arrived and every message it sends or receives
/// has arrived; `done(instance, chip)` is then called once for that chip. Messages are sent
/// with tag (instance << 32) | message index; messages that become ready at one instant are
/// sent in message index order. `done` may call add() and arrive(), not reset().
class CollectiveExecutor final : public NetworkClient {
 public:
  using Done = std::function<void(uint32_t instance, ChipId chip)>;
  CollectiveExecutor(Network& net, Done done);

  /// Registers a collective (copied); returns its instance id (0, 1, ... in call order).
  uint32_t add(CollectiveSchedule schedule);
  /// Chip `chip` reached collective `instance`.
  void arrive(uint32_t instance, ChipId chip);
  /// Forgets every collective (between steps, when all are done); instance ids restart at 0.
  void reset();
  /// True when every chip of every instance is done.
  bool all_done() const;
  /// The collectives not done, for the watchdog: which chips have arrived and finished,
  /// and the messages started and in flight. Empty when all are done.
  std::string describe_pending() const;
  void message_done(uint64_t tag) override;
  ~CollectiveExecutor() override;

 private:
  struct Instance;
  void start_ready(Instance& in, std::vector<uint32_t>& ready, std::vector<uint32_t>& touched);
  void finish_in_order(Instance& in, std::vector<uint32_t>& touched);
  void finish_chip_if_done(Instance& in, uint32_t pos);
  Network& m_net;
  Done m_done;
  std::vector<std::unique_ptr<Instance>> m_instances;
};

}  // namespace moesim
