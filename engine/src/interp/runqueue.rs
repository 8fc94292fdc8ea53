//! The runnable threads: a set of thread ids that also finds its k-th smallest in O(log n).
//!
//! The seeded scheduler picks "the k-th runnable thread in id order" (CB-12: the seed alone
//! decides the interleaving). A `BTreeSet` finds the k-th element by walking k of them, which
//! made a parallel step of many branches quadratic; a Fenwick tree over the ids (they are
//! handed out densely, 0, 1, 2, …) keeps every operation logarithmic and the picks the same.

use super::thread::ThreadId;

#[derive(Debug, Default)]
pub(crate) struct RunQueue {
    present: Vec<bool>,
    /// Fenwick tree, 1-based: `tree[i]` counts the present ids in `(i - lowbit(i), i]`.
    tree: Vec<u32>,
    len: usize,
}

impl RunQueue {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn clear(&mut self) {
        *self = RunQueue::default();
    }

    pub(crate) fn contains(&self, ThreadId(id): ThreadId) -> bool {
        usize::try_from(id).is_ok_and(|i| self.present.get(i).copied().unwrap_or(false))
    }

    /// Adds `tid`; adding one already there does nothing.
    pub(crate) fn insert(&mut self, ThreadId(id): ThreadId) {
        let i = usize::try_from(id).expect("thread ids fit in memory");
        if i >= self.present.len() {
            self.grow(i + 1);
        }
        if !self.present[i] {
            self.present[i] = true;
            self.len += 1;
            self.add(i, 1);
        }
    }

    /// Removes `tid`; returns whether it was there.
    pub(crate) fn remove(&mut self, ThreadId(id): ThreadId) -> bool {
        let Some(i) = usize::try_from(id).ok().filter(|&i| i < self.present.len()) else {
            return false;
        };
        if !self.present[i] {
            return false;
        }
        self.present[i] = false;
        self.len -= 1;
        self.add(i, -1);
        true
    }

    /// The `k`-th smallest id (0-based), if there are more than `k`.
    pub(crate) fn nth(&self, k: usize) -> Option<ThreadId> {
        if k >= self.len {
            return None;
        }
        let n = self.present.len();
        let mut pos = 0;
        let mut rest = k as u32 + 1;
        let mut step = n.checked_next_power_of_two().unwrap_or(n);
        while step > 0 {
            if pos + step <= n && self.tree[pos + step] < rest {
                pos += step;
                rest -= self.tree[pos];
            }
            step /= 2;
        }
        Some(ThreadId(pos as u64))
    }

    fn add(&mut self, i: usize, delta: i32) {
        let mut p = i + 1;
        while p < self.tree.len() {
            self.tree[p] = self.tree[p].wrapping_add_signed(delta);
            p += p & p.wrapping_neg();
        }
    }

    /// Room for ids below `at_least`, at least doubling, with the tree rebuilt in O(n).
    fn grow(&mut self, at_least: usize) {
        let n = at_least.max(self.present.len() * 2).max(16);
        self.present.resize(n, false);
        self.tree = vec![0; n + 1];
        for (i, &here) in self.present.iter().enumerate() {
            self.tree[i + 1] += u32::from(here);
        }
        for p in 1..=n {
            let parent = p + (p & p.wrapping_neg());
            if parent <= n {
                self.tree[parent] += self.tree[p];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The queue picks exactly what a `BTreeSet`'s `iter().nth(k)` would, through inserts,
    /// removals and growth, in a seeded mix of operations.
    #[test]
    fn nth_agrees_with_an_ordered_set() {
        let mut q = RunQueue::default();
        let mut set = BTreeSet::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = ThreadId(x % 300);
            match x % 3 {
                0 | 1 => {
                    q.insert(id);
                    set.insert(id);
                }
                _ => assert_eq!(q.remove(id), set.remove(&id)),
            }
            assert_eq!(q.len(), set.len());
            let k = (x >> 20) as usize % (set.len() + 1);
            assert_eq!(q.nth(k), set.iter().nth(k).copied(), "k = {k}");
        }
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.nth(0), None);
    }

    /// However far the first id lands (so the tree is of any size, not only a power of
    /// two), the queue finds it and the one before it.
    #[test]
    fn any_first_id_grows_a_tree_that_works() {
        for first in 0..300 {
            let mut q = RunQueue::default();
            q.insert(ThreadId(first));
            q.insert(ThreadId(0));
            let second = if first == 0 {
                None
            } else {
                Some(ThreadId(first))
            };
            assert_eq!((q.nth(0), q.nth(1)), (Some(ThreadId(0)), second), "{first}");
            assert!(q.remove(ThreadId(first)));
        }
    }

    /// The room at least doubles as ids grow one by one, so growing costs O(1) amortized.
    #[test]
    fn room_doubles() {
        let mut q = RunQueue::default();
        let mut rooms = Vec::new();
        for id in 0..100 {
            q.insert(ThreadId(id));
            if rooms.last() != Some(&q.present.len()) {
                rooms.push(q.present.len());
            }
        }
        assert_eq!(rooms, [16, 32, 64, 128]);
    }

    /// Removing a thread the queue never held is `false` wherever its id falls: inside the
    /// room grown so far, at its end, or past it.
    #[test]
    fn removing_what_is_not_there() {
        let mut q = RunQueue::default();
        q.insert(ThreadId(3));
        let room = q.present.len() as u64;
        for id in [room - 1, room, room + 1] {
            assert!(!q.remove(ThreadId(id)), "{id}");
        }
        assert!(q.remove(ThreadId(3)));
        assert!(q.is_empty());
    }
}
