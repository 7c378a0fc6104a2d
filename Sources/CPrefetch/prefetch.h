// A cache prefetch hint, which Swift cannot spell: the approximate indexes ask for the next
// vectors while they score the current ones.
static inline void magpie_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
