//! The worker's memory budget: a global allocator that counts live bytes and refuses an
//! allocation that would pass the limit. A refused allocation ends in Rust's allocation
//! error handler, which prints `memory allocation of N bytes failed` and aborts; the parent
//! reads that line and records "memory budget". Counting in-process is exact and portable,
//! where watching the process from outside (RSS, rlimits) is neither.
//!
//! The one `unsafe` code of the project: `GlobalAlloc` is an unsafe trait. Every method
//! only forwards to [`System`] with the caller's own arguments.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// [`System`], counting, with an optional limit on live bytes.
#[derive(Debug)]
pub struct Budgeted {
    live: AtomicUsize,
    limit: AtomicUsize,
}

impl Budgeted {
    /// No limit until [`Budgeted::set_limit`].
    pub const fn new() -> Budgeted {
        Budgeted {
            live: AtomicUsize::new(0),
            limit: AtomicUsize::new(usize::MAX),
        }
    }

    pub fn set_limit(&self, bytes: usize) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Counts `size` more bytes, unless that would pass the limit.
    fn reserve(&self, size: usize) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        self.live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                live.checked_add(size).filter(|&n| n <= limit)
            })
            .is_ok()
    }

    fn release(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }
}

impl Default for Budgeted {
    fn default() -> Budgeted {
        Budgeted::new()
    }
}

// SAFETY: each method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counting around the calls touches no memory it hands out.
unsafe impl GlobalAlloc for Budgeted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            self.release(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !self.reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            self.release(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        self.release(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !self.reserve(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's pointer, layout and size, as `GlobalAlloc::realloc` requires.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                self.release(new_size - old);
            }
        } else if new_size < old {
            self.release(old - new_size);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_refuses_past_the_limit() {
        let a = Budgeted::new();
        a.set_limit(100);
        let small = Layout::from_size_align(60, 8).unwrap();
        // SAFETY: matched alloc/dealloc pairs with the same layout.
        unsafe {
            let p = a.alloc(small);
            assert!(!p.is_null());
            assert_eq!(a.live(), 60);
            assert!(a.alloc(small).is_null(), "120 bytes would pass the limit");
            assert_eq!(a.live(), 60);
            let q = a.realloc(p, small, 90);
            assert!(!q.is_null());
            assert_eq!(a.live(), 90);
            assert!(
                a.realloc(q, Layout::from_size_align(90, 8).unwrap(), 200)
                    .is_null()
            );
            assert_eq!(a.live(), 90);
            let r = a.realloc(q, Layout::from_size_align(90, 8).unwrap(), 10);
            assert_eq!(a.live(), 10);
            a.dealloc(r, Layout::from_size_align(10, 8).unwrap());
        }
        assert_eq!(a.live(), 0);
    }
}
