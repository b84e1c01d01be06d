//! A Fenwick (binary indexed) tree: position ↔ slot for the list and for
//! its filter, both in O(log n).

/// A Fenwick (binary indexed) tree over the slots, each counting 1 while
/// its user is present: prefix sums give a slot's position, and a descent
/// finds the slot at a position, both in O(log n). It grows by appending.
#[derive(Clone, Debug, Default)]
pub(super) struct Ranks {
    /// 1-based: `tree[i - 1]` sums the slots `(i - lowbit(i), i]`.
    tree: Vec<i64>,
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Ranks {
    /// `count` slots, each counting 1: node `i` covers `lowbit(i)` slots.
    pub(super) fn all_present(count: usize) -> Self {
        Self {
            tree: (1..=count).map(|i| lowbit(i) as i64).collect(),
        }
    }

    /// One slot per flag, counting 1 where it is set; built in O(n) by
    /// adding each node into the one above it.
    pub(super) fn from_flags(flags: &[bool]) -> Self {
        let mut tree: Vec<i64> = flags.iter().map(|&flag| i64::from(flag)).collect();
        let n = tree.len();
        for i in 1..=n {
            let parent = i + lowbit(i);
            if parent <= n {
                tree[parent - 1] += tree[i - 1];
            }
        }
        Self { tree }
    }

    /// The sum over every slot.
    pub(super) fn total(&self) -> usize {
        self.prefix(self.tree.len()) as usize
    }

    /// Appends a slot counting `value`.
    pub(super) fn push(&mut self, value: i64) {
        let i = self.tree.len() + 1;
        // The new node covers (i - lowbit(i), i]: its own value plus the
        // slots before it in that range.
        let covered = self.prefix(i - 1) - self.prefix(i - lowbit(i));
        self.tree.push(value + covered);
    }

    /// Adds `delta` to slot `slot` (0-based).
    pub(super) fn add(&mut self, slot: usize, delta: i64) {
        let mut i = slot + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] += delta;
            i += lowbit(i);
        }
    }

    /// The sum over the first `count` slots.
    pub(super) fn prefix(&self, count: usize) -> i64 {
        let mut sum = 0;
        let mut i = count;
        while i > 0 {
            sum += self.tree[i - 1];
            i -= lowbit(i);
        }
        sum
    }

    /// How many present slots come before `slot`.
    pub(super) fn live_before(&self, slot: usize) -> usize {
        self.prefix(slot) as usize
    }

    /// The slot holding the present user at `rank` (0-based); the caller
    /// checks that there are more than `rank` present users.
    pub(super) fn slot_of_rank(&self, rank: usize) -> usize {
        let n = self.tree.len();
        let mut remaining = rank as i64;
        let mut pos = 0;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next - 1] <= remaining {
                pos = next;
                remaining -= self.tree[next - 1];
            }
            step >>= 1;
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_from_flags_it_agrees_with_one_built_by_pushing() {
        let flags: Vec<bool> = (0..1_000).map(|i| i % 3 == 0 || i % 7 == 0).collect();
        let built = Ranks::from_flags(&flags);
        let mut pushed = Ranks::default();
        for &flag in &flags {
            pushed.push(i64::from(flag));
        }
        assert_eq!(built.tree, pushed.tree);
        let set: Vec<usize> = (0..flags.len()).filter(|&i| flags[i]).collect();
        assert_eq!(built.total(), set.len());
        for (rank, &slot) in set.iter().enumerate() {
            assert_eq!(built.slot_of_rank(rank), slot);
            assert_eq!(built.live_before(slot), rank);
        }
        assert_eq!(
            Ranks::all_present(37).tree,
            Ranks::from_flags(&[true; 37]).tree
        );
    }
}
