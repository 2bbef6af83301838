//! Validation of identifiers: ABA routing numbers, SSNs, EINs. (Placeholder.)
