//! SSTables: data blocks with restart points and lz4, index block, bloom filter, footer.
