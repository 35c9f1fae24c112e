//! Words for the plan pages.
