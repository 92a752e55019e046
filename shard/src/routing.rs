//! Key -> slot -> region -> owner core.
//!
//! A key's slot is Redis Cluster's `CRC16(key or its {hash tag}) mod 16384` (`txn::keys`). A
//! region is a contiguous slot range and one raft group; at bootstrap the slot space is split
//! evenly into `regions_per_shard x shards` regions, assigned to cores round-robin. Every core
//! holds the same read-only map (regions do not split or move yet; when they do, the map gets an
//! epoch and a stale route is retried).

use crate::error::{Error, Result};

/// Number of hash slots, as in Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// One region of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionDesc {
    /// Raft group id (1-based).
    pub id: u64,
    /// First slot.
    pub start_slot: u16,
    /// One past the last slot.
    pub end_slot: u32,
    /// The core that owns the region on this node.
    pub owner_core: usize,
}

impl RegionDesc {
    /// The slots of the region.
    pub fn slots(&self) -> std::ops::Range<u32> {
        u32::from(self.start_slot)..self.end_slot
    }
}

/// The slot -> region -> core map, identical on every core.
#[derive(Debug, Clone)]
pub struct RegionMap {
    regions: Vec<RegionDesc>,
    /// Index into `regions` for every slot.
    slot_region: Vec<u16>,
    cores: usize,
}

impl RegionMap {
    /// Splits the slots evenly into `cores * regions_per_core` regions, owned round-robin.
    pub fn bootstrap(cores: usize, regions_per_core: usize) -> Result<RegionMap> {
        let count = cores * regions_per_core;
        if cores == 0 || count == 0 || count > usize::from(SLOT_COUNT) {
            return Err(Error::Config { name: "shards", reason: format!("cannot split slots into {count} regions") });
        }
        let regions: Vec<RegionDesc> = (0..count)
            .map(|index| RegionDesc {
                id: index as u64 + 1,
                start_slot: (index * usize::from(SLOT_COUNT) / count) as u16,
                end_slot: ((index + 1) * usize::from(SLOT_COUNT) / count) as u32,
                owner_core: index % cores,
            })
            .collect();
        let mut slot_region = vec![0u16; usize::from(SLOT_COUNT)];
        for (index, region) in regions.iter().enumerate() {
            for slot in region.slots() {
                slot_region[slot as usize] = index as u16;
            }
        }
        Ok(RegionMap { regions, slot_region, cores })
    }

    /// The region holding `slot`.
    pub fn region_of_slot(&self, slot: u16) -> &RegionDesc {
        &self.regions[usize::from(self.slot_region[usize::from(slot % SLOT_COUNT)])]
    }

    /// The region holding `key`.
    pub fn region_of_key(&self, key: &[u8]) -> &RegionDesc {
        self.region_of_slot(nokv_txn::keys::slot_of(key))
    }

    /// The core that owns `key`.
    pub fn core_of_key(&self, key: &[u8]) -> usize {
        self.region_of_key(key).owner_core
    }

    /// Every region.
    pub fn regions(&self) -> &[RegionDesc] {
        &self.regions
    }

    /// The regions a core owns.
    pub fn regions_of_core(&self, core: usize) -> impl Iterator<Item = &RegionDesc> {
        self.regions.iter().filter(move |r| r.owner_core == core)
    }

    /// A region by id.
    pub fn region(&self, id: u64) -> Option<&RegionDesc> {
        id.checked_sub(1).and_then(|index| self.regions.get(index as usize))
    }

    /// Number of cores.
    pub fn cores(&self) -> usize {
        self.cores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_covers_every_slot_once() {
        let map = RegionMap::bootstrap(2, 4).expect("map");
        assert_eq!(map.regions().len(), 8);
        let covered: u32 = map.regions().iter().map(|r| r.end_slot - u32::from(r.start_slot)).sum();
        assert_eq!(covered, u32::from(SLOT_COUNT));
        assert_eq!(map.region_of_slot(0).id, 1);
        assert_eq!(map.region_of_slot(SLOT_COUNT - 1).id, 8);
        assert_eq!(map.regions_of_core(1).count(), 4);
        assert_eq!(map.region(3).map(|r| r.owner_core), Some(0));
    }

    #[test]
    fn hash_tags_route_together() {
        let map = RegionMap::bootstrap(2, 4).expect("map");
        assert_eq!(map.region_of_key(b"{user1000}.following").id, map.region_of_key(b"{user1000}.followers").id);
    }

    #[test]
    fn rejects_impossible_splits() {
        assert!(RegionMap::bootstrap(0, 4).is_err());
    }
}
