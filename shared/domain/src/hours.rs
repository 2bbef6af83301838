//! Hours: workweeks and overtime classification. (Placeholder: being written.)
