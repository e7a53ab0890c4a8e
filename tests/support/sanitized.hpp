#pragma once
/// Whether this test program is built with AddressSanitizer (scripts/sanitize.sh), where it runs
/// several times slower: the longest tests shorten their inputs there. What they compare stays
/// the same; only figures that need the full length (how much a skip advanced) are checked in
/// the main suite alone.

namespace moesim::testing_support {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace moesim::testing_support
