//! Telling the CPU which memory is read next, where the access pattern is known ahead but
//! scattered: scoring millions of candidate pairs `(a, b)` sorted by `a` reads record
//! `b` from anywhere among a million records (and its emails from the heap). Waiting for
//! those loads was most of the cost of comparing a pair; asked for a few pairs ahead,
//! they arrive while the pairs before are compared. A prefetch is only a hint: it never
//! faults, changes nothing the program can observe, and is a no-op on other machines.

/// Bytes per cache line on the machines this is tuned for.
const LINE: usize = 64;

/// Starts loading the memory of `value` (every cache line of it) into the cache.
#[inline(always)]
pub fn value<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = (value as *const T).cast::<i8>();
        for offset in (0..std::mem::size_of::<T>().max(1)).step_by(LINE) {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch reads nothing the
            // program sees (any address, valid or not, is only a hint).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
