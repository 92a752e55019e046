//! [`SmallBytes`]: the row cache's keys and values, kept inline in the cache's own entry when
//! short.
//!
//! A row cache hit used to follow three pointers after the hash table: the entry, the key's
//! bytes (compared with the wanted key) and the value's shared buffer (its reference count,
//! bumped by the clone handed to the reader). On a cache larger than the CPU's, each is a
//! memory miss: together a third of a `GET -P16`'s time (`perf/results/net-and-row-cache-2026-12-05.md`).
//! With the bytes inline, a hit reads the table and the entry only.

use bytes::Bytes;

/// Bytes kept inline: the enum is then as large as two words more than `Bytes`.
pub(super) const INLINE_BYTES: usize = 46;

/// A byte string, inline up to [`INLINE_BYTES`], shared otherwise.
#[derive(Clone)]
pub(super) enum SmallBytes {
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    Shared(Bytes),
}

impl SmallBytes {
    /// A copy of `bytes`: never a slice of another buffer, which the row would keep alive
    /// whole (a raft entry of hundreds of merged writes, a decompressed SST block) while its
    /// weight counts only its own bytes.
    pub(super) fn copy_from(bytes: &[u8]) -> SmallBytes {
        Self::inline(bytes).unwrap_or_else(|| SmallBytes::Shared(Bytes::copy_from_slice(bytes)))
    }

    fn inline(bytes: &[u8]) -> Option<SmallBytes> {
        let len = u8::try_from(bytes.len()).ok().filter(|&len| usize::from(len) <= INLINE_BYTES)?;
        let mut inline = [0; INLINE_BYTES];
        inline[..bytes.len()].copy_from_slice(bytes);
        Some(SmallBytes::Inline { len, bytes: inline })
    }

    /// Makes these bytes a copy of `bytes` in their own memory, if they are as long and
    /// nothing else shares them; false (and unchanged) otherwise.
    pub(super) fn overwrite(&mut self, bytes: &[u8]) -> bool {
        if self.len() != bytes.len() {
            return false;
        }
        match self {
            SmallBytes::Inline { bytes: inline, .. } => inline[..bytes.len()].copy_from_slice(bytes),
            SmallBytes::Shared(shared) => {
                let taken = std::mem::take(shared);
                match taken.try_into_mut() {
                    Ok(mut unique) => {
                        unique.copy_from_slice(bytes);
                        *shared = unique.freeze();
                    }
                    Err(taken) => {
                        *shared = taken;
                        return false;
                    }
                }
            }
        }
        true
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            SmallBytes::Shared(bytes) => bytes,
        }
    }

    /// The bytes as `Bytes`: a copy when inline (cheaper than sharing for short values: no
    /// reference count in another cache line).
    pub(super) fn to_bytes(&self) -> Bytes {
        match self {
            SmallBytes::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            SmallBytes::Shared(bytes) => bytes.clone(),
        }
    }

    /// Reads the first byte of out-of-line bytes, so that a caller about to use many values
    /// can let their cache misses overlap (inline bytes were read with their entry).
    pub(super) fn warm(&self) {
        if let SmallBytes::Shared(bytes) = self {
            std::hint::black_box(bytes.first().copied());
        }
    }

    pub(super) fn len(&self) -> usize {
        self.as_slice().len()
    }
}

// Equality is the slice's, whichever the form.
impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", Bytes::copy_from_slice(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bytes_live_inline_and_long_ones_are_copied_exactly() {
        assert!(matches!(SmallBytes::copy_from(b"key:000000012345"), SmallBytes::Inline { len: 16, .. }));
        assert!(matches!(SmallBytes::copy_from(&[1; INLINE_BYTES]), SmallBytes::Inline { .. }));
        let buffer = Bytes::from(vec![7; 4096]);
        let long = buffer.slice(100..100 + INLINE_BYTES + 1);
        let SmallBytes::Shared(shared) = SmallBytes::copy_from(&long) else { panic!("long bytes are shared") };
        assert_eq!(shared, long);
        assert!(!buffer.as_ptr_range().contains(&shared.as_ptr()), "a copy, not a slice of the big buffer");
        assert_eq!(SmallBytes::copy_from(b"").as_slice(), b"");
        assert_eq!(std::mem::size_of::<SmallBytes>(), 48);
    }

    #[test]
    fn an_overwrite_needs_the_same_length_and_sole_ownership() {
        let mut inline = SmallBytes::copy_from(b"apple");
        assert!(inline.overwrite(b"mango"));
        assert_eq!(inline.as_slice(), b"mango");
        assert!(!inline.overwrite(b"kiwi"));
        assert_eq!(inline.as_slice(), b"mango");
        let mut shared = SmallBytes::copy_from(&[1; 100]);
        let held = shared.to_bytes();
        assert!(!shared.overwrite(&[2; 100]), "a reader holds the buffer");
        assert_eq!(shared.as_slice(), &[1; 100]);
        drop(held);
        assert!(shared.overwrite(&[3; 100]));
        assert_eq!(shared.as_slice(), &[3; 100]);
        assert!(!shared.overwrite(&[4; 99]));
    }

    #[test]
    fn both_forms_compare_as_their_bytes() {
        let inline = SmallBytes::copy_from(b"apple");
        let shared = SmallBytes::Shared(Bytes::from_static(b"apple"));
        assert_eq!(inline, shared);
        assert_ne!(inline, SmallBytes::copy_from(b"apples"));
        assert_eq!(shared.to_bytes(), Bytes::from_static(b"apple"));
        assert_eq!(SmallBytes::copy_from(b"pear").to_bytes(), Bytes::from_static(b"pear"));
    }
}
