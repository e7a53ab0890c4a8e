#include "hw_models/memory/dram/address_mapping.hpp"

#include <fmt/format.h>

#include <array>
#include <sstream>

#include "sim/core/error.hpp"

namespace moesim {
namespace {

int log2_exact(int64_t v) {
  int b = 0;
  while ((int64_t{1} << b) < v) ++b;
  return b;
}

}  // namespace

AddressMapping::AddressMapping(const DramSpec& spec, const std::string& order) : m_order(order) {
  const std::array<const char*, kFieldCount> names = {"ro", "ba", "bg", "ch", "pc", "co"};
  const std::array<int, kFieldCount> bits = {log2_exact(spec.rows),
                                             log2_exact(spec.banks_per_group),
                                             log2_exact(spec.bank_groups),
                                             log2_exact(spec.channels),
                                             log2_exact(spec.pseudo_channels),
                                             log2_exact(spec.atoms_per_row())};
  m_offset_bits = log2_exact(spec.atom_bytes);
  m_pc_bits = bits[kPseudo];

  auto bad = [&](const std::string& why) {
    return InputError(fmt::format(
        "invalid DRAM address mapping '{}': {} (expected the fields ro, ba, bg, ch, co and "
        "optionally pc, most significant first, separated by '_', e.g. 'ro_ba_bg_ch_co')",
        order, why));
  };

  std::vector<Field> fields;  // most significant first
  std::array<bool, kFieldCount> seen{};
  std::stringstream ss(order);
  std::string tok;
  while (std::getline(ss, tok, '_')) {
    int f = -1;
    for (int i = 0; i < kFieldCount; ++i)
      if (tok == names[i]) f = i;
    if (f < 0) throw bad(fmt::format("unknown field '{}'", tok));
    if (seen[f]) throw bad(fmt::format("field '{}' appears twice", tok));
    seen[f] = true;
    fields.push_back(static_cast<Field>(f));
  }
  if (order.empty() || order.back() == '_') throw bad("empty field");
  for (int i = 0; i < kFieldCount; ++i)
    if (!seen[i] && i != kPseudo) throw bad(fmt::format("field '{}' is missing", names[i]));
  m_pc_joined = !seen[kPseudo];

  int shift = m_offset_bits;
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    int b = bits[*it];
    if (*it == kChannel && m_pc_joined) b += m_pc_bits;
    m_slices.push_back({*it, shift, b});
    m_pos[*it] = {shift, (uint64_t{1} << b) - 1};
    shift += b;
  }
  if (m_pc_joined) {
    // The ch slice holds the channel above the pseudo-channel.
    const Pos ch = m_pos[kChannel];
    m_pos[kPseudo] = {ch.shift, (uint64_t{1} << m_pc_bits) - 1};
    m_pos[kChannel] = {ch.shift + m_pc_bits, ch.mask >> m_pc_bits};
  }
}

DramLocation AddressMapping::decode(uint64_t addr) const {
  auto field = [&](Field f) { return (addr >> m_pos[f].shift) & m_pos[f].mask; };
  DramLocation loc;
  loc.row = static_cast<int64_t>(field(kRow));
  loc.bank = static_cast<int>(field(kBank));
  loc.bank_group = static_cast<int>(field(kGroup));
  loc.channel = static_cast<int>(field(kChannel));
  loc.pseudo_channel = static_cast<int>(field(kPseudo));
  loc.atom = static_cast<int64_t>(field(kColumn));
  return loc;
}

uint64_t AddressMapping::encode(const DramLocation& loc) const {
  uint64_t addr = 0;
  for (const Slice& s : m_slices) {
    uint64_t v = 0;
    switch (s.field) {
      case kRow:
        v = static_cast<uint64_t>(loc.row);
        break;
      case kBank:
        v = static_cast<uint64_t>(loc.bank);
        break;
      case kGroup:
        v = static_cast<uint64_t>(loc.bank_group);
        break;
      case kChannel:
        v = m_pc_joined ? (static_cast<uint64_t>(loc.channel) << m_pc_bits) |
                              static_cast<uint64_t>(loc.pseudo_channel)
                        : static_cast<uint64_t>(loc.channel);
        break;
      case kPseudo:
        v = static_cast<uint64_t>(loc.pseudo_channel);
        break;
      case kColumn:
        v = static_cast<uint64_t>(loc.atom);
        break;
      default:
        break;
    }
    addr |= (v & ((uint64_t{1} << s.bits) - 1)) << s.shift;
  }
  return addr;
}

}  // namespace moesim
