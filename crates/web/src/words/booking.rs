//! Words for the booking pages.
