//! The walk every per-kind differ shares: each key of a catalog collection once, with the object as it
//! stands on each side.

use indexmap::IndexMap;
use std::hash::Hash;

/// An object of a keyed collection, as it stands in the current and the declared catalog.
pub(super) enum Sides<'a, V> {
    /// Only the declared catalog has it.
    Created(&'a V),
    /// Both have it (`have`, `want`), equal or not.
    Both(&'a V, &'a V),
    /// Only the current catalog has it.
    Dropped(&'a V),
}

/// Each key of `current` and `desired` once: the declared keys in their order, then the keys only
/// `current` has, in its order. Every differ lists its changes in this order, so plans are
/// byte-deterministic.
pub(super) fn keyed<'a, K: Hash + Eq, V>(
    current: &'a IndexMap<K, V>,
    desired: &'a IndexMap<K, V>,
) -> impl Iterator<Item = (&'a K, Sides<'a, V>)> {
    let declared = desired.iter().map(|(key, want)| match current.get(key) {
        Some(have) => (key, Sides::Both(have, want)),
        None => (key, Sides::Created(want)),
    });
    let dropped =
        current.iter().filter(|(key, _)| !desired.contains_key(*key)).map(|(key, have)| (key, Sides::Dropped(have)));
    declared.chain(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_keys_come_first_in_their_order_then_the_dropped_ones_in_theirs() {
        let current: IndexMap<&str, i32> = [("b", 1), ("x", 2), ("a", 3), ("y", 4)].into_iter().collect();
        let desired: IndexMap<&str, i32> = [("a", 3), ("new", 5), ("b", 9)].into_iter().collect();
        let walked: Vec<String> = keyed(&current, &desired)
            .map(|(key, sides)| match sides {
                Sides::Created(w) => format!("+{key}={w}"),
                Sides::Both(h, w) => format!("{key}:{h}->{w}"),
                Sides::Dropped(h) => format!("-{key}={h}"),
            })
            .collect();
        assert_eq!(walked, ["a:3->3", "+new=5", "b:1->9", "-x=2", "-y=4"]);
    }
}
