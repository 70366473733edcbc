// The core's PRNG: splitmix64 seeding, xorshift64* stream. Not cryptographic; the host seeds it
// with crypto-random bits (config seed_lo/seed_hi). It draws serial starts (protocol.md §2.3), GC
// jitter (§5.5) and the reconnect delay (§4.5).

let rng: u64 = 0x2545F4914F6CDD1D;

export function seedRng(lo: u32, hi: u32): void {
  let z: u64 = ((<u64>hi) << 32) | <u64>lo;
  z += 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  z = z ^ (z >> 31);
  rng = z != 0 ? z : 0x2545F4914F6CDD1D;
}

export function rand64(): u64 {
  let x = rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng = x;
  return x * 0x2545F4914F6CDD1D;
}

@inline export function rand32(): u32 {
  return <u32>(rand64() >> 32);
}

/** Uniform in [0, 1). */
@inline export function randUnit(): f64 {
  return <f64>(rand64() >> 11) * (1.0 / 9007199254740992.0);
}
