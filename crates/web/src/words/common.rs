//! Words for the common pages.
