//! Pay schedules: period generation from frequency, anchor and pay-date offset. (Placeholder.)
