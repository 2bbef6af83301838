//! AES-256-GCM field encryption. (Placeholder: being written.)
pub struct DataKey;
