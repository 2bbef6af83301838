//! Two-level cache. (Placeholder: being written.)
pub struct Cache;
