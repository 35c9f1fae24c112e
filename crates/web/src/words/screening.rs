//! Words for the screening pages.
