//! Idempotency-Key records. (Placeholder: being written.)
