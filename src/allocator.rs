//! The binary's memory allocator: mimalloc for the many small blocks, and the kernel's own
//! mappings for the few big arrays.
//!
//! A run allocates in waves: records and their strings while reading, then arrays of a
//! million leads, match records, pairs and contacts, then columns and payloads. mimalloc
//! keeps freed memory for reuse ([`keep_freed_memory`]), which spares the kernel from
//! zeroing the same pages again; but an array of hundreds of megabytes freed between
//! waves (the read batches' leads once they are folded into one array) is a hole that
//! the next wave's arrays, of other sizes, seldom fit, so each wave took fresh memory on
//! top of it. Blocks of [`BIG`] bytes or more are therefore mapped from the kernel
//! directly and unmapped when freed, and grow or shrink with `mremap`, which moves the
//! pages instead of copying them. At a million leads that is about a hundred mappings,
//! and peak resident memory fell from 5.0-5.5 GB to 4.4-4.6 GB in the same time (see the
//! README's performance section).
//!
//! Only on Linux (`mremap` is Linux's); elsewhere every block goes to mimalloc.

use std::alloc::{GlobalAlloc, Layout};

/// Blocks of this many bytes or more are mapped from the kernel directly.
pub const BIG: usize = 16 << 20;

/// mimalloc for blocks under [`BIG`] bytes, the kernel's mappings for the rest.
pub struct Allocator;

// mimalloc's C API (linked in through the `mimalloc` crate): its options.
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
/// `mi_option_purge_delay` in mimalloc's `mi_option_t`.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Tells mimalloc to keep the small blocks' freed memory for reuse. By default mimalloc
/// hands freed memory back to the kernel after 10 ms, and every page taken again is
/// zeroed by the kernel: at a million leads that zeroing was a fifth of all CPU time.
/// Keeping freed memory for reuse made the run ~12% faster (measured: 90.6 s → 79.9 s at
/// 1M leads). An explicit `MIMALLOC_PURGE_DELAY` still wins.
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an integer option of the allocator this binary links; mimalloc
        // reads options at any time and the value -1 is documented ("no purging at all").
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// `mi_option_allow_thp` in mimalloc's `mi_option_t`.
const MI_OPTION_ALLOW_THP: std::ffi::c_int = 43;

/// Keeps the process on ordinary pages: no transparent huge pages, where the kernel
/// gives them only on request (`madvise`, as here and on most distributions), and
/// mimalloc asks for them on every arena it maps. A huge page is zeroed whole when first
/// touched, and mimalloc then hands freed memory back only in whole huge pages; on a
/// virtual machine that returns free memory to its host (free page reporting) fresh huge
/// pages came at 0.3-1.4 GB/s against 2.8 GB/s for ordinary ones. At a million leads,
/// three alternating pairs of runs: kernel time 6.1-7.0 s against 11.0-12.4 s, user time
/// 2-3 s more (more TLB misses), wall 46.1-48.5 s against 48.7-51.8 s, and peak resident
/// memory 1.45-1.47 GB against 1.51-1.53 GB (purging in 4 KiB pages frees more). An
/// explicit `MIMALLOC_ALLOW_THP` still wins.
pub fn ordinary_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: sets an integer option of the allocator this binary links (0: mimalloc no
    // longer advises huge pages on the memory it maps from now on).
    unsafe { mi_option_set(MI_OPTION_ALLOW_THP, 0) };
    // What mimalloc mapped before `main` (its first arena) was advised already: the
    // process-wide switch covers it, as mimalloc's own start-up does with the option.
    #[cfg(target_os = "linux")]
    // SAFETY: a process attribute; the call touches no memory. A kernel without it
    // answers an error, and the run goes on with huge pages as before.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0, 0, 0)
    };
}

unsafe extern "C" {
    fn mi_collect(force: bool);
}

/// Runs `f` and hands the small blocks' memory freed meanwhile back to the kernel right
/// after (what mimalloc then holds free, on every thread of the pool and this one), where
/// freed memory is otherwise kept for good ([`keep_freed_memory`]). For a step that frees
/// much more than it allocates, before steps that allocate other sizes: reading (the
/// records, and each batch's leads once packed), folding (the batches' packed leads),
/// blocking (the blocking keys, before the scored pairs' array) and the leads' files (the
/// strings of every lead unpacked for them, handed back after each row group too, with
/// [`hand_back_now`]). Kept, such memory stayed resident under the later steps'
/// allocations (resident memory was up to 1.3 GB above live memory); handed back at every
/// free (mimalloc's default delay, or 100 ms), the kernel zeroed the same pages again and
/// again (seconds of kernel time, up to 13 s more in some runs).
pub fn hand_back_freed<T>(f: impl FnOnce() -> T) -> T {
    let kept = std::env::var_os("MIMALLOC_PURGE_DELAY").is_none();
    if kept {
        // Freed ranges are only marked for purging while the delay is positive; an hour
        // is never reached here, so nothing goes back before the collection below.
        // SAFETY: as in `keep_freed_memory`.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 3_600_000) };
    }
    let out = f();
    hand_back_now();
    if kept {
        // SAFETY: as in `keep_freed_memory`.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    out
}

/// Hands what mimalloc holds free back to the kernel now, on every thread of the pool and
/// this one: inside [`hand_back_freed`], what was freed so far (a long step's parts, each
/// freed before the next is made).
pub fn hand_back_now() {
    // SAFETY: mimalloc's own collection of the calling thread's memory (and of what no
    // thread owns any longer), which it allows at any time.
    rayon::broadcast(|_| unsafe { mi_collect(true) });
    // SAFETY: as above.
    unsafe { mi_collect(true) };
}

/// Drops `items` on the pool's threads, each freeing its share: freeing a window of
/// leads' strings on one thread took a third of a second per million leads with the
/// pool idle, and what a pool thread frees is its own again at once for what it makes
/// next.
pub fn drop_on_pool<T: Send>(items: Vec<T>) {
    use rayon::prelude::*;
    items.into_par_iter().for_each(drop);
}

/// Drops `value` on a thread of its own: freeing a million leads' strings or match
/// records takes a core for a fraction of a second, which the run need not wait for.
pub fn drop_later<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// A vector consumed a chunk at a time: each chunk owns its elements, and dropping it
/// drops them and hands the pages they filled back to the kernel at once, so the memory
/// of a big array shrinks as it is worked through instead of all at the end.
///
/// Packing the leads is one use: a million leads (0.66 GB of structs and 0.5 GB of
/// strings) are freed a window at a time as they are packed, not once all are. Writing
/// `matches.parquet` from the scored pairs is another.
pub struct Chunked<T> {
    ptr: std::ptr::NonNull<T>,
    len: usize,
    cap: usize,
    /// Elements before this were handed out in chunks.
    next: std::cell::Cell<usize>,
}

// SAFETY: a `Chunked<T>` owns its elements as a `Vec<T>` does; its `Cell` is only used
// through `&self` on one thread at a time (it is not `Sync`).
unsafe impl<T: Send> Send for Chunked<T> {}

impl<T> Chunked<T> {
    /// Takes over `v`'s elements and buffer.
    pub fn new(v: Vec<T>) -> Self {
        let mut v = std::mem::ManuallyDrop::new(v);
        Chunked {
            // SAFETY: a vector's pointer is never null.
            ptr: unsafe { std::ptr::NonNull::new_unchecked(v.as_mut_ptr()) },
            len: v.len(),
            cap: v.capacity(),
            next: std::cell::Cell::new(0),
        }
    }

    /// The elements, `n` (at least 1) at a time, in order. Elements no chunk was made for
    /// are dropped with the `Chunked`.
    pub fn chunks(&self, n: usize) -> impl Iterator<Item = Chunk<'_, T>> {
        let n = n.max(1);
        std::iter::from_fn(move || {
            let start = self.next.get();
            let len = n.min(self.len - start);
            (len > 0).then(|| {
                self.next.set(start + len);
                Chunk {
                    // SAFETY: `start + len <= self.len`, inside the buffer.
                    ptr: unsafe { self.ptr.as_ptr().add(start) },
                    len,
                    whole: std::mem::size_of::<T>() * self.cap >= BIG,
                    _owner: std::marker::PhantomData,
                }
            })
        })
    }
}

impl<T> Drop for Chunked<T> {
    fn drop(&mut self) {
        let start = self.next.get();
        // SAFETY: elements `start..len` were never handed out; the buffer is the vector's
        // own, given back with its capacity and no elements.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                self.ptr.as_ptr().add(start),
                self.len - start,
            ));
            drop(Vec::from_raw_parts(self.ptr.as_ptr(), 0, self.cap));
        }
    }
}

/// Some of a [`Chunked`]'s elements, owned.
pub struct Chunk<'a, T> {
    ptr: *mut T,
    len: usize,
    /// Whether the buffer is a big block (its own mapping), whose pages can go back.
    whole: bool,
    _owner: std::marker::PhantomData<&'a [T]>,
}

impl<T> std::ops::Deref for Chunk<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `len` live elements this chunk owns.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T> Drop for Chunk<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this chunk's elements, dropped once (the owner skips them).
        unsafe { std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.ptr, self.len)) };
        #[cfg(target_os = "linux")]
        if self.whole {
            // The whole pages inside the chunk: nothing reads them again, and the buffer
            // is a private anonymous mapping (a big block), so after MADV_DONTNEED they
            // read as zero until written, and are unmapped with it.
            const PAGE: usize = 4096;
            let start = (self.ptr as usize).next_multiple_of(PAGE);
            let end = (self.ptr as usize + self.len * std::mem::size_of::<T>()) & !(PAGE - 1);
            if end > start {
                // SAFETY: the range lies inside this chunk's dropped elements.
                unsafe {
                    libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED)
                };
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod mapped {
    use std::alloc::Layout;

    /// Whether a block is mapped from the kernel (the same answer for its allocation,
    /// its reallocations and its release: they all give the block's current layout).
    pub fn is_big(l: &Layout) -> bool {
        l.size() >= super::BIG && l.align() <= 4096
    }

    /// Fresh zeroed pages; null on failure.
    ///
    /// Ordinary pages, not transparent huge pages (no `MADV_HUGEPAGE`): the arrays are
    /// written once through and read a few times, which gains little from huge pages,
    /// and a huge page is zeroed whole when first touched. On a virtual machine that
    /// hands free memory back to its host (free page reporting, as here), a fresh huge
    /// page came at 0.3-1.4 GB/s against 2.8 GB/s for ordinary pages, and with the
    /// advice a million leads took 8-10 s of kernel time against 6 (wall 1-3 s longer).
    ///
    /// # Safety
    /// `size` is not zero.
    pub unsafe fn map(size: usize) -> *mut u8 {
        // SAFETY: an anonymous private mapping at an address the kernel picks touches no
        // existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        p.cast()
    }

    /// Unmaps a block [`map`] or [`remap`] gave.
    ///
    /// # Safety
    /// `p` and `size` are a live mapped block's.
    pub unsafe fn unmap(p: *mut u8, size: usize) {
        // SAFETY: the caller's contract; the block is not used after this.
        unsafe { libc::munmap(p.cast(), size) };
    }

    /// Resizes a mapped block, moving its pages when it cannot grow in place.
    ///
    /// # Safety
    /// `p` and `old` are a live mapped block's, and `new` is not zero.
    pub unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        // SAFETY: the caller's contract; with MREMAP_MAYMOVE the old address is invalid
        // afterwards, as `realloc`'s contract says.
        let q = unsafe { libc::mremap(p.cast(), old, new, libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            q.cast()
        }
    }
}

// SAFETY: every block goes to exactly one of the two allocators, chosen by its layout
// alone (`is_big`), and Rust gives a block's current layout to `dealloc` and `realloc`;
// a reallocation that crosses `BIG` moves the block from one to the other by copying.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if mapped::is_big(&l) {
            // SAFETY: `l.size()` is at least BIG.
            return unsafe { mapped::map(l.size()) };
        }
        // SAFETY: forwarded as given.
        unsafe { mimalloc::MiMalloc.alloc(l) }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if mapped::is_big(&l) {
            // SAFETY: as in `alloc`; fresh anonymous pages are zero.
            return unsafe { mapped::map(l.size()) };
        }
        // SAFETY: forwarded as given.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        #[cfg(target_os = "linux")]
        if mapped::is_big(&l) {
            // SAFETY: a block of this layout was mapped.
            return unsafe { mapped::unmap(p, l.size()) };
        }
        // SAFETY: a block of this layout came from mimalloc.
        unsafe { mimalloc::MiMalloc.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: `realloc`'s contract: the new size, rounded up to the alignment,
            // does not overflow.
            let to = unsafe { Layout::from_size_align_unchecked(new, l.align()) };
            match (mapped::is_big(&l), mapped::is_big(&to)) {
                (false, false) => {}
                // SAFETY: a mapped block, resized to a size of at least BIG.
                (true, true) => return unsafe { mapped::remap(p, l.size(), new) },
                // Across the line: a new block from the other side, the bytes copied.
                _ => {
                    // SAFETY: `to` has a non-zero size (`realloc`'s contract).
                    let q = unsafe { self.alloc(to) };
                    if !q.is_null() {
                        // SAFETY: both blocks hold at least the bytes copied, and are
                        // distinct; the old one is released once, with its layout.
                        unsafe {
                            std::ptr::copy_nonoverlapping(p, q, l.size().min(new));
                            self.dealloc(p, l);
                        }
                    }
                    return q;
                }
            }
        }
        // SAFETY: a block of mimalloc's, resized within mimalloc.
        unsafe { mimalloc::MiMalloc.realloc(p, l, new) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block filled with a pattern keeps it through reallocations that stay on either
    /// side of `BIG` and that cross it both ways.
    #[test]
    fn blocks_keep_their_bytes_across_sizes() {
        let a = Allocator;
        let fill = |p: *mut u8, n: usize| {
            for i in (0..n).step_by(4093) {
                // SAFETY: `i < n`, inside the block.
                unsafe { *p.add(i) = (i % 251) as u8 };
            }
        };
        let check = |p: *const u8, n: usize| {
            for i in (0..n).step_by(4093) {
                // SAFETY: `i < n`, inside the block.
                assert_eq!(unsafe { *p.add(i) }, (i % 251) as u8, "byte {i}");
            }
        };
        let sizes = [1 << 10, BIG - 1, BIG, 3 * BIG + 5, BIG + 1, 1 << 20, 64];
        let mut layout = Layout::from_size_align(sizes[0], 8).unwrap();
        // SAFETY: a non-zero size.
        let mut p = unsafe { a.alloc(layout) };
        assert!(!p.is_null());
        fill(p, layout.size());
        for &n in &sizes[1..] {
            // SAFETY: `p` is live with `layout`; `n` is not zero.
            p = unsafe { a.realloc(p, layout, n) };
            assert!(!p.is_null());
            check(p, layout.size().min(n));
            layout = Layout::from_size_align(n, 8).unwrap();
            fill(p, n);
        }
        // SAFETY: `p` is live with `layout`.
        unsafe { a.dealloc(p, layout) };

        let big = Layout::from_size_align(2 * BIG, 4096).unwrap();
        // SAFETY: a non-zero size.
        let z = unsafe { a.alloc_zeroed(big) };
        assert!(!z.is_null());
        assert_eq!(z as usize % 4096, 0);
        check_zero(z, big.size());
        // SAFETY: `z` is live with `big`.
        unsafe { a.dealloc(z, big) };
    }

    fn check_zero(p: *const u8, n: usize) {
        for i in (0..n).step_by(4096) {
            // SAFETY: `i < n`, inside the block.
            assert_eq!(unsafe { *p.add(i) }, 0);
        }
    }

    /// Counts its drops; carries its number and a heap string to check.
    struct Counted(usize, String, std::rc::Rc<std::cell::Cell<usize>>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.2.set(self.2.get() + 1);
        }
    }

    #[test]
    fn handing_back_freed_memory_restores_the_purge_delay() {
        unsafe extern "C" {
            fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
        }
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        keep_freed_memory();
        let n = hand_back_freed(|| {
            // SAFETY: reads an option.
            assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, 3_600_000);
            (0..1000)
                .map(|i| vec![i; 100])
                .map(|v| v.len())
                .sum::<usize>()
        });
        assert_eq!(n, 100_000);
        // SAFETY: reads an option.
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, -1);
    }

    /// Every element is seen once, in order, and dropped exactly once, whether its chunk
    /// was made or not; a big buffer's chunks hand their pages back without harm to the
    /// chunks after them.
    #[test]
    fn chunked_vectors_drop_each_element_once() {
        // 40 bytes an element: the last buffer is BIG bytes or more (20 MB).
        for (n, chunk, taken) in [
            (0, 3, 0),
            (10, 3, 4),
            (10, 3, 2),
            (10, 20, 1),
            (500_000, 65_536, 7),
        ] {
            let drops = std::rc::Rc::new(std::cell::Cell::new(0));
            let v: Vec<Counted> = (0..n)
                .map(|i| Counted(i, i.to_string(), drops.clone()))
                .collect();
            assert_eq!(std::mem::size_of::<Counted>(), 40);
            let chunked = Chunked::new(v);
            let mut seen = 0;
            for c in chunked.chunks(chunk).take(taken) {
                for e in c.iter() {
                    assert_eq!((e.0, e.1.as_str()), (seen, seen.to_string().as_str()));
                    seen += 1;
                }
                assert_eq!(drops.get(), seen - c.len(), "earlier chunks only");
            }
            assert_eq!(seen, n.min(chunk * taken));
            assert_eq!(drops.get(), seen);
            drop(chunked);
            assert_eq!(drops.get(), n, "n={n} chunk={chunk} taken={taken}");
        }
    }
}
