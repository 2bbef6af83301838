//! Federal taxes. (Placeholder.)
